// RemoteStageStream: a stream of another participant, received through a subscription.

import { StageStream, qualityStats, type StageStreamQualityStats } from './stage-stream';

/** A simulcast layer; Troupe does not negotiate simulcast, so streams have none. */
export interface RemoteStageStreamLayer {
  width: number;
  height: number;
  maxBitrateKbps?: number;
  maxFramerate?: number;
}

export class RemoteStageStream extends StageStream {
  private muted: boolean;
  private readonly receiver: RTCRtpReceiver | undefined;

  /** @internal */
  constructor(track: MediaStreamTrack, receiver: RTCRtpReceiver | undefined, muted: boolean) {
    super(track);
    this.receiver = receiver;
    this.muted = muted;
  }

  /** Whether its participant muted it (audio) or stopped it (video). */
  get isMuted(): boolean {
    return this.muted;
  }

  /** @internal */
  _setMuted(muted: boolean): void {
    this.muted = muted;
  }

  requestQualityStats(): Promise<StageStreamQualityStats[]> {
    return qualityStats(this.receiver, this.streamType);
  }

  getLayers(): RemoteStageStreamLayer[] {
    return [];
  }

  getSelectedLayer(): RemoteStageStreamLayer | undefined {
    return undefined;
  }

  getLowestQualityLayer(): RemoteStageStreamLayer | undefined {
    return undefined;
  }

  getHighestQualityLayer(): RemoteStageStreamLayer | undefined {
    return undefined;
  }
}
