// The ICE servers (TURN relays) Troupe hands out with each WHIP answer, as RFC 9725 §4.6
// `Link: <turn:…>; rel="ice-server"; username=…; credential=…` headers. The SDK keeps the latest
// per stage and uses them on its next attempt: a connection that does not connect directly
// (UDP, or ICE over TCP) soon tries again through them, and once one connection of the stage
// needed them, the stage's next connections start with them. Relays only where the network
// needs them: a relayed path costs the server more and adds a hop.

/** Parses the `Link` header value(s) of a WHIP answer into ICE servers (others are ignored). */
export function parseIceServerLinks(header: string | null | undefined): RTCIceServer[] {
  if (!header) return [];
  const servers: RTCIceServer[] = [];
  for (const link of splitLinks(header)) {
    const match = /^\s*<([^>]*)>(.*)$/s.exec(link);
    if (!match) continue;
    const url = match[1].trim();
    const params = parseParams(match[2]);
    const rels = (params.get('rel') ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes('ice-server')) continue;
    if (!/^(stuns?|turns?):/i.test(url)) continue;
    const server: RTCIceServer = { urls: url };
    const username = params.get('username');
    const credential = params.get('credential');
    if (username !== undefined) server.username = username;
    if (credential !== undefined) server.credential = credential;
    // TURN needs both (a browser refuses an RTCIceServer that has one without the other).
    if (/^turns?:/i.test(url) && (server.username === undefined || server.credential === undefined)) continue;
    servers.push(server);
  }
  return servers;
}

/** Splits a Link header at the commas between links (not those inside <…> or quotes). */
function splitLinks(header: string): string[] {
  const out: string[] = [];
  let current = '';
  let inUri = false;
  let inQuote = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (inQuote) {
      current += c;
      if (c === '\\' && i + 1 < header.length) current += header[++i];
      else if (c === '"') inQuote = false;
      continue;
    }
    if (c === '<') inUri = true;
    else if (c === '>') inUri = false;
    else if (c === '"' && !inUri) inQuote = true;
    else if (c === ',' && !inUri) {
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current);
  return out.filter((l) => l.trim().length > 0);
}

/** `; name="value"; name=token` → a map (names lower-cased, values unquoted). */
function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([A-Za-z0-9!#$&+\-.^_`|~*]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*)))?/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const name = m[1].toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

/** How long servers whose credentials say nothing of their expiry are used. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;
/** Credentials are dropped this long before they expire (an attempt takes a while). */
const EXPIRY_MARGIN_MS = 60 * 1000;

/**
 * The ICE servers a stage's connections use: the latest a WHIP answer gave, while their
 * credentials last. Troupe's TURN usernames are `<unix expiry>:<participant>` (the TURN REST
 * convention): the earliest expiry of a set is the set's.
 */
export class IceServerCache {
  private servers: RTCIceServer[] = [];
  private expiresAt = 0;
  private needed = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes the servers of an answer (an empty list keeps what is known). */
  update(servers: RTCIceServer[]): void {
    if (servers.length === 0) return;
    let expiry = this.now() + DEFAULT_LIFETIME_MS;
    for (const s of servers) {
      const seconds = /^(\d{9,12}):/.exec(s.username ?? '')?.[1];
      if (seconds !== undefined) expiry = Math.min(expiry, Number(seconds) * 1000);
    }
    this.servers = servers;
    this.expiresAt = expiry - EXPIRY_MARGIN_MS;
  }

  /** The servers known now (none when they expired): for an attempt through the relays. */
  current(): RTCIceServer[] {
    if (this.now() >= this.expiresAt) return [];
    return this.servers;
  }

  /** The servers a new connection starts with: none until one connection needed them. */
  forNewConnection(): RTCIceServer[] {
    return this.needed ? this.current() : [];
  }

  /** A connection connected only through the relays: the network needs them. */
  markNeeded(): void {
    this.needed = true;
  }
}

/** Whether two server lists are the same (to know whether a connection lacks the current ones). */
export function sameIceServers(a: RTCIceServer[] | undefined, b: RTCIceServer[]): boolean {
  const key = (list: RTCIceServer[]) => JSON.stringify(list.map((s) => [s.urls, s.username ?? '', s.credential ?? '']));
  return key(a ?? []) === key(b);
}
