// Test helpers: wire participants and stand-in tracks for the pure modules (Node has no
// MediaStreamTrack; the browser end-to-end tests use real ones).
import { LocalStageStream } from '../src/local-stage-stream';
import type { WireParticipant } from '../src/wire';

export function wire(id: string, more: Partial<WireParticipant> = {}): WireParticipant {
  return {
    id,
    userId: undefined,
    attributes: {},
    isPublishing: false,
    streams: [],
    audioMuted: false,
    videoStopped: false,
    capabilities: ['PUBLISH', 'SUBSCRIBE'],
    ...more,
  };
}

let n = 0;
export function track(kind: 'audio' | 'video', readyState: 'live' | 'ended' = 'live'): MediaStreamTrack {
  return { kind, id: `t${++n}`, enabled: true, readyState } as unknown as MediaStreamTrack;
}

export function stream(kind: 'audio' | 'video'): LocalStageStream {
  return new LocalStageStream(track(kind));
}
