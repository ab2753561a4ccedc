// StageParticipantInfo: what the app sees of a participant, a snapshot taken when an event is
// emitted. Built from the server's STAGE_STATE entries (wire.ts).

import { StageParticipantCapability } from './enums';
import type { WireParticipant } from './wire';

export class StageParticipantInfo {
  /** The participant id (the token's `jti`), unique on the stage. */
  readonly id: string;
  /** The token's user id ('' when it has none). */
  readonly userId: string;
  /** The token's attributes. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Whether this is the participant of this `Stage` object. */
  readonly isLocal: boolean;
  readonly isPublishing: boolean;
  readonly audioMuted: boolean;
  readonly videoStopped: boolean;
  readonly capabilities: ReadonlySet<StageParticipantCapability>;

  /** @internal */
  constructor(wire: WireParticipant, isLocal: boolean) {
    this.id = wire.id;
    this.userId = wire.userId ?? '';
    this.attributes = Object.freeze({ ...wire.attributes });
    this.isLocal = isLocal;
    this.isPublishing = wire.isPublishing;
    this.audioMuted = wire.audioMuted;
    this.videoStopped = wire.videoStopped;
    this.capabilities = new Set(
      wire.capabilities.filter((c): c is StageParticipantCapability =>
        c === StageParticipantCapability.PUBLISH || c === StageParticipantCapability.SUBSCRIBE,
      ),
    );
  }
}
