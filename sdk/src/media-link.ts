// One media connection to Troupe — a publish or a subscription — kept alive: a WHIP session
// over an RTCPeerConnection, an ICE restart (WHIP PATCH) when connectivity is lost, a new
// session when that does not help, for RETRY_WINDOW_MS; then it gives up with FAILED.
// A connection that does not connect directly soon restarts ICE with the TURN relays the
// server handed out (the stage's IceServerCache), for networks that let only a relay through;
// once one needed them, the stage's next connections start with them.

import { StreamType } from './enums';
import { IceServerCache, sameIceServers } from './ice-servers';
import { ICE_RESTART_AFTER_MS, ICE_RESTART_TIMEOUT_MS, RETRY_WINDOW_MS, backoffMs, shouldRetry } from './retry-policy';
import { applyRestartAnswer, iceCredentials, parseRestartAnswer, restartFragment } from './sdp';
import { StageError, StageErrorCategory, StageErrorCode } from './stage-error';
import { WhipError, deleteSession, patchRestart, postOffer, type WhipSession } from './whip-client';

export type LinkState = 'connecting' | 'connected' | 'recovering' | 'failed' | 'closed';

export interface MediaLinkOptions {
  /** The WHIP URL to POST offers to. */
  url: string;
  /** The token in effect now (it may be exchanged while the link lives). */
  token: () => string;
  category: StageErrorCategory;
  /** Subscriptions: the publisher; publishes: the local participant. */
  participantId: string;
  /** Publishes: the tracks to send, with their encoding limits. */
  send?: { track: MediaStreamTrack; encoding: RTCRtpEncodingParameters | undefined }[];
  /** Subscriptions: the kinds to receive. */
  receive?: StreamType[];
  /** Subscriptions: the jitter buffer target, ms. */
  jitterBufferMs?: number;
  /** The stage's relays: read for every connection, fed with every answer's. */
  iceServers?: IceServerCache;
  /** Every state change. */
  onState: (state: LinkState) => void;
  /** The peer connection is connected (first connect, after an ICE restart, or a new session:
   *  compare `pc` with the previous one to know whether the tracks are new). */
  onConnected: (pc: RTCPeerConnection) => void;
  /** The link gave up (after the retry window, or a refusal retrying cannot fix). */
  onFailed: (error: StageError, publisherGone: boolean) => void;
}

/** How long a new session may take to connect before it counts as lost. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a session made without the relays its answer offered may take to connect before
 *  ICE restarts with them (direct paths connect within a second or two when they work). */
const RELAY_FALLBACK_MS = 4_000;

export class MediaLink {
  private readonly options: MediaLinkOptions;
  private pc: RTCPeerConnection | undefined;
  private session: WhipSession | undefined;
  private state: LinkState = 'connecting';
  private lostAt: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private everConnected = false;
  /** Bumped by every new session: callbacks of older ones are ignored. */
  private generation = 0;
  private tracks: Map<StreamType, MediaStreamTrack>;

  constructor(options: MediaLinkOptions) {
    this.options = options;
    this.tracks = new Map((options.send ?? []).map((s) => [s.track.kind as StreamType, s.track]));
  }

