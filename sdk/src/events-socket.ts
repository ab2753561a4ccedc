// The stage events WebSocket: connect with the token as subprotocol, keep it alive with PINGs,
// and when a handshake fails, ask the server why (a browser cannot see the HTTP status of a
// refused handshake; the server answers the same checks to a plain GET).

import { closeOutcome, httpFailure, StageErrorCategory, type CloseOutcome } from './stage-error';
import { parseServerMessage, type ServerMessage } from './wire';

/** How often the client pings, and how long it waits for the PONG before taking the socket for dead. */
const PING_EVERY_MS = 10_000;
const PONG_TIMEOUT_MS = 10_000;
/** How long the handshake and the first STAGE_STATE may take. */
const OPEN_TIMEOUT_MS = 10_000;

export interface EventsSocketHandlers {
  onMessage(message: ServerMessage): void;
  /** The socket closed (or never opened). `outcome` says whether it is final. */
  onClose(outcome: CloseOutcome): void;
}

export class EventsSocket {
  private readonly ws: WebSocket;
  private readonly handlers: EventsSocketHandlers;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private opened = false;
  private done = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    handlers: EventsSocketHandlers,
  ) {
    this.handlers = handlers;
    this.ws = new WebSocket(url, [token]);
    this.ws.addEventListener('open', () => {
      this.opened = true;
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
    });
    this.ws.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type === 'PONG') clearTimeout(this.pongTimer);
      if (message.type === 'STAGE_STATE') clearTimeout(this.openTimer);
      this.handlers.onMessage(message);
    });
    this.ws.addEventListener('close', (event: CloseEvent) => void this.closed(event.code, event.reason));
    this.openTimer = setTimeout(() => {
      this.ws.close();
      void this.closed(1006, 'no stage state in time');
    }, OPEN_TIMEOUT_MS);
  }

  send(message: { type: string; payload?: unknown }): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Closes without reporting anything (leave, or a replaced socket). */
  close(): void {
    this.done = true;
    this.stopTimers();
    try {
      this.ws.close(1000, 'leaving');
    } catch {
      // already closing
    }
  }

  private ping(): void {
    this.send({ type: 'PING' });
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => {
      // The server is gone without a FIN (a sleeping laptop, a vanished network).
      this.ws.close();
      void this.closed(1006, 'no PONG');
    }, PONG_TIMEOUT_MS);
  }

  private stopTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.openTimer);
  }

  private async closed(code: number, reason: string): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stopTimers();
    if (!this.opened && code === 1006) {
      this.handlers.onClose(await this.whyRefused());
      return;
    }
    this.handlers.onClose(closeOutcome(code, reason));
  }

  /** After a failed handshake: the server's verdict on the token, or "retry" when unreachable. */
  private async whyRefused(): Promise<CloseOutcome> {
    const http = this.url.replace(/^ws(s?):/, 'http$1:');
    try {
      const response = await fetch(http, {
        headers: { Authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(5_000),
      });
      if (response.status === 426 || response.ok) return { error: undefined, reconnect: true };
      let body: { code?: unknown; message?: unknown } | undefined;
      try {
        body = (await response.json()) as { code?: unknown; message?: unknown };
      } catch {
        body = undefined;
      }
      const failure = httpFailure(response.status, body, StageErrorCategory.JOIN_ERROR);
      return failure.retryable ? { error: undefined, reconnect: true } : { error: failure.error, reconnect: false };
    } catch {
      return { error: undefined, reconnect: true };
    }
  }
}
