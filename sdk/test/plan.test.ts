import { describe, expect, it, vi } from 'vitest';
import { StreamType, SubscribeType } from '../src/enums';
import { StageParticipantInfo } from '../src/participant-info';
import { planMedia, publishChange, subscriptionChanges, type RemoteView } from '../src/plan';
import type { StageStrategy } from '../src/strategy';
import { LocalStageStream } from '../src/local-stage-stream';
import { stream, track, wire } from './helpers';

const local = new StageParticipantInfo(wire('me'), true);
const remote = (id: string, streams: string[], isPublishing = streams.length > 0): RemoteView => ({
  info: new StageParticipantInfo(wire(id, { isPublishing, streams }), false),
  streams,
});
const both = { publish: true, subscribe: true };

function strategy(over: Partial<StageStrategy> = {}): StageStrategy {
  return {
    stageStreamsToPublish: () => [],
    shouldPublishParticipant: () => true,
    shouldSubscribeToParticipant: () => SubscribeType.AUDIO_VIDEO,
    ...over,
  };
}

describe('planMedia', () => {
  it('publishes one live stream per kind', () => {
    const audio = stream('audio');
    const video = stream('video');
    const ended = new LocalStageStream(track('video', 'ended'));
    const plan = planMedia(strategy({ stageStreamsToPublish: () => [ended, audio, video, stream('audio')] }), local, [], both);
    expect(plan.publish).toEqual([audio, video]);
  });

  it('publishes nothing when the strategy or the token says no', () => {
    const s = strategy({ stageStreamsToPublish: () => [stream('audio')], shouldPublishParticipant: () => false });
    expect(planMedia(s, local, [], both).publish).toEqual([]);
    const yes = strategy({ stageStreamsToPublish: () => [stream('audio')] });
    expect(planMedia(yes, local, [], { publish: false, subscribe: true }).publish).toEqual([]);
  });

  it('subscribes as the strategy says, only to publishers, never to NONE', () => {
    const types: Record<string, SubscribeType> = { a: SubscribeType.AUDIO_VIDEO, b: SubscribeType.AUDIO_ONLY, c: SubscribeType.NONE };
    const s = strategy({ shouldSubscribeToParticipant: (p) => types[p.id] ?? SubscribeType.AUDIO_VIDEO });
    const plan = planMedia(s, local, [remote('a', ['audio', 'video']), remote('b', ['audio', 'video']), remote('c', ['audio']), remote('d', [])], both);
    expect([...plan.subscribe]).toEqual([
      ['a', SubscribeType.AUDIO_VIDEO],
      ['b', SubscribeType.AUDIO_ONLY],
    ]);
  });

  it('does not subscribe audio-only to a video-only publisher, nor without SUBSCRIBE', () => {
    const s = strategy({ shouldSubscribeToParticipant: () => SubscribeType.AUDIO_ONLY });
    expect(planMedia(s, local, [remote('v', ['video'])], both).subscribe.size).toBe(0);
    expect(planMedia(strategy(), local, [remote('a', ['audio'])], { publish: true, subscribe: false }).subscribe.size).toBe(0);
  });

  it('survives a strategy that throws', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = strategy({
      stageStreamsToPublish: () => {
        throw new Error('app bug');
      },
      shouldSubscribeToParticipant: () => {
        throw new Error('app bug');
      },
    });
    const plan = planMedia(s, local, [remote('a', ['audio'])], both);
    expect(plan.publish).toEqual([]);
    expect(plan.subscribe.size).toBe(0);
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });
});

describe('publishChange', () => {
  const audio = stream('audio');
  const video = stream('video');
  it('starts, stops, or does nothing', () => {
    expect(publishChange(undefined, [audio]).kind).toBe('start');
    expect(publishChange(undefined, []).kind).toBe('none');
    expect(publishChange([audio], []).kind).toBe('stop');
    expect(publishChange([audio, video], [video, audio]).kind).toBe('none');
  });

  it('swaps tracks of the same kinds in place, renews for other kinds', () => {
    const camera2 = stream('video');
    expect(publishChange([audio, video], [audio, camera2])).toEqual({ kind: 'replace', streams: [camera2] });
    expect(publishChange([audio], [audio, video]).kind).toBe('renew');
    expect(publishChange([audio, video], [video]).kind).toBe('renew');
  });

  it('sees the same track in a new LocalStageStream as unchanged', () => {
    const again = new LocalStageStream(video.mediaStreamTrack);
    expect(publishChange([audio, video], [audio, again]).kind).toBe('none');
    expect(again.streamType).toBe(StreamType.VIDEO);
  });
});

describe('subscriptionChanges', () => {
  it('starts, stops and changes types', () => {
    const current = new Map([
      ['a', SubscribeType.AUDIO_VIDEO],
      ['b', SubscribeType.AUDIO_VIDEO],
    ]);
    const wanted = new Map([
      ['b', SubscribeType.AUDIO_ONLY],
      ['c', SubscribeType.AUDIO_VIDEO],
    ]);
    expect(subscriptionChanges(current, wanted)).toEqual({
      start: [['c', SubscribeType.AUDIO_VIDEO]],
      stop: ['a'],
      change: [['b', SubscribeType.AUDIO_ONLY]],
    });
  });
});
