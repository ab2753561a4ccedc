// WHIP requests (RFC 9725) against Troupe: POST an offer, PATCH an ICE restart, DELETE the
// session. Errors come back as WhipError carrying the StageError the answer maps to.

import { parseIceServerLinks } from './ice-servers';
import { httpFailure, networkFailure, type HttpFailure, type StageErrorCategory } from './stage-error';

/** How long one WHIP request may take. */
const REQUEST_TIMEOUT_MS = 10_000;

export class WhipError extends Error {
  readonly failure: HttpFailure;
  constructor(failure: HttpFailure) {
    super(failure.error.message);
    this.failure = failure;
  }
}

export interface WhipSession {
  /** The session resource (absolute URL). */
  location: string;
  answer: string;
  etag: string | undefined;
  /** The relays the server offers (RFC 9725 `Link: <turn:…>; rel="ice-server"` headers). */
  iceServers: RTCIceServer[];
}

/** A successful answer, its body read. */
interface Answered {
  response: Response;
  body: string;
}

async function request(url: string, init: RequestInit, category: StageErrorCategory, participantId?: string): Promise<Answered> {
  let response: Response;
  let body: string;
  try {
    // The timeout covers the body too: a server that sends headers and stalls is a network
    // failure like any other, and retried.
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    body = await response.text();
  } catch (e) {
    throw new WhipError({ error: networkFailure(category, e, participantId), retryable: true, publisherGone: false });
  }
  if (!response.ok) {
    let refusal: { code?: unknown; message?: unknown } | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      refusal = typeof parsed === 'object' && parsed !== null ? (parsed as { code?: unknown; message?: unknown }) : undefined;
    } catch {
      refusal = undefined;
    }
    throw new WhipError(httpFailure(response.status, refusal, category, participantId));
  }
  return { response, body };
}

/** POSTs an offer: publishing (`url` = whip_url) or subscribing (whip_url/subscribe/{id}). */
export async function postOffer(
  url: string,
  token: string,
  offer: string,
  category: StageErrorCategory,
  participantId?: string,
): Promise<WhipSession> {
  const { response, body: answer } = await request(
    url,
    { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' }, body: offer },
    category,
    participantId,
  );
  const location = response.headers.get('Location');
  if (!location) {
    throw new WhipError({
      error: networkFailure(category, new Error('the WHIP answer has no Location header (is it exposed by CORS?)'), participantId),
      retryable: false,
      publisherGone: false,
    });
  }
  return {
    location: new URL(location, response.url || url).toString(),
    answer,
    etag: response.headers.get('ETag') ?? undefined,
    iceServers: parseIceServerLinks(response.headers.get('Link')),
  };
}

/** Sends an ICE restart; answers the server's fragment and the session's new ETag. */
export async function patchRestart(
  session: WhipSession,
  token: string,
  fragment: string,
  category: StageErrorCategory,
): Promise<{ fragment: string; etag: string | undefined }> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/trickle-ice-sdpfrag',
    'If-Match': session.etag ?? '*',
  };
  const { response, body } = await request(session.location, { method: 'PATCH', headers, body: fragment }, category);
  return { fragment: body, etag: response.headers.get('ETag') ?? undefined };
}

/**
 * Ends a session. `keepalive` lets the request outlive the page (leave() from beforeunload).
 * Failures are ignored: the server also ends sessions whose client went away.
 */
export function deleteSession(session: WhipSession, token: string, keepalive: boolean): Promise<void> {
  return fetch(session.location, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` }, keepalive }).then(
    () => undefined,
    () => undefined,
  );
}
