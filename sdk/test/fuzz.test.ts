// Fuzzing the SDK's parsers of what comes from outside (server messages, tokens, SDP
// fragments): seeded random and mutated inputs, thousands per run. They must never throw —
// except decodeToken, whose only error is a StageError — and never hang.
import { describe, expect, it } from 'vitest';
import { StageError } from '../src/stage-error';
import { applyRestartAnswer, iceCredentials, parseRestartAnswer } from '../src/sdp';
import { decodeToken } from '../src/token';
import { parseServerMessage } from '../src/wire';

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '{"type":"STAGE_STATE","payload":{"stageId":"s","sessionId":null,"participants":[{"id":"a","userId":"u","attributes":{"k":"v"},"isPublishing":true,"streams":["audio","video"],"audioMuted":false,"videoStopped":true,"capabilities":["PUBLISH"]}]}}',
  '{"type":"DISCONNECTED","payload":{"reason":"STAGE_DELETED","message":"bye"}}',
  '{"type":"TOKEN_EXCHANGED","payload":{"capabilities":["SUBSCRIBE"]}}',
  '{"type":"PONG"}',
];
const PIECES = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-0', '"__proto__"', '"constructor"', '\\u0000', '"id"', '"participants"', '"payload"', '"type"', '"STAGE_STATE"'];

function mutate(input: string, next: () => number): string {
  let s = input;
  const edits = 1 + Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (s.length + 1));
    const op = next();
    if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(next() * 8));
    else if (op < 0.8) s = s.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + s.slice(at);
    else s = s.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + s.slice(at);
  }
  return s;
}

describe('fuzz', () => {
  it('parseServerMessage never throws', () => {
    const next = rng(1);
    for (let i = 0; i < 20_000; i++) {
      const input = mutate(SEEDS[i % SEEDS.length] ?? '', next);
      expect(() => parseServerMessage(input)).not.toThrow();
    }
  });

  it('parsed participants are well-typed whatever the input', () => {
    const next = rng(2);
    for (let i = 0; i < 5_000; i++) {
      const m = parseServerMessage(mutate(SEEDS[0] ?? '', next));
      if (m?.type !== 'STAGE_STATE') continue;
      for (const p of m.participants) {
        expect(typeof p.id).toBe('string');
        expect(Array.isArray(p.streams) && p.streams.every((s) => typeof s === 'string')).toBe(true);
        expect(Object.values(p.attributes).every((v) => typeof v === 'string')).toBe(true);
      }
    }
  });

  it('decodeToken throws only StageErrors', () => {
    const next = rng(3);
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const claims = '{"jti":"p","topic":"t","resource":"r","whip_url":"http://x/whip","events_url":"ws://x/events","exp":2000000000,"attributes":{"a":"b"},"capabilities":{"allow_publish":true}}';
    for (let i = 0; i < 20_000; i++) {
      const token = i % 2 === 0 ? `h.${b64(mutate(claims, next))}.s` : mutate(`h.${b64(claims)}.s`, next);
      try {
        decodeToken(token, 0);
      } catch (e) {
        expect(e).toBeInstanceOf(StageError);
      }
    }
  });

  it('the SDP helpers never throw on any fragment', () => {
    const next = rng(4);
    const seed = 'a=ice-lite\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123\r\na=candidate:1 1 udp 1 10.0.0.1 7801 typ host\r\na=end-of-candidates\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n';
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(seed, next);
      expect(() => {
        iceCredentials(input);
        const r = parseRestartAnswer(input);
        if (r) applyRestartAnswer(seed, r);
      }).not.toThrow();
    }
  });
});
