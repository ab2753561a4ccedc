import { afterEach, describe, expect, it, vi } from 'vitest';
import { postOffer, WhipError } from '../src/whip-client';
import { StageErrorCategory, StageErrorCode } from '../src/stage-error';

const P = StageErrorCategory.PUBLISH_ERROR;

function answer(status: number, body: () => Promise<string>, headers: Record<string, string> = {}): Response {
  return { ok: status >= 200 && status < 300, status, url: 'http://troupe/whip', headers: new Headers(headers), text: body } as unknown as Response;
}

async function failure(p: Promise<unknown>): Promise<WhipError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WhipError) return e;
    throw new Error(`not a WhipError: ${String(e)}`);
  }
  throw new Error('did not fail');
}

describe('postOffer', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reads the answer and the session location', async () => {
    vi.stubGlobal('fetch', async () => answer(201, async () => 'v=0 answer', { Location: '/whip/session/7', ETag: '"e1"' }));
    const session = await postOffer('http://troupe/whip', 't', 'offer', P);
    expect(session).toEqual({ location: 'http://troupe/whip/session/7', answer: 'v=0 answer', etag: '"e1"', iceServers: [] });
  });

  it('reads the relays of the answer from its Link headers (RFC 9725)', async () => {
    const link =
      '<turn:10.0.0.1:3478?transport=udp>; rel="ice-server"; username="1700000000:p1"; credential="c1"; credential-type="password", ' +
      '<turns:live.example.com:443?transport=tcp>; rel="ice-server"; username="1700000000:p1"; credential="c,1"; credential-type="password"';
    vi.stubGlobal('fetch', async () => answer(201, async () => 'v=0', { Location: '/whip/session/8', Link: link }));
    const session = await postOffer('http://troupe/whip', 't', 'offer', P);
    expect(session.iceServers).toEqual([
      { urls: 'turn:10.0.0.1:3478?transport=udp', username: '1700000000:p1', credential: 'c1' },
      { urls: 'turns:live.example.com:443?transport=tcp', username: '1700000000:p1', credential: 'c,1' },
    ]);
  });

  it('a body that stalls past the timeout is a retryable network failure, not a crash', async () => {
    vi.stubGlobal('fetch', async () => answer(201, async () => { throw new DOMException('signal timed out', 'TimeoutError'); }));
    const e = await failure(postOffer('http://troupe/whip', 't', 'offer', P));
    expect(e.failure.retryable).toBe(true);
    expect(e.failure.error.code).toBe(StageErrorCode.TIMEOUT);
  });

  it('maps a refusal body, and tolerates one that is not a JSON object', async () => {
    vi.stubGlobal('fetch', async () => answer(403, async () => '{"code":"STAGE_AT_CAPACITY","message":"full"}'));
    expect((await failure(postOffer('http://troupe/whip', 't', 'offer', P))).failure.error.code).toBe(StageErrorCode.STAGE_AT_CAPACITY);
    vi.stubGlobal('fetch', async () => answer(500, async () => 'null'));
    expect((await failure(postOffer('http://troupe/whip', 't', 'offer', P))).failure.error.code).toBeTypeOf('number');
  });
});
