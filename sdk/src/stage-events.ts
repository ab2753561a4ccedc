// The arguments of each StageEvents member: `stage.on(StageEvents.X, listener)` is typed by it.

import type {
  StageConnectionState,
  StageEvents,
  StageLeftReason,
  StageParticipantPublishState,
  StageParticipantSubscribeState,
} from './enums';
import type { StageParticipantInfo } from './participant-info';
import type { RemoteStageStreamLayer } from './remote-stage-stream';
import type { StageError } from './stage-error';
import type { StageStream } from './stage-stream';

export interface StageEventMap {
  [StageEvents.ERROR]: (error: StageError) => void;
  [StageEvents.STAGE_CONNECTION_STATE_CHANGED]: (state: StageConnectionState) => void;
  [StageEvents.STAGE_LEFT]: (reason: StageLeftReason) => void;
  [StageEvents.STAGE_PARTICIPANT_JOINED]: (participant: StageParticipantInfo) => void;
  [StageEvents.STAGE_PARTICIPANT_LEFT]: (participant: StageParticipantInfo) => void;
  [StageEvents.STAGE_PARTICIPANT_METADATA_CHANGED]: (participant: StageParticipantInfo) => void;
  [StageEvents.STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED]: (participant: StageParticipantInfo, state: StageParticipantPublishState) => void;
  [StageEvents.STAGE_PARTICIPANT_SUBSCRIBE_STATE_CHANGED]: (participant: StageParticipantInfo, state: StageParticipantSubscribeState) => void;
  [StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED]: (participant: StageParticipantInfo, streams: StageStream[]) => void;
  [StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED]: (participant: StageParticipantInfo, streams: StageStream[]) => void;
  [StageEvents.STAGE_STREAM_MUTE_CHANGED]: (participant: StageParticipantInfo, stream: StageStream) => void;
  [StageEvents.STAGE_STREAM_ADAPTION_CHANGED]: (participant: StageParticipantInfo, stream: StageStream, adapting: boolean) => void;
  [StageEvents.STAGE_STREAM_LAYERS_CHANGED]: (participant: StageParticipantInfo, stream: StageStream, layers: RemoteStageStreamLayer[]) => void;
  [StageEvents.STAGE_STREAM_LAYER_SELECTED]: (participant: StageParticipantInfo, stream: StageStream, layer: RemoteStageStreamLayer | undefined, reason: string) => void;
  [StageEvents.STAGE_STREAM_SEI_MESSAGE_RECEIVED]: (participant: StageParticipantInfo, stream: StageStream, message: unknown) => void;
}
