// Hosts on a stage with the Web SDK in headless Chromium: they see and hear each other, mute
// and unmute reach the others, leave() removes a host's streams from the others quickly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStage, openApp, serverAndBrowser, waitFor } from './browser.mjs';

const env = serverAndBrowser();

test('two hosts see and hear each other', async () => {
  const { token } = await newStage(env.server);
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  const [ja, jb] = await Promise.all([a.evaluate((t) => app.join(t), await token('alice')), b.evaluate((t) => app.join(t), await token('bob'))]);
  assert.deepEqual([ja, jb], [{ ok: true }, { ok: true }]);
  const first = await waitFor('both to decode the other', async () => {
    const [sa, sb] = await Promise.all([a.evaluate(() => app.remoteStats()), b.evaluate(() => app.remoteStats())]);
    const ra = Object.values(sa)[0];
    const rb = Object.values(sb)[0];
    return ra?.framesDecoded > 0 && rb?.framesDecoded > 0 && ra.audioPackets > 0 && rb.audioPackets > 0 && { ra, rb };
  });
  assert.equal(first.ra.userId, 'bob');
  assert.equal(first.rb.userId, 'alice');
  // Rising, not just once: media keeps flowing.
  await waitFor('frames and audio to keep rising', async () => {
    const ra = Object.values(await a.evaluate(() => app.remoteStats()))[0];
    return ra.framesDecoded > first.ra.framesDecoded + 10 && ra.audioPackets > first.ra.audioPackets + 50;
  });
  // The local participant saw itself join and its own streams published.
  const local = await a.evaluate(() => app.named('stageParticipantStreamsAdded').filter((e) => e.participant.isLocal));
  assert.equal(local.length, 1);
  assert.deepEqual(local[0].streams.map((s) => s.kind).sort(), ['audio', 'video']);
  const joined = await a.evaluate(() => app.named('stageParticipantJoined').map((e) => [e.participant.userId, e.participant.isLocal]));
  assert.deepEqual(joined.sort(), [['alice', true], ['bob', false]]);
  await Promise.all([a.close(), b.close()]);
});

test('four hosts each render the three others', async () => {
  const { token } = await newStage(env.server);
  const names = ['h1', 'h2', 'h3', 'h4'];
  const pages = await Promise.all(names.map(() => openApp(env.browser, env.server.url)));
  const joins = await Promise.all(pages.map(async (p, i) => p.evaluate((t) => app.join(t, { video: { width: 160, height: 120, frameRate: 10 } }), await token(names[i]))));
  assert.ok(joins.every((j) => j.ok), JSON.stringify(joins));
  await waitFor('every host to render three remote videos', async () => {
    const all = await Promise.all(pages.map((p) => p.evaluate(() => app.remoteStats())));
    return all.every((s) => Object.values(s).length === 3 && Object.values(s).every((r) => r.framesDecoded > 0 && r.width > 0));
  }, 40_000);
  const seen = await pages[0].evaluate(() => [...window.remote.values()].map((e) => e.info.userId).sort());
  assert.deepEqual(seen, ['h2', 'h3', 'h4']);
  await Promise.all(pages.map((p) => p.close()));
});

test('mute and unmute reach the others; leave() removes the streams within two seconds', async () => {
  const { token } = await newStage(env.server);
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  await a.evaluate((t) => app.join(t), await token('alice'));
  await b.evaluate((t) => app.join(t), await token('bob'));
  await waitFor('bob to receive alice', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);

  await a.evaluate(() => app.setMuted('audio', true));
  const muted = await waitFor('bob to see alice muted', () =>
    b.evaluate(() => app.named('stageStreamMuteChanged').find((e) => e.participant.userId === 'alice' && e.stream.kind === 'audio' && e.stream.muted)),
  );
  assert.equal(muted.participant.audioMuted, true);
  await a.evaluate(() => app.setMuted('video', true));
  await waitFor('bob to see alice stop her video', () =>
    b.evaluate(() => app.named('stageStreamMuteChanged').find((e) => e.stream.kind === 'video' && e.stream.muted && e.participant.videoStopped)),
  );
  await a.evaluate(() => { app.setMuted('audio', false); app.setMuted('video', false); });
  await waitFor('bob to see alice unmuted', () =>
    b.evaluate(() => {
      const entry = [...window.remote.values()][0];
      return entry && [...entry.streams.values()].every((s) => !s.isMuted);
    }),
  );
  // The local side reports its own mutes too.
  const localMutes = await a.evaluate(() => app.named('stageStreamMuteChanged').filter((e) => e.participant.isLocal).length);
  assert.equal(localMutes, 4);

  const left = Date.now();
  await a.evaluate(() => app.leave());
  const removed = await waitFor('bob to lose alice', () =>
    b.evaluate(() => window.remote.size === 0 && app.named('stageParticipantStreamsRemoved').at(-1)), 5_000, 50);
  const took = removed.t - left;
  assert.ok(took < 2_000, `streams removed after ${took} ms`);
  // leave() is final: alice's page emits nothing more.
  const before = await a.evaluate(() => window.events.length);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await a.evaluate(() => window.events.length), before);
  await Promise.all([a.close(), b.close()]);
});

test('leave() from beforeunload: closing the tab removes the host from the others at once', async () => {
  const { token } = await newStage(env.server);
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  await a.evaluate((t) => app.join(t), await token('alice'));
  await a.evaluate(() => window.addEventListener('beforeunload', () => app.leave()));
  await b.evaluate((t) => app.join(t, { publish: 'none' }), await token('bob', ['SUBSCRIBE']));
  await waitFor('bob to receive alice', async () => Object.values(await b.evaluate(() => app.remoteStats()))[0]?.framesDecoded > 0);
  const closed = Date.now();
  await a.close({ runBeforeUnload: true });
  // Without the DELETEs, the server would notice only when ICE consent times out (~30 s).
  const removed = await waitFor('bob to lose alice', () =>
    b.evaluate(() => window.remote.size === 0 && app.named('stageParticipantStreamsRemoved').at(-1)), 5_000, 50);
  assert.ok(removed.t - closed < 2_000, `removed after ${removed.t - closed} ms`);
  await b.close();
});
