// What the demo app tells a person when something goes wrong, and the way on it offers: a full
// stage, blocked devices, no camera, an expired pass, being removed, the stage ending. The
// server allows two publishers per stage here, so that "full" needs only three browsers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeleteStageCommand, DisconnectParticipantCommand, GetStageCommand, ListParticipantsCommand, ListStageSessionsCommand,
} from '@aws-sdk/client-ivs-realtime';
import { selfSigner, serverAndBrowser, waitFor } from './browser.mjs';
import { startServer } from '../conformance/harness.mjs';
import { noticeTitle, openStage, playingRemotes, screenshot, stageName, tiles } from './demo-pages.mjs';

const env = serverAndBrowser({ args: ['--max-publishers', '2'] });

/** Stands in for a browser whose person refused the camera prompt. */
const DENY_DEVICES = () => {
  navigator.mediaDevices.getUserMedia = async () => { throw new DOMException('Permission denied', 'NotAllowedError'); };
};
/** Stands in for a computer with a microphone and no camera. */
const NO_CAMERA = () => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    if (c?.video) throw new DOMException('Requested device not found', 'NotFoundError');
    return real(c);
  };
};

/** The ARN of the demo stage named `name` (the demo backend created it). */
async function stageArn(name) {
  const res = await fetch(`${env.server.url}/demo/api/stage`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
  return (await res.json()).stageArn;
}

test('a full stage: the third host is told so, and can watch as a viewer', async () => {
  const stage = stageName('full');
  const a = await openStage(env.browser, env.server.url, stage, { name: 'ann' });
  const b = await openStage(env.browser, env.server.url, stage, { name: 'ben' });
  await waitFor('ann and ben to see each other', async () => (await playingRemotes(a)).includes('ben') && (await playingRemotes(b)).includes('ann'), 40_000);
  const c = await openStage(env.browser, env.server.url, stage, { name: 'cat' });
  assert.equal(await noticeTitle(c), 'This stage is full');
  await screenshot(c, 'demo-stage-full');
  // The refused host does not stay on the stage: her tile goes from the others' screens.
  await waitFor('cat\'s tile to go from ann\'s page', async () => !(await tiles(a)).some((t) => t.name === 'cat'), 5_000, 100);
  await c.getByRole('button', { name: 'Watch as a viewer' }).click();
  await waitFor('cat, now a viewer, to see ann and ben', async () => JSON.stringify(await playingRemotes(c)) === '["ann","ben"]', 40_000);
  assert.equal(await c.locator('body').getAttribute('data-role'), 'viewer');
  await Promise.all([a, b, c].map((p) => p.context().close()));
});

test('blocked devices: said in plain words, and joining as a viewer works', async () => {
  const page = await openStage(env.browser, env.server.url, stageName('denied'), { name: 'dan', initScript: DENY_DEVICES });
  assert.equal(await noticeTitle(page), 'Your camera and microphone are blocked');
  assert.match(await page.locator('#notice-text').textContent(), /Allow access/);
  await screenshot(page, 'demo-devices-blocked');
  await page.getByRole('button', { name: 'Watch as a viewer' }).click();
  await waitFor('the viewer to be connected', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  await page.context().close();
});

test('no camera: joining with the microphone only, heard and shown without video', async () => {
  const stage = stageName('nocam');
  const host = await openStage(env.browser, env.server.url, stage, { name: 'eve' });
  const guest = await openStage(env.browser, env.server.url, stage, { name: 'fay', initScript: NO_CAMERA });
  assert.equal(await noticeTitle(guest), 'No camera found');
  await guest.getByRole('button', { name: 'Join with microphone only' }).click();
  await waitFor('eve to see fay\'s tile, without video', async () => {
    const fay = (await tiles(host)).find((t) => t.name === 'fay');
    return fay && !fay.video && fay;
  });
  // Her audio arrives: eve's page plays it.
  await waitFor('fay\'s audio to play on eve\'s page', () => host.evaluate(() => {
    const audio = document.querySelector('.tile[data-name="fay"] audio');
    return audio && !audio.paused && audio.srcObject?.getAudioTracks()[0]?.readyState === 'live';
  }));
  assert.equal(await guest.getByRole('button', { name: /camera/i }).count(), 0, 'a guest has no camera button');
  await Promise.all([host, guest].map((p) => p.context().close()));
});

test('an expired pass: said so, and rejoining gets a new one', async () => {
  const stage = stageName('expired');
  const arn = await stageArn(stage);
  const client = env.server.client();
  const { stage: full } = await client.send(new GetStageCommand({ arn }));
  const sign = await selfSigner(client, full);
  const expired = await sign({ expiresInSeconds: -120, attributes: { name: 'gus' } });
  // The first token the backend hands out has expired (a page left open too long).
  const context = await env.browser.newContext({ viewport: { width: 960, height: 540 } });
  let first = true;
  await context.route('**/demo/api/token', async (route) => {
    if (!first) return route.continue();
    first = false;
    await route.fulfill({ json: { token: expired, participantId: 'x', role: 'host' } });
  });
  const page = await context.newPage();
  await page.goto(`${env.server.url}/stage/${stage}?name=gus&join=1`);
  assert.equal(await noticeTitle(page), 'Your pass to this stage expired');
  await page.getByRole('button', { name: 'Try again' }).click();
  await waitFor('gus to be connected with a new pass', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  await context.close();
});

test('removed by the API, and the stage ending: each said in plain words', async () => {
  const stage = stageName('ends');
  const page = await openStage(env.browser, env.server.url, stage, { name: 'hal' });
  await waitFor('hal to be connected', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  const arn = await stageArn(stage);
  const client = env.server.client();
  // The page's participant, as an operator would find it.
  const participantId = await waitFor('hal in ListParticipants', async () => {
    const { stageSessions } = await client.send(new ListStageSessionsCommand({ stageArn: arn }));
    const sessionId = stageSessions.find((s) => !s.endTime)?.sessionId;
    if (!sessionId) return undefined;
    const { participants } = await client.send(new ListParticipantsCommand({ stageArn: arn, sessionId, filterByState: 'CONNECTED' }));
    return participants.find((p) => p.userId === 'hal')?.participantId;
  });
  await client.send(new DisconnectParticipantCommand({ stageArn: arn, participantId, reason: 'test' }));
  assert.equal(await noticeTitle(page), 'You were removed from the stage');
  await screenshot(page, 'demo-removed');
  await page.getByRole('button', { name: 'Try again' }).click();
  await waitFor('hal to be back', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  await client.send(new DeleteStageCommand({ arn }));
  assert.equal(await noticeTitle(page), 'This stage has ended');
  assert.equal(await page.getByRole('button', { name: 'Back to the start page' }).count(), 1);
  await page.context().close();
});

test('the server gone: "Reconnecting…" at once, then "Connection lost" with a way back', async () => {
  const server = await startServer();
  try {
    const page = await openStage(env.browser, server.url, stageName('gone'), { name: 'ola' });
    await waitFor('ola to be connected', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
    server.child.kill('SIGKILL');
    const said = [];
    await waitFor('the indicator to say reconnecting', async () => {
      said.push(await page.locator('#connection').textContent());
      return said.at(-1) === 'Reconnecting…';
    }, 10_000, 100).catch((e) => { throw new Error(`${e.message}: ${[...new Set(said)]}`); });
    assert.equal(await noticeTitle(page, 60_000), 'Connection lost');
    assert.deepEqual(await page.locator('#notice-actions button').allTextContents(), ['Try again', 'Back to the start page']);
    await screenshot(page, 'demo-connection-lost');
    await page.context().close();
  } finally {
    await server.stop();
  }
});
