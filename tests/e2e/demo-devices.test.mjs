// Switching camera and microphone in the demo while on the stage (Chromium with three fake
// cameras and three fake microphones): the others keep seeing and hearing the host, on the
// same connection (one PUBLISH_STARTED in the host's history, no new session). The switch goes
// to the third fake camera: Chromium's fake cameras cycle through pixel formats (I420, Y16,
// MJPEG), and its WebRTC encoder takes no frames from the second's 16-bit depth format (a
// <video> shows them; a sender gets none), so a switch to it would freeze whatever the app did.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListParticipantEventsCommand, ListParticipantsCommand, ListStageSessionsCommand } from '@aws-sdk/client-ivs-realtime';
import { serverAndBrowser, waitFor } from './browser.mjs';
import { openStage, playingRemotes, screenshot, stageName } from './demo-pages.mjs';

const env = serverAndBrowser({}, { cameras: 3 });

/** The label of the local track of `kind` the page publishes. */
const localTrack = (page, kind) => page.evaluate((k) => {
  const video = document.querySelector('.tile.local video');
  return k === 'video' ? video.srcObject?.getVideoTracks()[0]?.label : undefined;
}, kind);

test('switching camera and microphone on the stage keeps the connection', async () => {
  const stage = stageName('devices');
  const host = await openStage(env.browser, env.server.url, stage, { name: 'ivy' });
  const watcher = await openStage(env.browser, env.server.url, stage, { name: 'jon', role: 'viewer' });
  await waitFor('jon to see ivy', async () => (await playingRemotes(watcher)).includes('ivy'), 40_000);
  assert.equal(await localTrack(host, 'video'), 'fake_device_0');

  // The pickers list the devices by name, the ones in use selected.
  await host.locator('#devices summary').click();
  const cameras = await host.locator('#camera-select option').allTextContents();
  assert.deepEqual(cameras, ['fake_device_0', 'fake_device_1', 'fake_device_2']);
  assert.equal(await host.locator('#microphone-select option').count(), 3);

  await host.getByLabel('Camera', { exact: true }).selectOption({ label: 'fake_device_2' });
  await waitFor('ivy\'s preview to show the third camera', async () => (await localTrack(host, 'video')) === 'fake_device_2');
  await host.getByLabel('Microphone', { exact: true }).selectOption({ label: 'Fake Audio Input 1' });
  await waitFor('the toast to confirm the microphone', async () => /Fake Audio Input 1/.test(await host.locator('#toast').textContent()));
  await screenshot(host, 'demo-devices');

  // Jon still sees her, and her video keeps moving after the switch.
  await waitFor('jon to keep seeing ivy', async () => (await playingRemotes(watcher)).includes('ivy'), 20_000);
  // The switch used the same publish: her history has one PUBLISH_STARTED and no PUBLISH_STOPPED.
  const client = env.server.client();
  const stageArn = (await (await fetch(`${env.server.url}/demo/api/stage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: stage }) })).json()).stageArn;
  const { stageSessions } = await client.send(new ListStageSessionsCommand({ stageArn }));
  const sessionId = stageSessions[0].sessionId;
  const { participants } = await client.send(new ListParticipantsCommand({ stageArn, sessionId, filterByUserId: 'ivy' }));
  assert.equal(participants.length, 1);
  const { events } = await client.send(new ListParticipantEventsCommand({ stageArn, sessionId, participantId: participants[0].participantId }));
  const names = events.map((e) => e.name);
  assert.equal(names.filter((n) => n === 'PUBLISH_STARTED').length, 1, names.join(' '));
  assert.ok(!names.includes('PUBLISH_STOPPED'), names.join(' '));
  await Promise.all([host, watcher].map((p) => p.context().close()));
});
