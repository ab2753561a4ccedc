import { describe, expect, it } from 'vitest';
import { IceServerCache, parseIceServerLinks, sameIceServers } from '../src/ice-servers';

describe('parseIceServerLinks', () => {
  it('takes ice-server links with their credentials and ignores other links', () => {
    const header = [
      '</whip/session/1>; rel="self"',
      '<stun:stun.example.com:3478>; rel=ice-server',
      '<turn:1.2.3.4:3478?transport=tcp>;rel="ice-server";username="u";credential="p\\"q";credential-type="password"',
    ].join(', ');
    expect(parseIceServerLinks(header)).toEqual([
      { urls: 'stun:stun.example.com:3478' },
      { urls: 'turn:1.2.3.4:3478?transport=tcp', username: 'u', credential: 'p"q' },
    ]);
  });

  it('drops what a browser would refuse: TURN without credentials, other schemes, garbage', () => {
    expect(parseIceServerLinks('<turn:1.2.3.4>; rel="ice-server"')).toEqual([]);
    expect(parseIceServerLinks('<https://x/>; rel="ice-server"')).toEqual([]);
    expect(parseIceServerLinks('not a link, <<<>>>; ;;; =')).toEqual([]);
    expect(parseIceServerLinks(null)).toEqual([]);
    expect(parseIceServerLinks('')).toEqual([]);
  });

  it('never throws on arbitrary input', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = '<>;,="\\ turn:ice-server username credential rel 0123456789';
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = 0; j < random() * 80; j++) s += alphabet[Math.floor(random() * alphabet.length)];
      expect(Array.isArray(parseIceServerLinks(s))).toBe(true);
    }
  });
});

describe('IceServerCache', () => {
  const servers = (expiry: number) => [{ urls: 'turn:1.2.3.4:3478', username: `${expiry}:p`, credential: 'c' }];

  it('serves the latest servers until a minute before their credentials expire', () => {
    let now = 1_700_000_000_000;
    const cache = new IceServerCache(() => now);
    expect(cache.current()).toEqual([]);
    cache.update(servers(1_700_000_600));
    expect(cache.current()).toEqual(servers(1_700_000_600));
    cache.update([]);
    expect(cache.current()).toEqual(servers(1_700_000_600), 'an answer without links keeps what is known');
    now = 1_700_000_541_000;
    expect(cache.current()).toEqual([]);
    cache.update(servers(1_700_001_200));
    expect(cache.current()).toEqual(servers(1_700_001_200));
  });

  it('gives new connections the relays only once one connection needed them', () => {
    const cache = new IceServerCache(() => 1_700_000_000_000);
    cache.update(servers(1_700_000_600));
    expect(cache.forNewConnection()).toEqual([]);
    expect(cache.current()).toEqual(servers(1_700_000_600), 'known, for a fallback attempt');
    cache.markNeeded();
    expect(cache.forNewConnection()).toEqual(servers(1_700_000_600));
  });

  it('compares server lists', () => {
    expect(sameIceServers(undefined, [])).toBe(true);
    expect(sameIceServers(servers(1), servers(1))).toBe(true);
    expect(sameIceServers(servers(1), servers(2))).toBe(false);
  });
});
