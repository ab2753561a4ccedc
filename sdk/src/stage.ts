// Stage: the IVS Stage API on Troupe's protocol. It keeps the events socket open, turns each
// STAGE_STATE into participant events (state-diff.ts), asks the strategy what to publish and
// whom to receive (plan.ts), and carries that out with media links (media-link.ts): one
// publish, one subscription per remote publisher.

import {
  StageConnectionState,
  StageEvents,
  StageLeftReason,
  StageParticipantPublishState,
  StageParticipantSubscribeState,
  StreamType,
  SubscribeType,
} from './enums';
import { TypedEmitter } from './emitter';
import { EventsSocket } from './events-socket';
import { IceServerCache } from './ice-servers';
import { LocalStageStream } from './local-stage-stream';
import { MediaLink, type LinkState } from './media-link';
import { StageParticipantInfo } from './participant-info';
import { planMedia, publishChange, subscribedKinds, subscriptionChanges, type RemoteView } from './plan';
import { RemoteStageStream } from './remote-stage-stream';
import { RETRY_WINDOW_MS, backoffMs, shouldRetry } from './retry-policy';
import { StageError, StageErrorCategory, StageErrorCode, type CloseOutcome } from './stage-error';
import type { StageEventMap } from './stage-events';
import { diffParticipants } from './state-diff';
import type { StageStrategy } from './strategy';
import { decodeToken, sameParticipant, type TokenClaims } from './token';
import { WhipError } from './whip-client';
import type { ServerMessage, WireParticipant } from './wire';

/** How long exchangeToken() waits for the server's TOKEN_EXCHANGED. */
const EXCHANGE_TIMEOUT_MS = 10_000;

type Phase = 'idle' | 'joining' | 'joined' | 'left';

interface Publication {
  link: MediaLink;
  streams: LocalStageStream[];
  /** The streams the app was told about (STREAMS_ADDED), once connected. */
  announced: LocalStageStream[];
  state: StageParticipantPublishState;
}

interface Subscription {
  type: SubscribeType;
  link: MediaLink | undefined;
  /** The peer connection whose tracks `streams` wrap. */
  pc: RTCPeerConnection | undefined;
  /** The remote streams the app was told about, by kind. */
  streams: Map<StreamType, RemoteStageStream>;
  state: StageParticipantSubscribeState;
}

export class Stage extends TypedEmitter<StageEventMap> {
  private token: string;
  private claims: TokenClaims | undefined;
  private strategy: StageStrategy;
  private phase: Phase = 'idle';
  private joinPromise: Promise<void> | undefined;
  private socket: EventsSocket | undefined;
  private socketLostAt: number | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectAttempt = 0;
  private firstState: { resolve: () => void; reject: (e: StageError) => void } | undefined;
  private connectionState = StageConnectionState.DISCONNECTED;
  private participants = new Map<string, WireParticipant>();
  private publication: Publication | undefined;
  private subscriptions = new Map<string, Subscription>();
  /** The TURN relays the server handed out, shared by the stage's connections. */
  private readonly iceServers = new IceServerCache();
  private muteWatch = new Map<LocalStageStream, () => void>();
  private reconciling: Promise<void> = Promise.resolve();
  private exchange: { resolve: () => void; reject: (e: StageError) => void } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether TOKEN_NOT_ALLOWED was reported for the strategy's current wish to publish. */
  private publishRefused = false;
  /** A publish the server refused for good (capacity, codecs): not retried on every stage
   *  change, only when the app asks again (refreshStrategy, replaceStrategy, exchangeToken). */
  private publishBlocked = false;
  /** A token exchanged while the socket was down: sent when it is back. */
  private pendingToken: string | undefined;
  /** Media connections that gave up (FAILED) with the socket up: 'publish' or a publisher id.
   *  While any is failed, the stage is ERRORED. */
  private failedMedia = new Set<string>();
  /** The publish attempt in flight, if any. */
  private publishing: Promise<StageError | undefined> | undefined;
  /** A join error already emitted as ERROR (publish errors are emitted where they happen). */
  private reported: StageError | undefined;

  constructor(token: string, strategy: StageStrategy) {
    super();
    this.token = token;
    this.strategy = strategy;
  }

