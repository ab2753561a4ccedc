import { describe, expect, it } from 'vitest';
import { closeOutcome, httpFailure, networkFailure, StageErrorCategory, StageErrorCode } from '../src/stage-error';

const P = StageErrorCategory.PUBLISH_ERROR;

describe('httpFailure', () => {
  it.each([
    [401, 'TOKEN_MALFORMED', StageErrorCode.TOKEN_MALFORMED],
    [401, 'TOKEN_EXPIRED', StageErrorCode.TOKEN_EXPIRED],
    [403, 'TOKEN_NOT_ALLOWED', StageErrorCode.TOKEN_NOT_ALLOWED],
    [403, 'STAGE_AT_CAPACITY', StageErrorCode.STAGE_AT_CAPACITY],
    [403, 'PARTICIPANT_DISCONNECTED', StageErrorCode.PARTICIPANT_DISCONNECTED],
    [404, 'STAGE_DELETED', StageErrorCode.STAGE_DELETED],
    [406, 'CODEC_MISMATCH', StageErrorCode.CODEC_MISMATCH],
    [400, 'INVALID_INPUT', StageErrorCode.FAILED],
  ])('%i %s → %s, final', (status, code, expected) => {
    const f = httpFailure(status, { code, message: 'why' }, P, 'p1');
    expect(f.error.code).toBe(expected);
    expect(f.error.category).toBe(P);
    expect(f.error.participantId).toBe('p1');
    expect(f.error.message).toContain('why');
    expect(f.retryable).toBe(false);
  });

  it('retries server errors and answers without a usable body', () => {
    expect(httpFailure(503, undefined, P).retryable).toBe(true);
    expect(httpFailure(502, { code: 42 }, P).error.code).toBe(StageErrorCode.FAILED);
    expect(httpFailure(401, undefined, P).error.code).toBe(StageErrorCode.TOKEN_MALFORMED);
    expect(httpFailure(406, undefined, P).error.code).toBe(StageErrorCode.CODEC_MISMATCH);
  });

  it('treats a publisher that went away as no error to show', () => {
    const f = httpFailure(404, { code: 'PUBLISHER_NOT_FOUND' }, StageErrorCategory.SUBSCRIBE_ERROR);
    expect(f.publisherGone).toBe(true);
    expect(f.retryable).toBe(false);
  });
});

describe('networkFailure', () => {
  it('tells a timeout from other failures', () => {
    expect(networkFailure(P, new DOMException('t', 'TimeoutError')).code).toBe(StageErrorCode.TIMEOUT);
    expect(networkFailure(P, new TypeError('Failed to fetch')).code).toBe(StageErrorCode.FAILED);
  });
});

describe('closeOutcome', () => {
  it.each([
    [4001, 'PARTICIPANT_DISCONNECTED', StageErrorCode.PARTICIPANT_DISCONNECTED],
    [4002, 'STAGE_DELETED', StageErrorCode.STAGE_DELETED],
    [4003, 'TOKEN_EXPIRED', StageErrorCode.TOKEN_EXPIRED],
    [4401, 'TOKEN_EXPIRED', StageErrorCode.TOKEN_EXPIRED],
    [4401, 'TOKEN_MALFORMED', StageErrorCode.TOKEN_MALFORMED],
    [4403, 'TOKEN_NOT_ALLOWED', StageErrorCode.TOKEN_NOT_ALLOWED],
    [4422, 'INVALID_PAYLOAD', StageErrorCode.FAILED],
  ])('%i %s ends the stage with %s', (code, reason, expected) => {
    const o = closeOutcome(code, reason);
    expect(o.reconnect).toBe(false);
    expect(o.error?.code).toBe(expected);
    expect(o.error?.category).toBe(StageErrorCategory.JOIN_ERROR);
  });

  it('reconnects after drops, a server shutdown and a hub gone while connecting; leaves quietly when replaced', () => {
    expect(closeOutcome(1006, '')).toEqual({ error: undefined, reconnect: true });
    expect(closeOutcome(4500, 'STAGE_UNAVAILABLE')).toEqual({ error: undefined, reconnect: true });
    expect(closeOutcome(1001, '')).toEqual({ error: undefined, reconnect: true });
    expect(closeOutcome(4005, 'SERVER_SHUTDOWN')).toEqual({ error: undefined, reconnect: true });
    expect(closeOutcome(4004, 'REPLACED')).toEqual({ error: undefined, reconnect: false });
  });
});
