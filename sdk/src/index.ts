// The Troupe Web SDK: the IVS Web Broadcast SDK's real-time Stage API, for Troupe. Loaded with a
// <script> tag it defines the global `IVSBroadcastClient`, as the IVS SDK does; as a module it
// exports the same names.

export { Stage } from './stage';
export {
  StageConnectionState,
  StageEvents,
  StageLeftReason,
  StageParticipantCapability,
  StageParticipantPublishState,
  StageParticipantSubscribeState,
  StreamType,
  SubscribeType,
} from './enums';
export { StageError, StageErrorCategory, StageErrorCode } from './stage-error';
export { StageParticipantInfo } from './participant-info';
export { StageStream, type StageStreamQualityStats } from './stage-stream';
export { LocalStageStream, type LocalStageStreamConfiguration, type SimulcastLayer, type StageVideoConfiguration } from './local-stage-stream';
export { RemoteStageStream, type RemoteStageStreamLayer } from './remote-stage-stream';
export type { StageStrategy, SubscribeConfiguration } from './strategy';
export type { StageEventMap } from './stage-events';

declare const __TROUPE_SDK_VERSION__: string;
/** This SDK's version. */
export const VERSION: string = typeof __TROUPE_SDK_VERSION__ === 'string' ? __TROUPE_SDK_VERSION__ : 'dev';
