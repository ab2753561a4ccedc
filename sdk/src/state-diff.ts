// From one STAGE_STATE to the next: which participants joined or left, and what changed about
// the others. Pure; the stage turns the changes into events.

import type { WireParticipant } from './wire';

export type ParticipantChange =
  | { kind: 'joined'; participant: WireParticipant }
  | { kind: 'left'; participant: WireParticipant }
  /** User id, attributes or capabilities changed (a token exchange). */
  | { kind: 'metadata'; participant: WireParticipant }
  /** Started or stopped publishing, or publishes other kinds of media. */
  | { kind: 'publishing'; participant: WireParticipant; before: WireParticipant }
  /** Muted or unmuted one kind (audio: audioMuted; video: videoStopped). */
  | { kind: 'mute'; participant: WireParticipant; stream: 'audio' | 'video' };

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((v, i) => v === sorted[i]);
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** The changes from `before` (by id) to `after`, joins first and departures last. */
export function diffParticipants(
  before: ReadonlyMap<string, WireParticipant>,
  after: readonly WireParticipant[],
): ParticipantChange[] {
  const changes: ParticipantChange[] = [];
  const seen = new Set<string>();
  for (const p of after) {
    if (seen.has(p.id)) continue; // a duplicate entry: the first one counts
    seen.add(p.id);
    const old = before.get(p.id);
    if (!old) {
      changes.push({ kind: 'joined', participant: p });
      continue;
    }
    if (old.userId !== p.userId || !sameAttributes(old.attributes, p.attributes) || !sameStrings(old.capabilities, p.capabilities)) {
      changes.push({ kind: 'metadata', participant: p });
    }
    if (old.isPublishing !== p.isPublishing || !sameStrings(old.streams, p.streams)) {
      changes.push({ kind: 'publishing', participant: p, before: old });
    }
    if (old.audioMuted !== p.audioMuted) changes.push({ kind: 'mute', participant: p, stream: 'audio' });
    if (old.videoStopped !== p.videoStopped) changes.push({ kind: 'mute', participant: p, stream: 'video' });
  }
  for (const [id, old] of before) {
    if (!seen.has(id)) changes.push({ kind: 'left', participant: old });
  }
  return changes;
}
