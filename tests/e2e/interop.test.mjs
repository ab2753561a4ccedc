// The Web SDK with a WHIP client that is not a browser: a page using only the SDK receives and
// renders what aiortc publishes (its test pattern, checked pixel by pixel), and aiortc decodes
// what the page publishes with the SDK. aiortc ignores 127.0.0.1, so the server advertises this
// machine's non-loopback address.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { startServer } from '../conformance/harness.mjs';
import { launchBrowser, newStage, openApp, waitFor } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const python = join(here, '../../.venv-test/bin/python');
const nodeIp = Object.values(networkInterfaces()).flat().find((a) => a.family === 'IPv4' && !a.internal)?.address;

let server;
let browser;
before(async () => {
  assert.ok(existsSync(python), 'the Python test environment (.venv-test, made by scripts/test) is missing');
  assert.ok(nodeIp, 'this machine has no non-loopback IPv4 address, which aiortc needs');
  server = await startServer({ args: ['--node-ip', nodeIp] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs aiortc_peer.py; `lines` yields its JSON lines. */
function peer(...args) {
  const child = spawn(python, [join(here, 'aiortc_peer.py'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    get stderr() { return stderr; },
    event: (name, ms = 30_000) => waitFor(`aiortc to say ${name} (${stderr.slice(-500)})`, () => lines.find((l) => l.event === name || l.event === 'refused'), ms),
  };
}

test('a page using only the SDK renders what aiortc publishes', async () => {
  const { stage, participant, token } = await newStage(server);
  const publisher = await participant('aiortc', ['PUBLISH']);
  const aiortc = peer('publish', stage.endpoints.whip, publisher.token);
  try {
    assert.equal((await aiortc.event('published')).event, 'published');
    const page = await openApp(browser, server.url);
    assert.deepEqual(await page.evaluate((t) => app.join(t, { publish: 'none' }), await token('viewer', ['SUBSCRIBE'])), { ok: true });
    await waitFor('the page to decode aiortc', async () => {
      const r = Object.values(await page.evaluate(() => app.remoteStats()))[0];
      return r?.framesDecoded > 10 && r.audioPackets > 20 && r.userId === 'aiortc';
    });
    // The pattern itself: the left half red, the right half blue.
    const colours = await page.evaluate(() => {
      const video = document.querySelector('video');
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(video, 0, 0);
      const at = (x) => [...ctx.getImageData(Math.floor(canvas.width * x), Math.floor(canvas.height / 2), 1, 1).data.slice(0, 3)];
      return { size: [canvas.width, canvas.height], left: at(0.25), right: at(0.75) };
    });
    assert.deepEqual(colours.size, [320, 240]);
    const [lr, lg, lb] = colours.left;
    const [rr, rg, rb] = colours.right;
    assert.ok(lr > 180 && lg < 80 && lb < 80, `left half not red: ${colours.left}`);
    assert.ok(rb > 180 && rr < 80 && rg < 80, `right half not blue: ${colours.right}`);
    await page.close();
  } finally {
    aiortc.child.stdin.end();
    await aiortc.exited;
  }
});

test('aiortc decodes what a page publishes with the SDK', async () => {
  const { stage, participant } = await newStage(server);
  const host = await participant('browser');
  const page = await openApp(browser, server.url);
  assert.deepEqual(await page.evaluate((t) => app.join(t, { subscribe: 'none', video: { width: 320, height: 180, frameRate: 15 } }), host.token), { ok: true });
  await waitFor('published', () => page.evaluate(() => app.named('stageParticipantPublishStateChanged').some((e) => e.value === 'published')));
  const viewer = await participant('aiortc', ['SUBSCRIBE']);
  const aiortc = peer('subscribe', stage.endpoints.whip, viewer.token, host.participantId);
  const result = await aiortc.event('result', 45_000);
  await aiortc.exited;
  assert.equal(result.event, 'result', JSON.stringify(result));
  assert.ok(result.video_frames >= 30, JSON.stringify(result));
  assert.ok(result.audio_frames >= 50, JSON.stringify(result));
  assert.deepEqual([result.width, result.height], [320, 180]);
  await page.close();
});
