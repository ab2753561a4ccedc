// StageError and how every failure Troupe reports (WHIP HTTP errors, events close codes and
// DISCONNECTED reasons) becomes one. Pure: unit-tested without a browser.

export enum StageErrorCategory {
  JOIN_ERROR = 'JOIN_ERROR',
  PUBLISH_ERROR = 'PUBLISH_ERROR',
  SUBSCRIBE_ERROR = 'SUBSCRIBE_ERROR',
}

export enum StageErrorCode {
  TOKEN_MALFORMED = 1,
  TOKEN_EXPIRED = 2,
  TIMEOUT = 3,
  FAILED = 4,
  CANCELED = 5,
  STAGE_AT_CAPACITY = 6,
  CODEC_MISMATCH = 7,
  TOKEN_NOT_ALLOWED = 8,
  STAGE_DELETED = 9,
  PARTICIPANT_DISCONNECTED = 10,
}

/** An error of the stage: thrown by `join()`, emitted as `StageEvents.ERROR`. */
export class StageError extends Error {
  readonly code: StageErrorCode;
  readonly category: StageErrorCategory;
  /** For publish and subscribe errors: the participant concerned. */
  readonly participantId: string | undefined;

  constructor(code: StageErrorCode, category: StageErrorCategory, message: string, participantId?: string) {
    super(message);
    this.name = 'StageError';
    this.code = code;
    this.category = category;
    this.participantId = participantId;
  }
}

/**
 * The server's SDK-facing code names (`{"code"}` of HTTP errors, close reasons) that map to a
 * StageErrorCode. Anything else — `INVALID_INPUT`, a 5xx, a proxy's HTML — is FAILED.
 */
const BY_NAME: Record<string, StageErrorCode> = {
  TOKEN_MALFORMED: StageErrorCode.TOKEN_MALFORMED,
  TOKEN_EXPIRED: StageErrorCode.TOKEN_EXPIRED,
  TOKEN_NOT_ALLOWED: StageErrorCode.TOKEN_NOT_ALLOWED,
  STAGE_AT_CAPACITY: StageErrorCode.STAGE_AT_CAPACITY,
  CODEC_MISMATCH: StageErrorCode.CODEC_MISMATCH,
  STAGE_DELETED: StageErrorCode.STAGE_DELETED,
  PARTICIPANT_DISCONNECTED: StageErrorCode.PARTICIPANT_DISCONNECTED,
};

/** The StageErrorCode for a server code name, or undefined when it has none. */
export function codeForName(name: string | undefined): StageErrorCode | undefined {
  return name === undefined ? undefined : BY_NAME[name];
}

/** What to do about a failed HTTP request to the WHIP or events endpoints. */
export interface HttpFailure {
  /** The error to report. */
  error: StageError;
  /** Whether trying again later may succeed (network trouble, server errors). */
  retryable: boolean;
  /** A subscription to a participant that is not publishing (any more): not an error to show. */
  publisherGone: boolean;
}

/** Maps an HTTP error answer (`status`, and the parsed `{code, message}` body if any). */
export function httpFailure(
  status: number,
  body: { code?: unknown; message?: unknown } | undefined,
  category: StageErrorCategory,
  participantId?: string,
): HttpFailure {
  const name = typeof body?.code === 'string' ? body.code : undefined;
  const detail = typeof body?.message === 'string' ? body.message : `HTTP ${status}`;
  const message = name ? `${name}: ${detail}` : detail;
  let code = codeForName(name);
  if (code === undefined) {
    // Without a body we can understand, fall back on the status alone.
    if (status === 401) code = StageErrorCode.TOKEN_MALFORMED;
    else if (status === 406) code = StageErrorCode.CODEC_MISMATCH;
  }
  const publisherGone = name === 'PUBLISHER_NOT_FOUND';
  const retryable = code === undefined && !publisherGone && (status >= 500 || status === 408 || status === 429 || status === 0);
  return {
    error: new StageError(code ?? StageErrorCode.FAILED, category, message, participantId),
    retryable,
    publisherGone,
  };
}

/** The error for a network failure (no HTTP answer at all), or a timeout. */
export function networkFailure(category: StageErrorCategory, cause: unknown, participantId?: string): StageError {
  const timedOut = cause instanceof DOMException && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  const text = cause instanceof Error ? cause.message : String(cause);
  return new StageError(
    timedOut ? StageErrorCode.TIMEOUT : StageErrorCode.FAILED,
    category,
    timedOut ? `the server did not answer in time (${text})` : `network error: ${text}`,
    participantId,
  );
}

/** How the events socket closing with `code`/`reason` ends (or does not end) the stage. */
export interface CloseOutcome {
  /** The error to report, when the close is final. */
  error: StageError | undefined;
  /** Whether to reconnect (the close says nothing final: a network drop, a server restart). */
  reconnect: boolean;
}

/** Maps the events socket's close (see the server's `messages.rs` for the codes). */
export function closeOutcome(code: number, reason: string): CloseOutcome {
  const join = StageErrorCategory.JOIN_ERROR;
  switch (code) {
    case 4001:
      return { error: new StageError(StageErrorCode.PARTICIPANT_DISCONNECTED, join, 'the participant was disconnected from the stage'), reconnect: false };
    case 4002:
      return { error: new StageError(StageErrorCode.STAGE_DELETED, join, 'the stage was deleted'), reconnect: false };
    case 4003:
      return { error: new StageError(StageErrorCode.TOKEN_EXPIRED, join, 'the participant token expired'), reconnect: false };
    case 4004:
      // The same token joined elsewhere (another tab): leave quietly, it is not a failure here.
      return { error: undefined, reconnect: false };
    case 4005:
      return { error: undefined, reconnect: true }; // server shutting down: come back later
    case 4500:
      // The stage's hub was gone while the socket connected (a deletion racing the join): the
      // next handshake is refused with the reason if the stage is gone for good.
      return { error: undefined, reconnect: true };
    case 4401:
    case 4403: {
      const mapped = codeForName(reason) ?? (code === 4403 ? StageErrorCode.TOKEN_NOT_ALLOWED : StageErrorCode.TOKEN_MALFORMED);
      return { error: new StageError(mapped, join, `the server refused the token: ${reason || code}`), reconnect: false };
    }
    default:
      if (code >= 4000 && code < 5000) {
        // A protocol error: this SDK sent something the server could not use. Reconnecting
        // would repeat it; report it.
        return { error: new StageError(StageErrorCode.FAILED, join, `the events socket was closed: ${reason || code}`), reconnect: false };
      }
      return { error: undefined, reconnect: true };
  }
}
