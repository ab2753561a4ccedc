// Reads a participant token's claims. The SDK does not verify the signature (the server does);
// it reads where to connect (`whip_url`, `events_url`, `topic`) and who it is (`jti`), and
// refuses at once a token that is not one, or that has expired, with the matching StageError.

import { StageError, StageErrorCategory, StageErrorCode } from './stage-error';

export interface TokenClaims {
  /** The participant id. */
  jti: string;
  /** The stage id. */
  topic: string;
  /** The stage ARN. */
  resource: string;
  whipUrl: string;
  eventsUrl: string;
  userId: string | undefined;
  attributes: Record<string, string>;
  canPublish: boolean;
  canSubscribe: boolean;
  /** Unix seconds. */
  exp: number;
}

function malformed(why: string): StageError {
  return new StageError(StageErrorCode.TOKEN_MALFORMED, StageErrorCategory.JOIN_ERROR, `the participant token is malformed: ${why}`);
}

function base64UrlDecode(part: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw malformed('not base64url');
  const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

function text(claims: Record<string, unknown>, name: string): string {
  const value = claims[name];
  if (typeof value !== 'string' || value === '') throw malformed(`claim ${name} is missing`);
  return value;
}

/** Decodes a token's claims; throws TOKEN_MALFORMED (or TOKEN_EXPIRED at `nowSeconds`). */
export function decodeToken(token: unknown, nowSeconds: number = Date.now() / 1000): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw malformed('it is not a non-empty string');
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('it is not a JWT (three dot-separated parts)');
  let claims: unknown;
  try {
    claims = JSON.parse(base64UrlDecode(parts[1] ?? ''));
  } catch (e) {
    if (e instanceof StageError) throw e;
    throw malformed('its payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw malformed('its payload is not an object');
  const c = claims as Record<string, unknown>;
  const exp = c.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw malformed('claim exp is missing');
  const capabilities = (c.capabilities ?? {}) as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  if (typeof c.attributes === 'object' && c.attributes !== null) {
    for (const [k, v] of Object.entries(c.attributes as Record<string, unknown>)) {
      if (typeof v === 'string') attributes[k] = v;
    }
  }
  const decoded: TokenClaims = {
    jti: text(c, 'jti'),
    topic: text(c, 'topic'),
    resource: text(c, 'resource'),
    whipUrl: text(c, 'whip_url'),
    eventsUrl: text(c, 'events_url'),
    userId: typeof c.user_id === 'string' ? c.user_id : undefined,
    attributes,
    canPublish: capabilities.allow_publish === true,
    canSubscribe: capabilities.allow_subscribe === true,
    exp,
  };
  // The server allows a little clock skew; so do we, and it has the last word.
  if (exp + 30 < nowSeconds) {
    throw new StageError(StageErrorCode.TOKEN_EXPIRED, StageErrorCategory.JOIN_ERROR, `the participant token expired at ${new Date(exp * 1000).toISOString()}`);
  }
  return decoded;
}

/** The claims an exchanged token must keep (`stage.exchangeToken`). */
export function sameParticipant(a: TokenClaims, b: TokenClaims): string | undefined {
  for (const key of ['jti', 'topic', 'resource', 'whipUrl', 'eventsUrl'] as const) {
    if (a[key] !== b[key]) return key;
  }
  return undefined;
}
