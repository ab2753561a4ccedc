// Troupe across a real network: Chromium in one namespace, Troupe in another, a NAT between
// them whose firewall changes from case to case (network.mjs). In each case two hosts join a
// stage and see each other, and the test reads which candidate pair Chromium chose:
//   (a) UDP open             → a UDP pair to the server's host candidate;
//   (b) UDP dropped          → ICE over TCP to the server's passive TCP candidate;
//   (c) only TCP 443 allowed → a relay candidate through the embedded TURN server over TLS;
//   (d) the demo app, over HTTPS with the self-signed certificate, from a non-loopback
//       address (a secure page, so the browser gives it the camera).
// Troupe: HTTPS on 443 at the node IP, TURN (UDP/TCP 3478, TLS 443) on a second address, as a
// deployment for such networks would have it (two services cannot share one address's 443).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { chromium } from 'playwright-core';
import { CreateStageCommand, CreateParticipantTokenCommand } from '@aws-sdk/client-ivs-realtime';
import { client, troupeBin } from '../conformance/harness.mjs';
import { openApp, selectedPairs, waitFor } from '../e2e/browser.mjs';
import { openStage, playingRemotes, screenshot, stageName } from '../e2e/demo-pages.mjs';
import { ADDR, createNetwork } from './network.mjs';

const env = {};

/** `troupe serve` in the server namespace; resolves once it printed its ready line. */
async function startTroupe(net) {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-netns-data-'));
  const args = [
    'serve', '--dev', '--access-key-id', 'devkey', '--secret-access-key', 'devsecret',
    '--bind', `${ADDR.server}:443`, '--node-ip', ADDR.server, '--public-url', `https://${ADDR.server}`,
    '--udp-ports', '7801-7802', '--data-dir', dataDir, '--tls', 'self-signed',
    '--turn-ip', ADDR.serverTurn, '--turn-tls-port', '443', '--log-level', 'info',
  ];
  const child = net.spawn('server', troupeBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  await waitFor('troupe to start in the server namespace', () => {
    if (child.exitCode !== null) throw new Error(`troupe exited with ${child.exitCode}: ${stderr}`);
    return stdout.includes('troupe listening on');
  }, 30_000, 100);
  return { child, dataDir, get stdout() { return stdout; }, get stderr() { return stderr; } };
}

before(async () => {
  env.net = createNetwork();
  env.troupe = await startTroupe(env.net);
  // The test reaches the API on its own link through the NAT (never filtered), trusting the
  // server's certificate.
  const ca = readFileSync(join(env.troupe.dataDir, 'tls', 'self-signed-cert.pem'));
  env.agent = new Agent({ ca, keepAlive: true });
  env.api = client(`https://${ADDR.server}`, { requestHandler: { httpsAgent: env.agent } });
  const launch = (env_ = process.env) => chromium.launch({
    env: env_,
    executablePath: env.net.chromium(),
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
    ],
  });
  // A browser as a visitor has it: the certificate is not trusted (pages click through the
  // warning), so TURN over TLS, which a browser cannot click through, is out of reach.
  env.browser = await launch();
  // A browser whose user imported the node's self-signed certificate (the README says how):
  // TURN over TLS can be used.
  const home = mkdtempSync(join(tmpdir(), 'troupe-netns-home-'));
  const nssdb = join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'P,,', '-n', 'troupe', '-i', join(env.troupe.dataDir, 'tls', 'self-signed-cert.pem')]);
  env.trustingBrowser = await launch({ ...process.env, HOME: home });
});

after(async () => {
  await env.browser?.close();
  await env.trustingBrowser?.close();
  env.troupe?.child.kill('SIGTERM');
  env.agent?.destroy();
  env.net?.destroy();
});

const PUBLIC = `https://${ADDR.server}`;

/** Two hosts join a new stage from the client namespace; resolves with their pages once each
 *  decodes the other's video. */
