// A server that is gone for good: the SDK retries for about 30 s, reporting CONNECTING, then
// gives up with ERROR (FAILED) and the connection state ERRORED.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../conformance/harness.mjs';
import { launchBrowser, newStage, openApp, waitFor } from './browser.mjs';

let browser;
after(async () => {
  await browser?.close();
});

test('no server for 30 s: ERROR with FAILED, then nothing more', async () => {
  const server = await startServer();
  browser = await launchBrowser();
  const { token } = await newStage(server);
  const page = await openApp(browser, server.url);
  assert.deepEqual(await page.evaluate((t) => app.join(t, { publish: 'audio' }), await token('alone')), { ok: true });
  await waitFor('published', () => page.evaluate(() => app.named('stageParticipantPublishStateChanged').some((e) => e.value === 'published')));
  const killedAt = Date.now();
  await server.stop('SIGKILL');
  const error = await waitFor('FAILED', () => page.evaluate(() => app.named('error')[0]), 60_000, 500);
  const took = error.t - killedAt;
  assert.equal(error.error.code, 4, error.error.message); // FAILED
  assert.ok(took >= 25_000 && took <= 45_000, `gave up after ${took} ms`);
  const states = await page.evaluate(() => app.named('stageConnectionStateChanged').map((e) => e.value));
  assert.deepEqual(states, ['connecting', 'connected', 'connecting', 'errored']);
  await new Promise((r) => setTimeout(r, 3_000));
  const errors = await page.evaluate(() => app.named('error').map((e) => e.error));
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0].category, 'JOIN_ERROR');
  await page.close();
});