  /**
   * Joins: opens the events socket, publishes what the strategy says and subscribes to the
   * others. Resolves once the stage state arrived and the server admitted the publish; rejects
   * with a StageError (also emitted as ERROR) when joining or publishing is refused.
   */
  join(): Promise<void> {
    if (this.phase === 'joining' || this.phase === 'joined') return this.joinPromise ?? Promise.resolve();
    this.phase = 'joining';
    this.joinPromise = this.joinNow().catch((e: unknown) => {
      const error = e instanceof StageError ? e : new StageError(StageErrorCode.FAILED, StageErrorCategory.JOIN_ERROR, String(e));
      if (this.phase === 'joining' || this.phase === 'joined') {
        // What the app was told about remote streams is taken back before everything closes.
        for (const [id, sub] of this.subscriptions) this.removeRemoteStreams(id, sub, [...sub.streams.keys()]);
        if (this.reported !== error) this.emitError(error);
        this.reported = undefined;
        this.teardown(false);
        this.phase = 'idle';
        this.setConnectionState(StageConnectionState.DISCONNECTED);
      }
      throw error;
    });
    return this.joinPromise;
  }

  /**
   * Leaves: ends every media session (DELETE, kept alive past page unload, so it is safe from
   * `beforeunload`), closes the socket, and emits nothing more.
   */
  leave(): void {
    if (this.phase === 'left' || this.phase === 'idle') {
      this.phase = 'left';
      return;
    }
    this.phase = 'left';
    this.teardown(true);
    this.firstState?.reject(new StageError(StageErrorCode.CANCELED, StageErrorCategory.JOIN_ERROR, 'leave() was called while joining'));
    this.firstState = undefined;
    this.exchange?.reject(new StageError(StageErrorCode.CANCELED, StageErrorCategory.JOIN_ERROR, 'leave() was called'));
    this.exchange = undefined;
    this.connectionState = StageConnectionState.DISCONNECTED;
  }

  /** Asks the strategy again and applies its answers (publish, unpublish, subscribe types, tracks). */
  refreshStrategy(): void {
    this.publishBlocked = false;
    if (this.phase === 'joined') void this.reconcile();
  }

  replaceStrategy(strategy: StageStrategy): void {
    this.strategy = strategy;
    this.refreshStrategy();
  }

  /**
   * Replaces the token (same participant, stage and endpoints; new attributes, capabilities,
   * user id or expiry) without reconnecting. Resolves once the server applied it.
   */
  async exchangeToken(token: string): Promise<void> {
    const claims = decodeToken(token);
    const current = this.claims ?? (this.phase === 'idle' ? undefined : decodeToken(this.token));
    if (current) {
      const changed = sameParticipant(current, claims);
      if (changed) {
        throw new StageError(StageErrorCode.TOKEN_NOT_ALLOWED, StageErrorCategory.JOIN_ERROR, `the new token must keep ${changed}`);
      }
    }
    if (this.phase === 'joining') {
      // The socket carries the old token: exchange once joined.
      await this.joinPromise?.catch(() => undefined);
      return this.exchangeToken(token);
    }
    if (this.phase !== 'joined') {
      this.token = token;
      this.claims = undefined;
      return;
    }
    this.publishBlocked = false;
    if (!this.socket || this.socketLostAt !== undefined) {
      // Reconnecting: the new socket opens with the new token, and a socket that is up again
      // before that gets it with EXCHANGE_TOKEN.
      this.token = token;
      this.claims = claims;
      this.pendingToken = token;
      void this.reconcile();
      return;
    }
    const done = new Promise<void>((resolve, reject) => {
      this.exchange?.reject(new StageError(StageErrorCode.CANCELED, StageErrorCategory.JOIN_ERROR, 'another exchangeToken() replaced this one'));
      this.exchange = { resolve, reject };
    });
    const timeout = setTimeout(() => {
      this.exchange?.reject(new StageError(StageErrorCode.TIMEOUT, StageErrorCategory.JOIN_ERROR, 'the server did not confirm the token exchange'));
      this.exchange = undefined;
    }, EXCHANGE_TIMEOUT_MS);
    this.socket.send({ type: 'EXCHANGE_TOKEN', payload: { token } });
    try {
      await done;
    } finally {
      clearTimeout(timeout);
    }
    this.token = token;
    this.claims = claims;
    void this.reconcile();
  }

  // ------------------------------------------------------------------------------------------
  // Joining and the events socket
  // ------------------------------------------------------------------------------------------

