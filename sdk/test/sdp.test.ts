import { describe, expect, it } from 'vitest';
import { backoffMs, shouldRetry, RETRY_WINDOW_MS } from '../src/retry-policy';
import { applyRestartAnswer, iceCredentials, parseRestartAnswer, restartFragment } from '../src/sdp';

const answer = [
  'v=0',
  'o=- 1 2 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=ice-lite',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:old1',
  'a=ice-pwd:oldpassword',
  'a=candidate:1 1 udp 2130706431 127.0.0.1 7801 typ host',
  'a=end-of-candidates',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:old1',
  'a=ice-pwd:oldpassword',
  'a=candidate:1 1 udp 2130706431 127.0.0.1 7801 typ host',
  'a=end-of-candidates',
  '',
].join('\r\n');

describe('ICE restart SDP', () => {
  it('reads credentials and writes the PATCH fragment', () => {
    expect(iceCredentials(answer)).toEqual({ ufrag: 'old1', pwd: 'oldpassword' });
    expect(iceCredentials('v=0\r\n')).toBeUndefined();
    expect(restartFragment({ ufrag: 'u', pwd: 'p' })).toBe('a=ice-ufrag:u\r\na=ice-pwd:p\r\n');
  });

  it("folds the server's restart answer into the remote description", () => {
    const restart = parseRestartAnswer('a=ice-lite\r\na=ice-ufrag:new2\r\na=ice-pwd:newpassword\r\na=candidate:2 1 udp 2130706431 10.0.0.1 7802 typ host\r\na=end-of-candidates\r\n');
    expect(restart).toBeDefined();
    if (!restart) return;
    const sdp = applyRestartAnswer(answer, restart);
    expect(sdp).not.toContain('old1');
    expect(sdp.match(/a=ice-ufrag:new2/g)).toHaveLength(2);
    expect(sdp.match(/a=candidate:2 1 udp 2130706431 10.0.0.1 7802 typ host/g)).toHaveLength(2);
    expect(sdp).not.toContain('127.0.0.1 7801');
    expect(sdp.match(/a=end-of-candidates/g)).toHaveLength(2);
  });

  it('keeps the candidates when the answer has none', () => {
    const sdp = applyRestartAnswer(answer, { ufrag: 'n', pwd: 'p', candidates: [] });
    expect(sdp.match(/127\.0\.0\.1 7801/g)).toHaveLength(2);
  });

  it('refuses a restart answer without credentials', () => {
    expect(parseRestartAnswer('a=ice-ufrag:x\r\n')).toBeUndefined();
  });
});

describe('retry policy', () => {
  it('backs off to 4 s and gives up after the window', () => {
    expect([0, 1, 2, 3, 4, 10].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(shouldRetry(0, RETRY_WINDOW_MS - 1)).toBe(true);
    expect(shouldRetry(0, RETRY_WINDOW_MS)).toBe(false);
  });
});