async function twoHosts(browser = env.browser) {
  const { stage } = await env.api.send(new CreateStageCommand({ name: stageName('net') }));
  const token = async (userId) => (await env.api.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, capabilities: ['PUBLISH', 'SUBSCRIBE'] }))).participantToken.token;
  const pages = await Promise.all([0, 1].map(() => openApp(browser, PUBLIC, { ignoreHTTPSErrors: true })));
  const joins = await Promise.all([pages[0].evaluate((t) => app.join(t), await token('alice')), pages[1].evaluate((t) => app.join(t), await token('bob'))]);
  assert.deepEqual(joins, [{ ok: true }, { ok: true }]);
  await waitFor('both hosts to decode the other', async () => {
    const stats = await Promise.all(pages.map((p) => p.evaluate(() => app.remoteStats())));
    return stats.every((s) => Object.values(s)[0]?.framesDecoded > 0);
  }, 60_000);
  return pages;
}

/** The candidate pairs of every peer connection of the pages, once all are connected. */
async function connectedPairs(pages) {
  return waitFor('every peer connection to be connected', async () => {
    const pairs = (await Promise.all(pages.map((p) => selectedPairs(p)))).flat();
    return pairs.length >= 4 && pairs.every((p) => p.state === 'connected' && p.local) && pairs;
  }, 30_000);
}

/** One line per pair, for the report: `local type/protocol(/relay protocol) → remote type/protocol`. */
const describe = (pairs) => pairs.map((p) => `${p.local.type}/${p.local.protocol}${p.local.relayProtocol ? `/${p.local.relayProtocol}` : ''} → ${p.remote.type}/${p.remote.protocol} ${p.remote.address}:${p.remote.port}`);

test('(a) UDP open: Chromium uses a UDP pair to the host candidate', async () => {
  env.net.firewall('open');
  const pages = await twoHosts();
  const pairs = await connectedPairs(pages);
  console.log('# (a) UDP open:', JSON.stringify(describe(pairs)));
  for (const p of pairs) {
    assert.equal(p.remote.type, 'host', describe([p])[0]);
    assert.equal(p.remote.protocol, 'udp', describe([p])[0]);
    assert.equal(p.remote.address, ADDR.server);
    assert.notEqual(p.local.type, 'relay');
  }
  await Promise.all(pages.map((p) => p.context().close()));
});

test('(b) UDP dropped: Chromium connects over ICE-TCP to the passive TCP candidate', async () => {
  env.net.firewall('no-udp');
  const pages = await twoHosts();
  const pairs = await connectedPairs(pages);
  console.log('# (b) UDP dropped:', JSON.stringify(describe(pairs)));
  for (const p of pairs) {
    assert.equal(p.remote.protocol, 'tcp', describe([p])[0]);
    assert.equal(p.remote.address, ADDR.server);
    assert.notEqual(p.local.type, 'relay', describe([p])[0]);
  }
  await Promise.all(pages.map((p) => p.context().close()));
});

test('(c) only TCP 443 allowed: Chromium connects through the embedded TURN server over TLS', async () => {
  env.net.firewall('tcp-443-only');
  const pages = await twoHosts(env.trustingBrowser);
  const pairs = await connectedPairs(pages);
  console.log('# (c) only TCP 443:', JSON.stringify(describe(pairs)));
  for (const p of pairs) {
    assert.equal(p.local.type, 'relay', describe([p])[0]);
    assert.equal(p.local.relayProtocol, 'tls', describe([p])[0]);
    assert.equal(p.local.address, ADDR.serverTurn, 'the relayed address is on the TURN address');
    assert.equal(p.remote.address, ADDR.server);
  }
  await Promise.all(pages.map((p) => p.context().close()));
});

test('(d) the demo over HTTPS from a non-loopback address, self-signed: two hosts see each other', async () => {
  env.net.firewall('open');
  const stage = stageName('lan');
  const open = (name) => openStage(env.browser, PUBLIC, stage, { name, contextOptions: { ignoreHTTPSErrors: true } });
  const alice = await open('alice');
  const bob = await open('bob');
  // A secure page: the camera is there (over plain HTTP it would not be).
  assert.equal(await alice.evaluate(() => window.isSecureContext && Boolean(navigator.mediaDevices)), true);
  for (const [page, other] of [[alice, 'bob'], [bob, 'alice']]) {
    await waitFor(`${other}'s video to play`, async () => JSON.stringify(await playingRemotes(page)) === JSON.stringify([other]), 40_000);
  }
  await screenshot(alice, 'netns-demo-https-lan');
  await Promise.all([alice.context().close(), bob.context().close()]);
});
