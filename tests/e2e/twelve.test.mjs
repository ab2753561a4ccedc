// A full stage: twelve publishers (eleven low-resolution pages that only publish, and one that
// also receives everyone) — the browser participant renders eleven remote videos, and a
// thirteenth publisher is refused with STAGE_AT_CAPACITY at the default limit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStage, openApp, serverAndBrowser, waitFor } from './browser.mjs';

const env = serverAndBrowser();

const SMALL = { width: 160, height: 120, frameRate: 10 };

test('twelve publishers: one participant renders the eleven others; the thirteenth is refused', async () => {
  const { token } = await newStage(env.server);
  const publishers = [];
  for (let i = 0; i < 11; i++) publishers.push(await openApp(env.browser, env.server.url, { viewport: { width: 320, height: 240 } }));
  const joins = await Promise.all(
    publishers.map(async (p, i) => p.evaluate(([t, video]) => app.join(t, { subscribe: 'none', video }), [await token(`pub${i + 1}`), SMALL])),
  );
  assert.ok(joins.every((j) => j.ok), JSON.stringify(joins));
  const host = await openApp(env.browser, env.server.url, { viewport: { width: 1280, height: 720 } });
  assert.deepEqual(await host.evaluate(([t, video]) => app.join(t, { video }), [await token('host'), SMALL]), { ok: true });
  const stats = await waitFor('the host to render eleven remote videos', async () => {
    const s = Object.values(await host.evaluate(() => app.remoteStats()));
    return s.length === 11 && s.every((r) => r.framesDecoded > 0 && r.width > 0) && s;
  }, 60_000, 500);
  assert.deepEqual(stats.map((r) => r.userId).sort(), Array.from({ length: 11 }, (_, i) => `pub${i + 1}`).sort());
  assert.equal(await host.evaluate(() => document.querySelectorAll('video').length), 11);

  const extra = await openApp(env.browser, env.server.url);
  const refused = await extra.evaluate((t) => app.join(t, { publish: 'audio' }), await token('thirteenth'));
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 6, refused.error.message); // STAGE_AT_CAPACITY
  assert.equal(refused.error.category, 'PUBLISH_ERROR');
  await Promise.all([...publishers, host, extra].map((p) => p.close()));
});