  private async joinNow(): Promise<void> {
    this.claims = decodeToken(this.token);
    this.setConnectionState(StageConnectionState.CONNECTING);
    await new Promise<void>((resolve, reject) => {
      this.firstState = { resolve, reject };
      this.openSocket();
    });
    if (this.phase !== 'joining') return;
    this.phase = 'joined';
    this.setConnectionState(StageConnectionState.CONNECTED);
    const error = await this.reconcile();
    if (this.phase !== 'joined') {
      throw new StageError(StageErrorCode.CANCELED, StageErrorCategory.JOIN_ERROR, 'the stage was left while joining');
    }
    if (error) {
      this.reported = error; // emitted already; join()'s catch must not emit it twice
      throw error;
    }
  }

  private openSocket(): void {
    const claims = this.claims;
    if (!claims) return;
    const url = `${claims.eventsUrl.replace(/\/+$/, '')}/${encodeURIComponent(claims.topic)}`;
    const socket = new EventsSocket(url, this.token, {
      onMessage: (m) => {
        if (socket === this.socket) this.onMessage(m);
      },
      onClose: (outcome) => {
        if (socket === this.socket) this.onSocketClosed(outcome);
      },
    });
    this.socket = socket;
  }

  private onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'STAGE_STATE': {
        this.socketLostAt = undefined;
        this.reconnectAttempt = 0;
        this.applyState(message.participants);
        if (this.firstState) {
          const first = this.firstState;
          this.firstState = undefined;
          first.resolve();
        } else {
          if (this.phase === 'joined' && this.socket) {
            // After a reconnect.
            this.sendMute();
            if (this.pendingToken) this.socket.send({ type: 'EXCHANGE_TOKEN', payload: { token: this.pendingToken } });
            this.pendingToken = undefined;
          }
          this.updateConnectionState();
          void this.reconcile();
        }
        break;
      }
      case 'TOKEN_EXCHANGED':
        this.exchange?.resolve();
        this.exchange = undefined;
        break;
      default:
        break;
    }
  }

  private onSocketClosed(outcome: CloseOutcome): void {
    this.socket = undefined;
    if (this.phase === 'left' || this.phase === 'idle') return;
    if (!outcome.reconnect) {
      const error = outcome.error;
      const reason = !error
        ? StageLeftReason.REPLACED
        : error.code === StageErrorCode.PARTICIPANT_DISCONNECTED
          ? StageLeftReason.PARTICIPANT_DISCONNECTED
          : error.code === StageErrorCode.STAGE_DELETED
            ? StageLeftReason.STAGE_DELETED
            : error.code === StageErrorCode.TOKEN_EXPIRED
              ? StageLeftReason.TOKEN_EXPIRED
              : StageLeftReason.CONNECTION_FAILED;
      this.endStage(error, reason);
      return;
    }
    // Lost: media goes on meanwhile; the socket is retried for the retry window.
    const now = Date.now();
    this.socketLostAt ??= now;
    if (!shouldRetry(this.socketLostAt, now)) {
      const error = new StageError(StageErrorCode.FAILED, StageErrorCategory.JOIN_ERROR, `could not reach the stage for ${RETRY_WINDOW_MS / 1000} s`);
      this.endStage(error, StageLeftReason.CONNECTION_FAILED);
      return;
    }
    this.updateConnectionState();
    const delay = backoffMs(this.reconnectAttempt++);
    this.reconnectTimer = setTimeout(() => {
      if (this.phase === 'joining' || this.phase === 'joined') this.openSocket();
    }, delay);
  }

  /** The stage is over for this participant: tell the app, release everything. */
  private endStage(error: StageError | undefined, reason: StageLeftReason): void {
    const joining = this.firstState;
    this.firstState = undefined;
    this.exchange?.reject(error ?? new StageError(StageErrorCode.CANCELED, StageErrorCategory.JOIN_ERROR, 'the stage was left'));
    this.exchange = undefined;
    if (joining) {
      // join() rejects (and reports) the error itself.
      joining.reject(error ?? new StageError(StageErrorCode.FAILED, StageErrorCategory.JOIN_ERROR, 'the stage was left while joining'));
      return;
    }
    if (error) this.emitError(error);
    this.teardown(false);
    const failed = reason === StageLeftReason.CONNECTION_FAILED;
    this.setConnectionState(failed ? StageConnectionState.ERRORED : StageConnectionState.DISCONNECTED);
    this.emitEvent(StageEvents.STAGE_LEFT, reason);
    this.phase = 'idle';
  }

  /** Stops everything; `keepalive` lets the DELETEs outlive the page. */
  private teardown(keepalive: boolean): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.retryTimer);
    this.socket?.close();
    this.socket = undefined;
    this.publication?.link.close(keepalive);
    this.publication = undefined;
    for (const sub of this.subscriptions.values()) sub.link?.close(keepalive);
    this.subscriptions.clear();
    for (const stop of this.muteWatch.values()) stop();
    this.muteWatch.clear();
    this.participants.clear();
    this.socketLostAt = undefined;
    this.reconnectAttempt = 0;
    this.publishRefused = false;
    this.publishBlocked = false;
    this.failedMedia.clear();
    this.publishing = undefined;
    this.pendingToken = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Participants
  // ------------------------------------------------------------------------------------------

  private get localId(): string {
    return this.claims?.jti ?? '';
  }

  private info(p: WireParticipant): StageParticipantInfo {
    return new StageParticipantInfo(p, p.id === this.localId);
  }

  /** The local participant as the stage shows it (or as its token says, before it does). */
  private localWire(): WireParticipant {
    const shown = this.participants.get(this.localId);
    if (shown) return shown;
    const c = this.claims;
    return {
      id: this.localId,
      userId: c?.userId,
      attributes: c?.attributes ?? {},
      isPublishing: false,
      streams: [],
      audioMuted: false,
      videoStopped: false,
      capabilities: [...(c?.canPublish ? ['PUBLISH'] : []), ...(c?.canSubscribe ? ['SUBSCRIBE'] : [])],
    };
  }

  private applyState(list: WireParticipant[]): void {
    const changes = diffParticipants(this.participants, list);
    this.participants = new Map(list.map((p) => [p.id, p]));
    for (const change of changes) {
      const p = change.participant;
      const local = p.id === this.localId;
      switch (change.kind) {
        case 'joined':
          this.emitEvent(StageEvents.STAGE_PARTICIPANT_JOINED, this.info(p));
          if (!local && p.isPublishing) {
            this.emitEvent(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, this.info(p), StageParticipantPublishState.PUBLISHED);
          }
          break;
        case 'left':
          // Its streams go first (apps tear down their video elements there), then itself;
          // `p` is its last state, the stage no longer lists it.
          this.dropSubscription(p.id, p);
          this.emitEvent(StageEvents.STAGE_PARTICIPANT_LEFT, this.info(p));
          break;
        case 'metadata':
          this.emitEvent(StageEvents.STAGE_PARTICIPANT_METADATA_CHANGED, this.info(p));
          break;
        case 'publishing':
          if (local) break; // the local publish state follows the publication itself
          if (change.before.isPublishing !== p.isPublishing) {
            const state = p.isPublishing ? StageParticipantPublishState.PUBLISHED : StageParticipantPublishState.NOT_PUBLISHED;
            this.emitEvent(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, this.info(p), state);
          }
          if (!p.isPublishing) this.dropSubscription(p.id);
          else this.syncRemoteStreams(p.id);
          // A subscription that failed is tried again when its publisher publishes anew.
          if (this.subscriptions.get(p.id)?.state === StageParticipantSubscribeState.ERRORED) {
            this.subscriptions.delete(p.id);
            this.failedMedia.delete(p.id);
          }
          break;
        case 'mute': {
          if (local) break; // the local streams' own setMuted() reported it already
          const kind = change.stream === 'audio' ? StreamType.AUDIO : StreamType.VIDEO;
          const stream = this.subscriptions.get(p.id)?.streams.get(kind);
          if (stream) {
            stream._setMuted(kind === StreamType.AUDIO ? p.audioMuted : p.videoStopped);
            this.emitEvent(StageEvents.STAGE_STREAM_MUTE_CHANGED, this.info(p), stream);
          }
          break;
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Carrying out the strategy
  // ------------------------------------------------------------------------------------------

  /** Applies the strategy's answers; serialized, so two passes never race. Resolves with the
   *  publish error of this pass, if any (join() rejects with it). */
  private reconcile(): Promise<StageError | undefined> {
    const pass = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = pass.then(
      () => undefined,
      () => undefined,
    );
    // The queue waits for the pass, not for a publish it started (which may retry for 30 s):
    // subscriptions to newcomers must not wait for that. The caller (join) may.
    return pass
      .then((r) => r.outcome)
      .catch((e: unknown) => {
        console.error('troupe: applying the strategy failed', e);
        return undefined;
      });
  }

  private async reconcileNow(): Promise<{ outcome: Promise<StageError | undefined> | StageError | undefined }> {
    if (this.phase !== 'joined' || !this.claims) return { outcome: undefined };
    const local = this.info(this.localWire());
    const remotes: RemoteView[] = [...this.participants.values()]
      .filter((p) => p.id !== this.localId)
      .map((p) => ({ info: this.info(p), streams: p.streams }));
    const plan = planMedia(this.strategy, local, remotes, { publish: true, subscribe: this.claims.canSubscribe });
    // The app wants to publish with a token that does not allow it: say so once (join() rejects
    // with it), rather than trying and failing on every change of the stage.
    let refused: StageError | undefined;
    if (plan.publish.length > 0 && !this.claims.canPublish) {
      plan.publish = [];
      if (!this.publishRefused) {
        refused = new StageError(StageErrorCode.TOKEN_NOT_ALLOWED, StageErrorCategory.PUBLISH_ERROR, 'the participant token does not allow publishing (no PUBLISH capability)', this.localId);
        this.emitError(refused);
      }
      this.publishRefused = true;
    } else {
      this.publishRefused = false;
    }

    const current = new Map([...this.subscriptions].map(([id, s]) => [id, s.type] as const));
    const subs = subscriptionChanges(current, plan.subscribe);
    for (const id of subs.stop) this.dropSubscription(id);
    for (const [id, type] of subs.change) {
      this.dropSubscription(id);
      this.startSubscription(id, type);
    }
    for (const [id, type] of subs.start) this.startSubscription(id, type);

    const change = publishChange(this.publication?.streams, plan.publish);
    switch (change.kind) {
      case 'none':
        return { outcome: refused };
      case 'stop':
        this.stopPublishing();
        return { outcome: refused };
      case 'replace':
        return { outcome: await this.replaceTracks(plan.publish, change.streams) };
      case 'start':
      case 'renew': {
        if (this.publishBlocked) return { outcome: undefined };
        if (this.publishing) {
          // One publish attempt at a time; look again when this one is settled.
          const again = () => void this.reconcile();
          this.publishing.then(again, again);
          return { outcome: undefined };
        }
        const attempt = this.startPublishing(plan.publish).finally(() => {
          if (this.publishing === attempt) this.publishing = undefined;
        });
        this.publishing = attempt;
        return { outcome: attempt };
      }
    }
  }

  private encoding(stream: LocalStageStream): RTCRtpEncodingParameters | undefined {
    const config = stream.config;
    if (!config || stream.streamType !== StreamType.VIDEO) return undefined;
    const encoding: RTCRtpEncodingParameters = {};
    if (config.maxBitrate) encoding.maxBitrate = config.maxBitrate * 1000;
    if (config.maxFramerate) encoding.maxFramerate = config.maxFramerate;
    return encoding;
  }

  private async startPublishing(streams: LocalStageStream[]): Promise<StageError | undefined> {
    const claims = this.claims;
    if (!claims) return undefined;
    const previous = this.publication;
    const localId = this.localId;
    const publication: Publication = {
      link: new MediaLink({
        url: claims.whipUrl,
        token: () => this.token,
        category: StageErrorCategory.PUBLISH_ERROR,
        participantId: localId,
        iceServers: this.iceServers,
        send: streams.map((s) => ({ track: s.mediaStreamTrack, encoding: this.encoding(s) })),
        onState: (state) => this.onPublishLinkState(publication, state),
        onConnected: () => this.onPublished(publication),
        onFailed: (error) => this.onPublishFailed(publication, error),
      }),
      streams,
      // A renew (another kind added) announces only what is new.
      announced: previous ? previous.announced.filter((s) => streams.includes(s)) : [],
      state: StageParticipantPublishState.ATTEMPTING_PUBLISH,
    };
    this.publication = publication;
    this.emitEvent(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, this.info(this.localWire()), StageParticipantPublishState.ATTEMPTING_PUBLISH);
    try {
      await publication.link.start();
    } catch (e) {
      const error = e instanceof WhipError ? e.failure.error : new StageError(StageErrorCode.FAILED, StageErrorCategory.PUBLISH_ERROR, String(e));
      if (this.publication === publication) {
        this.publication = undefined;
        this.setPublishState(publication, StageParticipantPublishState.ERRORED);
        // The previous publish (a renew) carries on, if it still lives.
        if (previous && previous.link.linkState !== 'failed') this.publication = previous;
        else if (previous) this.retirePublication(previous, true);
        if (!(e instanceof WhipError && e.failure.retryable)) this.publishBlocked = true;
      }
      if (this.phase === 'joined') this.emitError(error);
      return error;
    }
    if (this.publication !== publication) return undefined; // superseded meanwhile
    // The server handed the topic to the new publish; the old one can go.
    if (previous) this.retirePublication(previous, false);
    this.watchMutes(streams);
    return undefined;
  }

  private onPublishLinkState(publication: Publication, state: LinkState): void {
    if (this.publication !== publication) return;
    if (state === 'recovering') this.setPublishState(publication, StageParticipantPublishState.ATTEMPTING_PUBLISH);
    this.updateConnectionState();
  }

  private onPublished(publication: Publication): void {
    if (this.publication !== publication || this.phase !== 'joined') return;
    this.failedMedia.delete('publish');
    for (const stream of publication.streams) stream._setSender(publication.link.sender(stream.streamType));
    this.setPublishState(publication, StageParticipantPublishState.PUBLISHED);
    const fresh = publication.streams.filter((s) => !publication.announced.includes(s));
    publication.announced = [...publication.streams];
    if (fresh.length > 0) this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, this.info(this.localWire()), fresh);
    this.sendMute();
    this.updateConnectionState();
  }

  private onPublishFailed(publication: Publication, error: StageError): void {
    if (this.publication !== publication) return;
    this.publication = undefined; // first: retiring keeps the streams of the current publication
    this.retirePublication(publication, false);
    if (error.code !== StageErrorCode.FAILED) this.publishBlocked = true;
    else if (!this.reportedByStage(error)) this.failedMedia.add('publish');
    this.setPublishState(publication, StageParticipantPublishState.ERRORED);
    if (!this.reportedByStage(error)) this.emitError(error);
    this.updateConnectionState();
  }

  /** A media link giving up while the events socket is lost too: the stage reports one FAILED
   *  for everything when its own window ends, rather than one per connection. */
  private reportedByStage(error: StageError): boolean {
    return error.code === StageErrorCode.FAILED && this.socketLostAt !== undefined;
  }

  private setPublishState(publication: Publication, state: StageParticipantPublishState): void {
    if (publication.state === state) return;
    publication.state = state;
    this.emitEvent(StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED, this.info(this.localWire()), state);
  }

  private stopPublishing(): void {
    const publication = this.publication;
    if (!publication) return;
    this.publication = undefined;
    this.retirePublication(publication, true);
  }

  /** Ends a publication; `announce` reports its streams removed and the state not published. */
  private retirePublication(publication: Publication, announce: boolean): void {
    publication.link.close();
    const kept = new Set(this.publication?.streams ?? []);
    for (const s of publication.streams) {
      if (!kept.has(s)) {
        s._setSender(undefined);
        this.muteWatch.get(s)?.();
        this.muteWatch.delete(s);
      }
    }
    const gone = publication.announced.filter((s) => !kept.has(s));
    if (announce || gone.length > 0) {
      if (gone.length > 0) this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, this.info(this.localWire()), gone);
    }
    if (announce) this.setPublishState(publication, StageParticipantPublishState.NOT_PUBLISHED);
  }

  /** A device change: the same kinds, other tracks, on the same connection. */
  private async replaceTracks(wanted: LocalStageStream[], changed: LocalStageStream[]): Promise<StageError | undefined> {
    const publication = this.publication;
    if (!publication) return undefined;
    const removed = publication.streams.filter((s) => !wanted.includes(s));
    try {
      for (const stream of changed) await publication.link.replaceTrack(stream.mediaStreamTrack);
    } catch {
      // The browser cannot swap this track in place: publish anew instead.
      return this.startPublishing(wanted);
    }
    publication.streams = wanted;
    for (const s of removed) {
      s._setSender(undefined);
      this.muteWatch.get(s)?.();
      this.muteWatch.delete(s);
    }
    for (const s of changed) s._setSender(publication.link.sender(s.streamType));
    this.watchMutes(wanted);
    if (publication.state === StageParticipantPublishState.PUBLISHED) {
      const local = this.info(this.localWire());
      const gone = removed.filter((s) => publication.announced.includes(s));
      publication.announced = [...wanted];
      if (gone.length > 0) this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, local, gone);
      this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, local, changed);
    }
    this.sendMute();
    return undefined;
  }

  private watchMutes(streams: LocalStageStream[]): void {
    for (const stream of streams) {
      if (this.muteWatch.has(stream)) continue;
      this.muteWatch.set(
        stream,
        stream._onMuteChanged((s) => {
          if (this.phase !== 'joined' || !this.publication?.streams.includes(s)) return;
          this.sendMute();
          this.emitEvent(StageEvents.STAGE_STREAM_MUTE_CHANGED, this.info(this.localWire()), s);
        }),
      );
    }
  }

  /** Tells the stage the mute state of what we publish. */
  private sendMute(): void {
    const streams = this.publication?.streams ?? [];
    const audio = streams.find((s) => s.streamType === StreamType.AUDIO);
    const video = streams.find((s) => s.streamType === StreamType.VIDEO);
    this.socket?.send({ type: 'MUTE', payload: { audioMuted: audio?.isMuted ?? false, videoStopped: video?.isMuted ?? false } });
  }

  private startSubscription(publisherId: string, type: SubscribeType): void {
    const claims = this.claims;
    if (!claims) return;
    const publisher = this.participants.get(publisherId);
    if (!publisher) return;
    const sub: Subscription = { type, link: undefined, pc: undefined, streams: new Map(), state: StageParticipantSubscribeState.ATTEMPTING_SUBSCRIBE };
    this.subscriptions.set(publisherId, sub);
    let jitterBufferMs: number | undefined;
    try {
      const delay = this.strategy.subscribeConfiguration?.(this.info(publisher))?.jitterBuffer?.minDelay;
      jitterBufferMs = typeof delay === 'number' ? delay : JITTER_PRESETS[delay ?? 'DEFAULT'];
    } catch (e) {
      console.error("troupe: the strategy's subscribeConfiguration threw", e);
    }
    const link = new MediaLink({
      url: `${claims.whipUrl.replace(/\/+$/, '')}/subscribe/${encodeURIComponent(publisherId)}`,
      token: () => this.token,
      category: StageErrorCategory.SUBSCRIBE_ERROR,
      participantId: publisherId,
      iceServers: this.iceServers,
      receive: subscribedKinds(type),
      ...(jitterBufferMs !== undefined ? { jitterBufferMs } : {}),
      onState: (state) => {
        if (this.subscriptions.get(publisherId) !== sub) return;
        if (state === 'recovering') this.setSubscribeState(publisherId, sub, StageParticipantSubscribeState.ATTEMPTING_SUBSCRIBE);
        this.updateConnectionState();
      },
      onConnected: (pc) => {
        if (this.subscriptions.get(publisherId) !== sub) return;
        if (sub.pc !== pc) {
          this.removeRemoteStreams(publisherId, sub, [...sub.streams.keys()]);
          sub.pc = pc;
        }
        this.setSubscribeState(publisherId, sub, StageParticipantSubscribeState.SUBSCRIBED);
        this.syncRemoteStreams(publisherId);
        this.updateConnectionState();
      },
      onFailed: (error, publisherGone) => {
        if (this.subscriptions.get(publisherId) !== sub) return;
        this.subscriptionFailed(publisherId, sub, error, publisherGone);
      },
    });
    sub.link = link;
    this.emitEvent(StageEvents.STAGE_PARTICIPANT_SUBSCRIBE_STATE_CHANGED, this.info(publisher), StageParticipantSubscribeState.ATTEMPTING_SUBSCRIBE);
    link.start().catch((e: unknown) => {
      if (this.subscriptions.get(publisherId) !== sub) return;
      const failure = e instanceof WhipError ? e.failure : undefined;
      const error = failure?.error ?? new StageError(StageErrorCode.FAILED, StageErrorCategory.SUBSCRIBE_ERROR, String(e), publisherId);
      this.subscriptionFailed(publisherId, sub, error, failure?.publisherGone ?? false);
    });
  }

  private subscriptionFailed(publisherId: string, sub: Subscription, error: StageError, publisherGone: boolean): void {
    sub.link?.close();
    this.removeRemoteStreams(publisherId, sub, [...sub.streams.keys()]);
    if (publisherGone) {
      // It stopped publishing as we asked: not an error. The stage state will say so; if it
      // still says it publishes (a republish in flight), try again shortly.
      this.subscriptions.delete(publisherId);
      this.setSubscribeStateOf(publisherId, StageParticipantSubscribeState.NOT_SUBSCRIBED);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.reconcile(), 1_000);
      return;
    }
    if (this.reportedByStage(error)) {
      // The socket is down too: forget it, and subscribe again once the stage is back.
      this.subscriptions.delete(publisherId);
      this.setSubscribeStateOf(publisherId, StageParticipantSubscribeState.NOT_SUBSCRIBED);
      this.updateConnectionState();
      return;
    }
    // Kept (as errored) so that it is not retried in a loop; a republish clears it.
    sub.link = undefined;
    if (error.code === StageErrorCode.FAILED) this.failedMedia.add(publisherId);
    this.setSubscribeState(publisherId, sub, StageParticipantSubscribeState.ERRORED);
    if (!this.reportedByStage(error)) this.emitError(error);
    this.updateConnectionState();
  }

  /** Ends the subscription to a publisher. `departed`: the publisher's last state, when it
   *  has left the stage (the events still name it). */
  private dropSubscription(publisherId: string, departed?: WireParticipant): void {
    const sub = this.subscriptions.get(publisherId);
    this.failedMedia.delete(publisherId);
    if (!sub) return;
    this.subscriptions.delete(publisherId);
    sub.link?.close();
    this.removeRemoteStreams(publisherId, sub, [...sub.streams.keys()], departed);
    if (sub.state !== StageParticipantSubscribeState.ERRORED) {
      this.setSubscribeStateOf(publisherId, StageParticipantSubscribeState.NOT_SUBSCRIBED, departed);
    }
  }

  private setSubscribeState(publisherId: string, sub: Subscription, state: StageParticipantSubscribeState): void {
    if (sub.state === state) return;
    sub.state = state;
    this.setSubscribeStateOf(publisherId, state);
  }

  private setSubscribeStateOf(publisherId: string, state: StageParticipantSubscribeState, departed?: WireParticipant): void {
    const p = this.participants.get(publisherId) ?? departed;
    if (p) this.emitEvent(StageEvents.STAGE_PARTICIPANT_SUBSCRIBE_STATE_CHANGED, this.info(p), state);
  }

  /** Announces the streams a connected subscription receives: the kinds subscribed that the
   *  publisher sends now. Also called when the publisher's kinds change. */
  private syncRemoteStreams(publisherId: string): void {
    const sub = this.subscriptions.get(publisherId);
    const p = this.participants.get(publisherId);
    if (!sub || !p || sub.state !== StageParticipantSubscribeState.SUBSCRIBED || !sub.link) return;
    const receivers = sub.link.receivers();
    const wanted = subscribedKinds(sub.type).filter((k) => p.streams.includes(k) && receivers.has(k));
    const gone = [...sub.streams.keys()].filter((k) => !wanted.includes(k));
    this.removeRemoteStreams(publisherId, sub, gone);
    const added: RemoteStageStream[] = [];
    for (const kind of wanted) {
      if (sub.streams.has(kind)) continue;
      const receiver = receivers.get(kind);
      if (!receiver) continue;
      const muted = kind === StreamType.AUDIO ? p.audioMuted : p.videoStopped;
      const stream = new RemoteStageStream(receiver.track, receiver, muted);
      sub.streams.set(kind, stream);
      added.push(stream);
    }
    if (added.length > 0) this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, this.info(p), added);
  }

  private removeRemoteStreams(publisherId: string, sub: Subscription, kinds: StreamType[], departed?: WireParticipant): void {
    const removed: RemoteStageStream[] = [];
    for (const kind of kinds) {
      const stream = sub.streams.get(kind);
      if (stream) removed.push(stream);
      sub.streams.delete(kind);
    }
    const p = this.participants.get(publisherId) ?? departed;
    if (removed.length > 0 && p) this.emitEvent(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, this.info(p), removed);
  }

  // ------------------------------------------------------------------------------------------
  // Connection state and emitting
  // ------------------------------------------------------------------------------------------

  /** Connected while the socket is up and no media link is recovering; connecting otherwise. */
  private updateConnectionState(): void {
    if (this.phase !== 'joined') return;
    const links = [this.publication?.link, ...[...this.subscriptions.values()].map((s) => s.link)];
    const recovering = links.some((l) => l?.linkState === 'recovering');
    const up = this.socket !== undefined && this.socketLostAt === undefined;
    if (up && this.failedMedia.size > 0) this.setConnectionState(StageConnectionState.ERRORED);
    else this.setConnectionState(up && !recovering ? StageConnectionState.CONNECTED : StageConnectionState.CONNECTING);
  }

  private setConnectionState(state: StageConnectionState): void {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emitEvent(StageEvents.STAGE_CONNECTION_STATE_CHANGED, state);
  }

  private emitError(error: StageError): void {
    this.emitEvent(StageEvents.ERROR, error);
  }

  /** Emits unless the app left: after leave(), nothing more. */
  private emitEvent<K extends keyof StageEventMap>(event: K, ...args: Parameters<StageEventMap[K]>): void {
    if (this.phase === 'left') return;
    this.emit(event, ...args);
  }
}

/** Jitter buffer presets of `subscribeConfiguration().jitterBuffer.minDelay`, in ms. */
const JITTER_PRESETS: Record<string, number | undefined> = {
  DEFAULT: undefined,
  LOW: 100,
  MEDIUM: 200,
  HIGH: 300,
  MAX: 500,
};
