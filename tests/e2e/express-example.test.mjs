// examples/express-multihost as a user runs it: Troupe, the Express backend with the AWS SDK
// pointed at it, and two Chromium pages on the example's own origin that join one stage and
// see each other (the SDK loaded cross-origin from Troupe).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { launchBrowser, waitFor } from './browser.mjs';
import { startServer } from '../conformance/harness.mjs';
import { screenshot } from './demo-pages.mjs';

const env = { server: undefined, browser: undefined };
const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'express-multihost');
let example;

before(async () => {
  env.server = await startServer();
  env.browser = await launchBrowser();
  const child = spawn(process.execPath, ['server.js'], {
    cwd: exampleDir,
    env: { ...process.env, TROUPE_URL: env.server.url, PORT: '0', AWS_ACCESS_KEY_ID: 'devkey', AWS_SECRET_ACCESS_KEY: 'devsecret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => { output += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start in 15 s\n${output}`)), 15_000);
    child.stdout.on('data', (d) => {
      output += d;
      const m = output.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the example exited with ${code}\n${output}`)); });
  });
  example = { child, url };
});
after(async () => {
  example?.child.kill();
  await env.browser?.close();
  await env.server?.stop();
});

async function post(path, body) {
  const res = await fetch(`${example.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test('the backend gets or creates a stage and mints tokens with the user name in the attributes', async () => {
  const first = await post('/ivs-stage', { name: 'tutorial' });
  const again = await post('/ivs-stage', { name: 'tutorial' });
  assert.equal(first.status, 200);
  assert.equal(again.body.stageArn, first.body.stageArn);
  const { status, body } = await post('/ivs-stage-token', { username: 'ana', stageName: 'tutorial' });
  assert.equal(status, 200);
  const claims = jose.decodeJwt(body.token);
  assert.equal(claims.resource, first.body.stageArn);
  assert.deepEqual(claims.attributes, { username: 'ana' });
  assert.equal((await post('/ivs-stage-token', { username: '', stageName: 'tutorial' })).status, 400);
});

test('two pages join the same stage and see each other', async () => {
  const pages = [];
  for (const name of ['ana', 'bo']) {
    const context = await env.browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('example page error:', e.message));
    await page.goto(example.url);
    await page.fill('#stage-name', 'tutorial-call');
    await page.fill('#username', name);
    await page.click('#join-button');
    pages.push(page);
  }
  for (const [i, page] of pages.entries()) {
    const other = i === 0 ? 'bo' : 'ana';
    await waitFor(`${i === 0 ? 'ana' : 'bo'} to see ${other}'s video`, () => page.evaluate((name) => {
      const tile = [...document.querySelectorAll('.participant')].find((t) => t.querySelector('span').textContent === name);
      const video = tile?.querySelector('video');
      return Boolean(video && video.videoWidth > 0 && !video.paused && video.currentTime > 0);
    }, other), 40_000);
  }
  await screenshot(pages[0], 'express-example');
  await Promise.all(pages.map((p) => p.context().close()));
});
