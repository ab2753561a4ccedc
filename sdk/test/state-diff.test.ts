import { describe, expect, it } from 'vitest';
import { diffParticipants } from '../src/state-diff';
import { wire } from './helpers';

const byId = (...ps: ReturnType<typeof wire>[]) => new Map(ps.map((p) => [p.id, p]));

describe('diffParticipants', () => {
  it('reports joins first and departures last', () => {
    const changes = diffParticipants(byId(wire('a'), wire('b')), [wire('b'), wire('c')]);
    expect(changes.map((c) => `${c.kind}:${c.participant.id}`)).toEqual(['joined:c', 'left:a']);
  });

  it('reports nothing when nothing changed, whatever the order', () => {
    const a = wire('a', { attributes: { x: '1', y: '2' }, capabilities: ['SUBSCRIBE', 'PUBLISH'] });
    const a2 = wire('a', { attributes: { y: '2', x: '1' }, capabilities: ['PUBLISH', 'SUBSCRIBE'] });
    expect(diffParticipants(byId(a, wire('b')), [wire('b'), a2])).toEqual([]);
  });

  it('tells metadata, publishing and each mute apart', () => {
    const before = wire('a', { isPublishing: true, streams: ['audio', 'video'] });
    const after = wire('a', { userId: 'ann', isPublishing: true, streams: ['audio'], audioMuted: true, videoStopped: true });
    const kinds = diffParticipants(byId(before), [after]).map((c) => (c.kind === 'mute' ? `mute:${c.stream}` : c.kind));
    expect(kinds).toEqual(['metadata', 'publishing', 'mute:audio', 'mute:video']);
  });

  it('reports a change of published kinds as publishing, with the state before', () => {
    const before = wire('a', { isPublishing: true, streams: ['audio'] });
    const [change] = diffParticipants(byId(before), [wire('a', { isPublishing: true, streams: ['audio', 'video'] })]);
    expect(change?.kind).toBe('publishing');
    expect(change?.kind === 'publishing' && change.before.streams).toEqual(['audio']);
  });

  it('keeps the first of duplicate entries', () => {
    const changes = diffParticipants(new Map(), [wire('a'), wire('a', { userId: 'dup' })]);
    expect(changes).toHaveLength(1);
  });
});
