// Who receives what: an audio-only subscriber gets no video, an audio-only guest publishes only
// audio, a subscribe-only viewer sees everyone without being published, and refreshStrategy()
// changes publishing and subscriptions — a camera swap without a new connection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStage, openApp, serverAndBrowser, waitFor } from './browser.mjs';

const env = serverAndBrowser();

/** Counts the page's publish POSTs (new publish connections). */
async function countPosts(page) {
  await page.evaluate(() => {
    window.whipPosts = 0;
    const original = window.fetch;
    window.fetch = (input, init) => {
      if (init?.method === 'POST' && /\/whip$/.test(String(input))) window.whipPosts++;
      return original(input, init);
    };
  });
}

test('an audio-only subscriber receives no video; an audio-only guest sends none', async () => {
  const { token } = await newStage(env.server);
  const [host, listener, guest] = await Promise.all([0, 1, 2].map(() => openApp(env.browser, env.server.url)));
  assert.deepEqual(await host.evaluate((t) => app.join(t), await token('host')), { ok: true });
  assert.deepEqual(await guest.evaluate((t) => app.join(t, { publish: 'audio' }), await token('guest')), { ok: true });
  assert.deepEqual(await listener.evaluate((t) => app.join(t, { publish: 'none', subscribe: 'audio_only' }), await token('listener', ['SUBSCRIBE'])), { ok: true });

  const heard = await waitFor('the listener to hear both', async () => {
    const s = Object.values(await listener.evaluate(() => app.remoteStats()));
    return s.length === 2 && s.every((r) => r.audioPackets > 20) && s;
  });
  for (const r of heard) {
    assert.deepEqual(r.kinds, ['audio']);
    assert.equal(r.videoPackets, 0);
  }
  assert.equal(await listener.evaluate(() => document.querySelectorAll('video').length), 0);
  // The host receives the guest's audio, and no video stream is announced for the guest.
  const atHost = await waitFor('the host to hear the guest', async () => {
    const s = Object.values(await host.evaluate(() => app.remoteStats())).find((r) => r.userId === 'guest');
    return s?.audioPackets > 20 && s;
  });
  assert.deepEqual(atHost.kinds, ['audio']);
  await Promise.all([host, listener, guest].map((p) => p.close()));
});

test('a subscribe-only viewer sees every host and is not published', async () => {
  const { token } = await newStage(env.server);
  const hosts = await Promise.all([0, 1].map(() => openApp(env.browser, env.server.url)));
  const viewer = await openApp(env.browser, env.server.url);
  await Promise.all(hosts.map(async (p, i) => p.evaluate((t) => app.join(t), await token(`host${i}`))));
  assert.deepEqual(await viewer.evaluate((t) => app.join(t, { publish: 'none' }), await token('viewer', ['SUBSCRIBE'])), { ok: true });
  await waitFor('the viewer to render both hosts', async () => {
    const s = Object.values(await viewer.evaluate(() => app.remoteStats()));
    return s.length === 2 && s.every((r) => r.framesDecoded > 0 && r.audioPackets > 0);
  });
  // The hosts see the viewer on the stage, never publishing, and receive nothing from it.
  for (const host of hosts) {
    const viewerSeen = await waitFor('the host to know the viewer', () =>
      host.evaluate(() => app.named('stageParticipantJoined').find((e) => e.participant.userId === 'viewer')));
    assert.equal(viewerSeen.participant.isPublishing, false);
    assert.deepEqual(viewerSeen.participant.capabilities, ['SUBSCRIBE']);
    const streams = await host.evaluate(() => app.named('stageParticipantStreamsAdded').filter((e) => e.participant.userId === 'viewer').length);
    assert.equal(streams, 0);
  }
  const published = await viewer.evaluate(() => app.named('stageParticipantPublishStateChanged').filter((e) => e.participant.isLocal).length);
  assert.equal(published, 0);
  await Promise.all([...hosts, viewer].map((p) => p.close()));
});

test('refreshStrategy: a camera swap on the same connection, subscribe type changes, unpublish and republish', async () => {
  const { token } = await newStage(env.server);
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  await countPosts(a);
  await a.evaluate((t) => app.join(t), await token('alice'));
  await b.evaluate((t) => app.join(t), await token('bob'));
  await waitFor('bob to receive alice', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);
  const postsBefore = await a.evaluate(() => window.whipPosts);

  // A "device change": a new camera track, the same kinds published.
  const swap = await a.evaluate(async () => {
    const { LocalStageStream } = IVSBroadcastClient;
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 240, height: 160 } });
    const old = app.local.find((s) => s.streamType === 'video');
    app.local = [app.local.find((s) => s.streamType === 'audio'), new LocalStageStream(media.getVideoTracks()[0])];
    app.stage.refreshStrategy();
    await new Promise((r) => setTimeout(r, 1500));
    old.mediaStreamTrack.stop();
    return { posts: window.whipPosts, stats: await app.localStats() };
  });
  assert.equal(swap.posts, postsBefore, 'the swap made no new WHIP session');
  assert.ok(swap.stats.some((s) => s.kind === 'video' && s.frameWidth === 240), JSON.stringify(swap.stats));
  await waitFor('bob to decode the new camera', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.width === 240);

  // Bob switches alice to audio only, then back.
  await b.evaluate(() => { app.strategy.shouldSubscribeToParticipant = () => 'audio_only'; app.stage.refreshStrategy(); });
  await waitFor('bob to receive alice as audio only', async () => {
    const r = Object.values(await b.evaluate(() => app.remoteStats()))[0];
    return r && r.kinds.join() === 'audio' && r.audioPackets > 0;
  });
  await b.evaluate(() => { app.strategy.shouldSubscribeToParticipant = () => 'audio_video'; app.stage.refreshStrategy(); });
  await waitFor('bob to see alice again', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);

  // Alice stops publishing, then publishes again.
  await a.evaluate(() => { app.saved = app.local; app.local = []; app.stage.refreshStrategy(); });
  await waitFor('bob to lose alice', () => b.evaluate(() => window.remote.size === 0));
  const states = await a.evaluate(() => app.named('stageParticipantPublishStateChanged').filter((e) => e.participant.isLocal).map((e) => e.value));
  assert.deepEqual(states, ['attempting_publish', 'published', 'not_published']);
  await a.evaluate(() => { app.local = app.saved; app.stage.refreshStrategy(); });
  await waitFor('bob to see alice republished', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);
  await Promise.all([a.close(), b.close()]);
});

test('turning the camera on later adds the video stream, once', async () => {
  const { token } = await newStage(env.server);
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  assert.deepEqual(await a.evaluate((t) => app.join(t, { publish: 'audio' }), await token('alice')), { ok: true });
  await b.evaluate((t) => app.join(t, { publish: 'none' }), await token('bob', ['SUBSCRIBE']));
  await waitFor('bob to hear alice', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.audioPackets > 0);
  await a.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 160, height: 120 } });
    app.local = [...app.local, new IVSBroadcastClient.LocalStageStream(media.getVideoTracks()[0])];
    app.stage.refreshStrategy();
  });
  await waitFor('bob to see alice', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);
  const local = await a.evaluate(() => app.named('stageParticipantStreamsAdded').filter((e) => e.participant.isLocal).map((e) => e.streams.map((s) => s.kind)));
  assert.deepEqual(local, [['audio'], ['video']]);
  assert.equal(await a.evaluate(() => app.named('stageParticipantStreamsRemoved').length), 0);
  await Promise.all([a.close(), b.close()]);
});
