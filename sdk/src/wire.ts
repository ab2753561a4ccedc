// The events socket's JSON messages (the server's `messages.rs`), parsed defensively: the
// server is trusted, but a proxy or a newer server may send what this SDK does not know, and
// unknown members and types are ignored rather than fatal.

export interface WireParticipant {
  id: string;
  userId: string | undefined;
  attributes: Record<string, string>;
  isPublishing: boolean;
  /** The kinds its publish sends ("audio", "video"); Troupe's addition to the IVS shape. */
  streams: string[];
  audioMuted: boolean;
  videoStopped: boolean;
  capabilities: string[];
}

export type ServerMessage =
  | { type: 'STAGE_STATE'; stageId: string; sessionId: string | null; participants: WireParticipant[] }
  | { type: 'PONG' }
  | { type: 'DISCONNECTED'; reason: string; message: string | undefined }
  | { type: 'TOKEN_EXCHANGED'; capabilities: string[] };

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function participant(value: unknown): WireParticipant | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Record<string, unknown>;
  if (typeof p.id !== 'string' || p.id === '') return undefined;
  const attributes: Record<string, string> = {};
  if (typeof p.attributes === 'object' && p.attributes !== null) {
    for (const [k, v] of Object.entries(p.attributes as Record<string, unknown>)) {
      if (typeof v === 'string') attributes[k] = v;
    }
  }
  const isPublishing = p.isPublishing === true;
  return {
    id: p.id,
    userId: typeof p.userId === 'string' ? p.userId : undefined,
    attributes,
    isPublishing,
    // A server without the `streams` member: assume both kinds while publishing.
    streams: !isPublishing ? [] : Array.isArray(p.streams) ? strings(p.streams) : ['audio', 'video'],
    audioMuted: p.audioMuted === true,
    videoStopped: p.videoStopped === true,
    capabilities: strings(p.capabilities),
  };
}

/** Parses one text frame; undefined for anything this SDK does not act on. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { type, payload } = json as { type?: unknown; payload?: unknown };
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  switch (type) {
    case 'STAGE_STATE': {
      if (!Array.isArray(body.participants)) return undefined;
      const participants = body.participants.map(participant).filter((p): p is WireParticipant => p !== undefined);
      return {
        type,
        stageId: typeof body.stageId === 'string' ? body.stageId : '',
        sessionId: typeof body.sessionId === 'string' ? body.sessionId : null,
        participants,
      };
    }
    case 'PONG':
      return { type };
    case 'DISCONNECTED':
      return {
        type,
        reason: typeof body.reason === 'string' ? body.reason : '',
        message: typeof body.message === 'string' ? body.message : undefined,
      };
    case 'TOKEN_EXCHANGED':
      return { type, capabilities: strings(body.capabilities) };
    default:
      return undefined;
  }
}
