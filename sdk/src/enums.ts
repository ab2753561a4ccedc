// The Stage API's enums, with the IVS Web Broadcast SDK's value strings, so that code comparing
// against them (or against the strings) behaves as it does with IVS.

/** What a participant receives from another one. */
export enum SubscribeType {
  NONE = 'none',
  AUDIO_ONLY = 'audio_only',
  AUDIO_VIDEO = 'audio_video',
}

/** The kind of a stage stream. */
export enum StreamType {
  AUDIO = 'audio',
  VIDEO = 'video',
}

/** The connection of the local participant to the stage. */
export enum StageConnectionState {
  DISCONNECTED = 'disconnected',
  CONNECTING = 'connecting',
  CONNECTED = 'connected',
  ERRORED = 'errored',
}

export enum StageParticipantPublishState {
  NOT_PUBLISHED = 'not_published',
  ATTEMPTING_PUBLISH = 'attempting_publish',
  PUBLISHED = 'published',
  ERRORED = 'errored',
}

export enum StageParticipantSubscribeState {
  NOT_SUBSCRIBED = 'not_subscribed',
  ATTEMPTING_SUBSCRIBE = 'attempting_subscribe',
  SUBSCRIBED = 'subscribed',
  ERRORED = 'errored',
}

/** What a participant's token allows (`StageParticipantInfo.capabilities`). */
export enum StageParticipantCapability {
  PUBLISH = 'PUBLISH',
  SUBSCRIBE = 'SUBSCRIBE',
}

/** Why the stage was left (the argument of `StageEvents.STAGE_LEFT`). */
export enum StageLeftReason {
  /** DisconnectParticipant was called for this participant. */
  PARTICIPANT_DISCONNECTED = 'participantDisconnected',
  /** The stage was deleted. */
  STAGE_DELETED = 'stageDeleted',
  /** The token expired and was not exchanged in time. */
  TOKEN_EXPIRED = 'tokenExpired',
  /** The same participant (token) joined from somewhere else. */
  REPLACED = 'replaced',
  /** The connection could not be restored within the retry window. */
  CONNECTION_FAILED = 'connectionFailed',
}

/** Every event a `Stage` emits, with the IVS value strings. */
export enum StageEvents {
  ERROR = 'error',
  STAGE_CONNECTION_STATE_CHANGED = 'stageConnectionStateChanged',
  STAGE_LEFT = 'stageLeft',
  STAGE_PARTICIPANT_JOINED = 'stageParticipantJoined',
  STAGE_PARTICIPANT_LEFT = 'stageParticipantLeft',
  STAGE_PARTICIPANT_METADATA_CHANGED = 'stageParticipantMetadataChanged',
  STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED = 'stageParticipantPublishStateChanged',
  STAGE_PARTICIPANT_SUBSCRIBE_STATE_CHANGED = 'stageParticipantSubscribeStateChanged',
  STAGE_PARTICIPANT_STREAMS_ADDED = 'stageParticipantStreamsAdded',
  STAGE_PARTICIPANT_STREAMS_REMOVED = 'stageParticipantStreamsRemoved',
  STAGE_STREAM_MUTE_CHANGED = 'stageStreamMuteChanged',
  // Simulcast events: declared for API compatibility; Troupe does not negotiate simulcast yet,
  // so they are never emitted.
  STAGE_STREAM_ADAPTION_CHANGED = 'stageStreamAdaptionChanged',
  STAGE_STREAM_LAYERS_CHANGED = 'stageStreamLayersChanged',
  STAGE_STREAM_LAYER_SELECTED = 'stageStreamLayerSelected',
  STAGE_STREAM_SEI_MESSAGE_RECEIVED = 'stageStreamSeiMessageReceived',
}
