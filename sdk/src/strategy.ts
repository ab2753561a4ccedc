// The strategy: the app's answers to "what do I publish, and whom do I receive". The stage asks
// on join, on every change of the stage, and when the app calls refreshStrategy().

import type { SubscribeType } from './enums';
import type { LocalStageStream } from './local-stage-stream';
import type { StageParticipantInfo } from './participant-info';
import type { RemoteStageStream, RemoteStageStreamLayer } from './remote-stage-stream';

export interface SubscribeConfiguration {
  /** Jitter buffer: `minDelay` in milliseconds, applied to the receivers (`jitterBufferTarget`). */
  jitterBuffer?: { minDelay?: number | 'DEFAULT' | 'LOW' | 'MEDIUM' | 'HIGH' | 'MAX' };
  /** Accepted for compatibility; Troupe does not negotiate simulcast. */
  simulcast?: { initialLayerPreference?: string };
}

export interface StageStrategy {
  stageStreamsToPublish(): LocalStageStream[];
  shouldPublishParticipant(participant: StageParticipantInfo): boolean;
  shouldSubscribeToParticipant(participant: StageParticipantInfo): SubscribeType;
  subscribeConfiguration?(participant: StageParticipantInfo): SubscribeConfiguration;
  preferredLayerForStream?(participant: StageParticipantInfo, stream: RemoteStageStream): RemoteStageStreamLayer | undefined;
}
