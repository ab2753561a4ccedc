// Strategy evaluation: what the local participant should publish and whom it should receive,
// and how that differs from what it does now. Pure; the stage carries the plan out.

import { StreamType, SubscribeType } from './enums';
import type { LocalStageStream } from './local-stage-stream';
import type { StageParticipantInfo } from './participant-info';
import type { StageStrategy } from './strategy';

export interface RemoteView {
  info: StageParticipantInfo;
  /** The kinds it publishes now. */
  streams: readonly string[];
}

export interface MediaPlan {
  /** What to publish: at most one stream per kind, live tracks only; empty = do not publish. */
  publish: LocalStageStream[];
  /** Whom to receive, and what; participants absent here are not received. */
  subscribe: Map<string, SubscribeType>;
}

/** Calls the strategy, guarding against app code that throws or returns nonsense. */
function ask<T>(what: string, fallback: T, call: () => T): T {
  try {
    return call();
  } catch (e) {
    console.error(`troupe: the strategy's ${what} threw; treated as ${JSON.stringify(fallback)}`, e);
    return fallback;
  }
}

/** The kinds a subscription of `type` receives. */
export function subscribedKinds(type: SubscribeType): StreamType[] {
  if (type === SubscribeType.AUDIO_VIDEO) return [StreamType.AUDIO, StreamType.VIDEO];
  if (type === SubscribeType.AUDIO_ONLY) return [StreamType.AUDIO];
  return [];
}

export function planMedia(
  strategy: StageStrategy,
  local: StageParticipantInfo,
  remotes: readonly RemoteView[],
  can: { publish: boolean; subscribe: boolean },
): MediaPlan {
  const publish: LocalStageStream[] = [];
  if (can.publish && ask('shouldPublishParticipant', false, () => strategy.shouldPublishParticipant(local)) === true) {
    const streams = ask('stageStreamsToPublish', [] as LocalStageStream[], () => strategy.stageStreamsToPublish());
    for (const stream of Array.isArray(streams) ? streams : []) {
      if (!stream || !stream.mediaStreamTrack || stream.mediaStreamTrack.readyState === 'ended') continue;
      if (publish.some((s) => s.streamType === stream.streamType)) continue; // one per kind
      publish.push(stream);
    }
  }
  const subscribe = new Map<string, SubscribeType>();
  if (can.subscribe) {
    for (const remote of remotes) {
      if (remote.info.isLocal || !remote.info.isPublishing) continue;
      const type = ask('shouldSubscribeToParticipant', SubscribeType.NONE, () => strategy.shouldSubscribeToParticipant(remote.info));
      const kinds = subscribedKinds(type);
      // Nothing it sends is wanted (an audio-only subscription to a video-only publisher).
      if (!kinds.some((k) => remote.streams.includes(k))) continue;
      subscribe.set(remote.info.id, type);
    }
  }
  return { publish, subscribe };
}

export type PublishChange =
  | { kind: 'none' }
  | { kind: 'start' }
  | { kind: 'stop' }
  /** Same kinds, other tracks: swap them on the existing connection (RTCRtpSender.replaceTrack). */
  | { kind: 'replace'; streams: LocalStageStream[] }
  /** Other kinds: a new publish, which takes over from the old one on the server. */
  | { kind: 'renew' };

/** How to go from what is published now to `wanted`. */
export function publishChange(current: readonly LocalStageStream[] | undefined, wanted: readonly LocalStageStream[]): PublishChange {
  if (!current) return wanted.length > 0 ? { kind: 'start' } : { kind: 'none' };
  if (wanted.length === 0) return { kind: 'stop' };
  const kinds = (list: readonly LocalStageStream[]) => list.map((s) => s.streamType).sort().join(',');
  if (kinds(current) !== kinds(wanted)) return { kind: 'renew' };
  const changed = wanted.filter((w) => !current.some((c) => c.mediaStreamTrack === w.mediaStreamTrack));
  return changed.length > 0 ? { kind: 'replace', streams: changed } : { kind: 'none' };
}

export interface SubscriptionChanges {
  start: [string, SubscribeType][];
  stop: string[];
  /** A new subscribe type: a new subscription replaces the old one. */
  change: [string, SubscribeType][];
}

export function subscriptionChanges(current: ReadonlyMap<string, SubscribeType>, wanted: ReadonlyMap<string, SubscribeType>): SubscriptionChanges {
  const out: SubscriptionChanges = { start: [], stop: [], change: [] };
  for (const [id, type] of wanted) {
    const now = current.get(id);
    if (now === undefined) out.start.push([id, type]);
    else if (now !== type) out.change.push([id, type]);
  }
  for (const id of current.keys()) if (!wanted.has(id)) out.stop.push(id);
  return out;
}
