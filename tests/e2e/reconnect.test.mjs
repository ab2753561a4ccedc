// Lost connectivity, end to end. A server that stops answering for a few seconds: the SDK
// restarts ICE on the same WHIP sessions (PATCH) and media resumes. A server that crashes and
// comes back: the SDK reconnects the events socket and opens new sessions, reporting
// STAGE_CONNECTION_STATE_CHANGED along the way.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, tempDataDir } from '../conformance/harness.mjs';
import { launchBrowser, newStage, openApp, waitFor } from './browser.mjs';

let browser;
after(async () => {
  await browser?.close();
});

/** Counts the page's WHIP requests by method (POST to /whip, PATCH). */
async function countRequests(page) {
  await page.evaluate(() => {
    window.requests = { publish: 0, patch: 0 };
    const original = window.fetch;
    window.fetch = (input, init) => {
      if (init?.method === 'PATCH') window.requests.patch++;
      if (init?.method === 'POST' && /\/whip$/.test(String(input))) window.requests.publish++;
      return original(input, init);
    };
  });
}

async function decodedFrom(page) {
  return Object.values(await page.evaluate(() => app.remoteStats()))[0]?.framesDecoded ?? 0;
}

async function twoHosts(server) {
  browser ??= await launchBrowser();
  const { token } = await newStage(server);
  const [a, b] = await Promise.all([openApp(browser, server.url), openApp(browser, server.url)]);
  await countRequests(a);
  assert.deepEqual(await a.evaluate((t) => app.join(t), await token('alice')), { ok: true });
  assert.deepEqual(await b.evaluate((t) => app.join(t), await token('bob')), { ok: true });
  await waitFor('both to receive each other', async () => (await decodedFrom(a)) > 0 && (await decodedFrom(b)) > 0);
  return [a, b];
}

test('a server that stops answering for a while: ICE restarts on the same sessions', async () => {
  const server = await startServer();
  try {
    const [a, b] = await twoHosts(server);
    const before = await a.evaluate(() => ({ ...window.requests }));
    // The server stops answering until the page has noticed (its connection goes
    // 'disconnected') and sent its ICE restart: how long that takes depends on the browser's
    // consent checks and on how busy the machine is, not on a fixed pause.
    server.child.kill('SIGSTOP');
    await waitFor('the page to send an ICE restart', () => a.evaluate((n) => window.requests.patch > n, before.patch), 20_000, 100)
      .finally(() => server.child.kill('SIGCONT'));
    const resumed = await decodedFrom(a);
    await waitFor('media to flow again both ways', async () => (await decodedFrom(a)) > resumed + 20 && (await decodedFrom(b)) > 0, 30_000);
    const after = await a.evaluate(() => ({ ...window.requests }));
    assert.ok(after.patch > before.patch, `no ICE restart was sent: ${JSON.stringify(after)}`);
    assert.equal(after.publish, before.publish, 'the publish was replaced instead of restarted');
    const states = await a.evaluate(() => app.named('stageConnectionStateChanged').map((e) => e.value));
    assert.deepEqual(states.slice(-2), ['connecting', 'connected'], JSON.stringify(states));
    assert.equal(await a.evaluate(() => app.named('error').length), 0);
    await Promise.all([a.close(), b.close()]);
  } finally {
    server.child.kill('SIGCONT');
    await server.stop();
  }
});

test('a server that crashes and comes back: new sessions, the stage carries on', async () => {
  const dataDir = tempDataDir();
  const first = await startServer({ dataDir, keepData: true });
  const port = new URL(first.url).port;
  const udp = first.child.spawnargs[first.child.spawnargs.indexOf('--udp-ports') + 1];
  let second;
  try {
    const [a, b] = await twoHosts(first);
    await first.stop('SIGKILL');
    await waitFor('the page to notice', () => a.evaluate(() => app.named('stageConnectionStateChanged').at(-1)?.value === 'connecting'), 15_000);
    second = await startServer({ dataDir, args: ['--bind', `127.0.0.1:${port}`, '--udp-ports', udp] });
    const before = await decodedFrom(a);
    await waitFor('media to flow again both ways', async () => {
      const [fa, fb] = [await decodedFrom(a), await decodedFrom(b)];
      return fa > 10 && fb > 10 && fa !== before;
    }, 40_000, 500);
    await waitFor('the stage to say connected', () => a.evaluate(() => app.named('stageConnectionStateChanged').at(-1)?.value === 'connected'));
    assert.equal(await a.evaluate(() => app.named('error').length), 0);
    assert.ok((await a.evaluate(() => window.requests.publish)) >= 2, 'a new publish session');
    await Promise.all([a.close(), b.close()]);
  } finally {
    await second?.stop();
  }
});
