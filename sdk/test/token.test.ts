import { describe, expect, it } from 'vitest';
import { StageErrorCode } from '../src/stage-error';
import { decodeToken, sameParticipant } from '../src/token';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claims = {
  jti: 'p1',
  topic: 's1',
  resource: 'arn:aws:ivs:us-east-1:000000000000:stage/s1',
  whip_url: 'http://127.0.0.1:7800/whip',
  events_url: 'ws://127.0.0.1:7800/events',
  user_id: 'ann',
  attributes: { name: 'Ann', n: 3 },
  capabilities: { allow_publish: true, allow_subscribe: false },
  exp: 2_000_000_000,
};
const jwt = (c: unknown) => `${b64({ alg: 'ES384' })}.${b64(c)}.sig`;

describe('decodeToken', () => {
  it('reads the claims the SDK needs', () => {
    const t = decodeToken(jwt(claims), 1_900_000_000);
    expect(t).toMatchObject({ jti: 'p1', topic: 's1', whipUrl: claims.whip_url, eventsUrl: claims.events_url, userId: 'ann', canPublish: true, canSubscribe: false });
    expect(t.attributes).toEqual({ name: 'Ann' });
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['two parts', 'a.b'],
    ['not base64', 'a.@@@.c'],
    ['not JSON', `a.${Buffer.from('nope').toString('base64url')}.c`],
    ['an array', jwt([1])],
    ['no jti', jwt({ ...claims, jti: undefined })],
    ['no exp', jwt({ ...claims, exp: 'soon' })],
    ['no whip_url', jwt({ ...claims, whip_url: '' })],
  ])('refuses %s as TOKEN_MALFORMED', (_, token) => {
    expect(() => decodeToken(token)).toThrowError(expect.objectContaining({ code: StageErrorCode.TOKEN_MALFORMED }));
  });

  it('refuses an expired token as TOKEN_EXPIRED, with some leeway for clocks', () => {
    expect(() => decodeToken(jwt(claims), claims.exp + 60)).toThrowError(expect.objectContaining({ code: StageErrorCode.TOKEN_EXPIRED }));
    expect(decodeToken(jwt(claims), claims.exp + 10).jti).toBe('p1');
  });

  it('knows what an exchanged token must keep', () => {
    const a = decodeToken(jwt(claims), 0);
    expect(sameParticipant(a, decodeToken(jwt({ ...claims, attributes: { x: 'y' }, exp: claims.exp + 1 }), 0))).toBeUndefined();
    expect(sameParticipant(a, decodeToken(jwt({ ...claims, jti: 'p2' }), 0))).toBe('jti');
    expect(sameParticipant(a, decodeToken(jwt({ ...claims, whip_url: 'http://x/whip' }), 0))).toBe('whipUrl');
  });
});