  get connection(): RTCPeerConnection | undefined {
    return this.pc;
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Opens the first session: resolves once the server accepted the offer. */
  async start(): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.openSession();
        return;
      } catch (e) {
        if (this.isClosed()) return;
        const failure = e instanceof WhipError ? e.failure : undefined;
        if (!failure?.retryable || !shouldRetry(started, Date.now() + backoffMs(attempt))) {
          this.setState('failed');
          throw e instanceof WhipError ? e : new WhipError({ error: this.failedError(String(e)), retryable: false, publisherGone: false });
        }
        await sleep(backoffMs(attempt));
        if (this.isClosed()) return;
      }
    }
  }

  /** Sends another track of the same kind, on the same connection. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    this.tracks.set(track.kind as StreamType, track);
    await this.transceiver(track.kind)?.sender.replaceTrack(track);
  }

  /** The sender of a kind (publishes), for statistics. */
  sender(kind: StreamType): RTCRtpSender | undefined {
    return this.transceiver(kind)?.sender;
  }

  /** A transceiver's kind is its receiver track's, whatever it sends. */
  private transceiver(kind: string): RTCRtpTransceiver | undefined {
    return this.pc?.getTransceivers().find((t) => t.receiver.track.kind === kind);
  }

  /** The receivers (subscriptions), by kind. */
  receivers(): Map<StreamType, RTCRtpReceiver> {
    const out = new Map<StreamType, RTCRtpReceiver>();
    for (const t of this.pc?.getTransceivers() ?? []) {
      const kind = t.receiver.track.kind as StreamType;
      if (t.direction === 'recvonly' && !out.has(kind)) out.set(kind, t.receiver);
    }
    return out;
  }

  /** Ends the link: DELETE on the server (kept alive past page unload), peer connection closed. */
  close(keepalive = false): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.generation++;
    clearTimeout(this.timer);
    if (this.session) void deleteSession(this.session, this.options.token(), keepalive);
    this.session = undefined;
    this.pc?.close();
    this.pc = undefined;
  }

  /** Checked after every await: close() may have run meanwhile. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private setState(state: LinkState): void {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.options.onState(state);
  }

  private failedError(detail: string): StageError {
    return new StageError(StageErrorCode.FAILED, this.options.category, `the media connection failed: ${detail}`, this.options.participantId);
  }

  /** A new peer connection and WHIP session, replacing the current ones. */
  private async openSession(): Promise<void> {
    const generation = ++this.generation;
    const old = { pc: this.pc, session: this.session };
    const iceServers = this.options.iceServers?.forNewConnection() ?? [];
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers });
    const stream = new MediaStream();
    for (const [kind, track] of this.tracks) {
      const encoding = this.options.send?.find((s) => s.track.kind === kind)?.encoding;
      pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], ...(encoding ? { sendEncodings: [encoding] } : {}) });
    }
    for (const kind of this.options.receive ?? []) {
      const transceiver = pc.addTransceiver(kind, { direction: 'recvonly' });
      const target = this.options.jitterBufferMs;
      if (target !== undefined && 'jitterBufferTarget' in transceiver.receiver) {
        (transceiver.receiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = target;
      }
    }
    pc.addEventListener('connectionstatechange', () => this.onConnectionState(pc, generation));
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      // Troupe is ICE-lite and learns our address from our connectivity checks: no need to
      // wait for candidate gathering, the offer goes at once.
      const session = await postOffer(this.options.url, this.options.token(), pc.localDescription?.sdp ?? offer.sdp ?? '', this.options.category, this.options.participantId);
      if (generation !== this.generation) {
        void deleteSession(session, this.options.token(), true);
        pc.close();
        return;
      }
      this.options.iceServers?.update(session.iceServers);
      await pc.setRemoteDescription({ type: 'answer', sdp: session.answer });
      if (generation !== this.generation) {
        // Closed (or replaced) while the answer was applied: this session must not outlive it.
        void deleteSession(session, this.options.token(), true);
        pc.close();
        return;
      }
      // A track swapped while this session was being opened (a camera switch during recovery).
      for (const t of pc.getTransceivers()) {
        const wanted = this.tracks.get(t.receiver.track.kind as StreamType);
        if (wanted && t.sender.track && t.sender.track !== wanted) await t.sender.replaceTrack(wanted);
      }
      this.pc = pc;
      this.session = session;
    } catch (e) {
      pc.close();
      throw e;
    }
    if (old.session) void deleteSession(old.session, this.options.token(), false);
    old.pc?.close();
    clearTimeout(this.timer);
    if (this.lacksRelays(pc)) {
      // Relays are known that this connection was made without: if the direct paths do not
      // work soon, try again through them.
      this.timer = setTimeout(() => {
        if (generation !== this.generation || pc.connectionState === 'connected') return;
        this.relayTried = true;
        void this.restartIce(pc, generation);
      }, RELAY_FALLBACK_MS);
      return;
    }
    this.timer = setTimeout(() => {
      if (generation === this.generation && pc.connectionState !== 'connected') this.lost(pc, generation);
    }, CONNECT_TIMEOUT_MS);
  }

  private relayTried = false;

  /** Whether relays are known that `pc` does not use (it was made before they were). */
  private lacksRelays(pc: RTCPeerConnection): boolean {
    const current = this.options.iceServers?.current() ?? [];
    return !this.relayTried && current.length > 0 && !sameIceServers(pc.getConfiguration().iceServers, current);
  }

  private onConnectionState(pc: RTCPeerConnection, generation: number): void {
    if (generation !== this.generation || this.state === 'closed') return;
    switch (pc.connectionState) {
      case 'connected': {
        clearTimeout(this.timer);
        if (this.relayTried) this.options.iceServers?.markNeeded();
        this.everConnected = true;
        this.lostAt = undefined;
        this.setState('connected');
        this.options.onConnected(pc);
        break;
      }
      case 'disconnected':
        // Often a blip that ICE consent recovers from by itself: give it a moment first.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          if (generation === this.generation && pc.connectionState !== 'connected') this.lost(pc, generation);
        }, ICE_RESTART_AFTER_MS);
        break;
      case 'failed':
        this.lost(pc, generation);
        break;
      default:
        break;
    }
  }

  private restartTried = false;

  /** Connectivity is lost: restart ICE first, then new sessions, until the window closes. */
  private lost(pc: RTCPeerConnection, generation: number): void {
    if (generation !== this.generation || this.state === 'closed') return;
    clearTimeout(this.timer);
    const now = Date.now();
    if (this.lostAt === undefined) {
      this.lostAt = now;
      this.restartTried = false;
    }
    this.setState('recovering');
    if (!shouldRetry(this.lostAt, now)) {
      this.giveUp(this.failedError(`no connectivity for ${Math.round(RETRY_WINDOW_MS / 1000)} s`), false);
      return;
    }
    if (!this.restartTried && this.everConnected) {
      this.restartTried = true;
      void this.restartIce(pc, generation);
    } else {
      void this.renew(0);
    }
  }

  private async restartIce(pc: RTCPeerConnection, generation: number): Promise<void> {
    const session = this.session;
    if (!session) return this.renew(0);
    try {
      const relays = this.options.iceServers?.current() ?? [];
      if (relays.length > 0 && !sameIceServers(pc.getConfiguration().iceServers, relays)) {
        // The restart gathers again, with the relays the server offers now.
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: relays });
      }
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      const credentials = iceCredentials(offer.sdp ?? '');
      if (!credentials) throw new Error('the restart offer has no ICE credentials');
      const answered = await patchRestart(session, this.options.token(), restartFragment(credentials), this.options.category);
      const restart = parseRestartAnswer(answered.fragment);
      if (!restart || generation !== this.generation) throw new Error('the server did not restart ICE');
      session.etag = answered.etag ?? session.etag;
      await pc.setRemoteDescription({ type: 'answer', sdp: applyRestartAnswer(pc.remoteDescription?.sdp ?? session.answer, restart) });
    } catch {
      if (generation === this.generation) await this.renew(0);
      return;
    }
    this.timer = setTimeout(() => {
      if (generation === this.generation && pc.connectionState !== 'connected') void this.renew(0);
    }, ICE_RESTART_TIMEOUT_MS);
  }

  private async renew(attempt: number): Promise<void> {
    if (this.isClosed()) return;
    const lostAt = this.lostAt ?? Date.now();
    try {
      await this.openSession();
    } catch (e) {
      if (this.isClosed()) return;
      const failure = e instanceof WhipError ? e.failure : undefined;
      if (failure && !failure.retryable) {
        this.giveUp(failure.error, failure.publisherGone);
        return;
      }
      if (!shouldRetry(lostAt, Date.now() + backoffMs(attempt))) {
        this.giveUp(this.failedError(failure?.error.message ?? String(e)), false);
        return;
      }
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.renew(attempt + 1), backoffMs(attempt));
    }
  }

  private giveUp(error: StageError, publisherGone: boolean): void {
    if (this.isClosed() || this.state === 'failed') return;
    clearTimeout(this.timer);
    this.setState('failed');
    this.options.onFailed(error, publisherGone);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
