// LocalStageStream: a track the local participant publishes (when the strategy returns it).
// Muting disables the track (the browser then sends silence or black frames at a trickle) and
// tells the stage, which tells everyone.

import { StageStream, qualityStats, type StageStreamQualityStats } from './stage-stream';

export interface SimulcastLayer {
  width: number;
  height: number;
  maxBitrateKbps: number;
  maxFramerate: number;
}

export interface StageVideoConfiguration {
  /** kbps. Advisory: the browser's congestion control decides below the maximum. */
  minBitrate?: number;
  /** kbps: applied to the sender's encoding. */
  maxBitrate?: number;
  /** frames per second: applied to the sender's encoding. */
  maxFramerate?: number;
  /** Accepted for compatibility; Troupe publishes a single layer. */
  simulcast?: { enabled: boolean; layers?: SimulcastLayer[] };
}

export type LocalStageStreamConfiguration = StageVideoConfiguration;

export class LocalStageStream extends StageStream {
  readonly config: LocalStageStreamConfiguration | undefined;
  private muted: boolean;
  private sender: RTCRtpSender | undefined;
  private readonly muteListeners = new Set<(stream: LocalStageStream) => void>();

  constructor(track: MediaStreamTrack, config?: LocalStageStreamConfiguration) {
    super(track);
    this.config = config;
    this.muted = !track.enabled;
  }

  get isMuted(): boolean {
    return this.muted;
  }

  /** Mutes (audio) or stops (video) the stream for everyone; the connection stays. */
  setMuted(muted: boolean): void {
    const value = Boolean(muted);
    this.mediaStreamTrack.enabled = !value;
    if (value === this.muted) return;
    this.muted = value;
    for (const listener of [...this.muteListeners]) listener(this);
  }

  /** Statistics of the published stream (empty while it is not published). */
  requestQualityStats(): Promise<StageStreamQualityStats[]> {
    return qualityStats(this.sender, this.streamType);
  }

  /** @internal The stage learns of mute changes. */
  _onMuteChanged(listener: (stream: LocalStageStream) => void): () => void {
    this.muteListeners.add(listener);
    return () => this.muteListeners.delete(listener);
  }

  /** @internal The sender that publishes this stream, for statistics. */
  _setSender(sender: RTCRtpSender | undefined): void {
    this.sender = sender;
  }
}
