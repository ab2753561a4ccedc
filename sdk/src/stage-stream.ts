// What local and remote stage streams share: a MediaStreamTrack of one kind, and its muted state.

import { StreamType } from './enums';

let nextId = 0;

/** Quality figures of a stream, read from the browser's WebRTC statistics. */
export interface StageStreamQualityStats {
  /** 'outbound-rtp' for local streams, 'inbound-rtp' for remote ones. */
  type: 'outbound-rtp' | 'inbound-rtp';
  kind: StreamType;
  bytes: number;
  packets: number;
  /** Remote streams: packets the network lost. */
  packetsLost?: number;
  /** Remote streams: interarrival jitter, seconds. */
  jitter?: number;
  /** Video: frames encoded (local) or decoded (remote). */
  frames?: number;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
}

export abstract class StageStream {
  readonly id: string;
  readonly mediaStreamTrack: MediaStreamTrack;
  readonly streamType: StreamType;

  protected constructor(track: MediaStreamTrack) {
    if (!track || (track.kind !== 'audio' && track.kind !== 'video')) {
      throw new TypeError('a stage stream needs an audio or video MediaStreamTrack');
    }
    this.mediaStreamTrack = track;
    this.streamType = track.kind === 'audio' ? StreamType.AUDIO : StreamType.VIDEO;
    this.id = `${track.kind}-${track.id || ++nextId}`;
  }

  abstract get isMuted(): boolean;
}

/** Reads the RTP statistics of a sender or receiver into StageStreamQualityStats. */
export async function qualityStats(
  source: RTCRtpSender | RTCRtpReceiver | undefined,
  kind: StreamType,
): Promise<StageStreamQualityStats[]> {
  if (!source) return [];
  const report = await source.getStats();
  const out: StageStreamQualityStats[] = [];
  report.forEach((s: Record<string, unknown>) => {
    const num = (k: string): number | undefined => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
    const outbound = s.type === 'outbound-rtp';
    if (!outbound && s.type !== 'inbound-rtp') return;
    const video = { frameWidth: num('frameWidth'), frameHeight: num('frameHeight'), framesPerSecond: num('framesPerSecond') };
    out.push(
      outbound
        ? { type: 'outbound-rtp', kind, bytes: num('bytesSent') ?? 0, packets: num('packetsSent') ?? 0, frames: num('framesEncoded'), ...video }
        : {
            type: 'inbound-rtp',
            kind,
            bytes: num('bytesReceived') ?? 0,
            packets: num('packetsReceived') ?? 0,
            packetsLost: num('packetsLost'),
            jitter: num('jitter'),
            frames: num('framesDecoded'),
            ...video,
          },
    );
  });
  return out;
}
