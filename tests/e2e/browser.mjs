// Headless Chromium for the end-to-end tests: one browser per test file, pages that load the
// Web SDK from the Troupe server under test (as an app would, with a script tag) and the small
// test app (page-app.js).

import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CreateStageCommand, CreateParticipantTokenCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer } from '../conformance/harness.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

/** Chromium with fake devices (`cameras`: how many fake cameras; it also has three microphones). */
export function launchBrowser({ cameras = 1 } = {}) {
  // playwright-core gives the browser a fresh temporary profile of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      cameras > 1 ? `--use-fake-device-for-media-stream=device-count=${cameras}` : '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * One `troupe serve` (with `serverOptions`) and one browser (with `browserOptions`) for the tests of a file, started
 * before the first and stopped after the last: `env.server`, `env.browser`.
 */
export function serverAndBrowser(serverOptions = {}, browserOptions = {}) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer(serverOptions);
    env.browser = await launchBrowser(browserOptions);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** A page on the server's origin with the SDK (`/sdk/troupe.js`) and the test app loaded. */
export async function openApp(browser, serverUrl, { viewport = { width: 640, height: 480 }, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await trackPeerConnections(page);
  await gotoSettled(page, `${serverUrl}/healthz`);
  await page.addScriptTag({ url: `${serverUrl}/sdk/troupe.js` });
  await page.addScriptTag({ path: join(here, 'page-app.js') });
  return page;
}

/**
 * `page.goto`, again when Chromium aborts it with ERR_NETWORK_CHANGED: it does so once when
 * interfaces appear or change under it (the network-namespace tests make theirs just before).
 */
export async function gotoSettled(page, url, attempts = 3) {
  for (let i = 1; ; i++) {
    try {
      return await page.goto(url);
    } catch (e) {
      if (i >= attempts || !String(e.message).includes('ERR_NETWORK_CHANGED')) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A stage, and a function minting tokens on it with the real AWS SDK. */
export async function newStage(server, name = `e2e-${Math.random().toString(36).slice(2, 8)}`) {
  const client = server.client();
  const { stage } = await client.send(new CreateStageCommand({ name }));
  const participant = async (userId, capabilities = ['PUBLISH', 'SUBSCRIBE'], extra = {}) => {
    const { participantToken } = await client.send(
      new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, capabilities, attributes: { name: userId }, ...extra }),
    );
    return participantToken;
  };
  const token = async (...args) => (await participant(...args)).token;
  return { stage, client, token, participant };
}

/** Polls `check` (async, returns a truthy value when done) until it holds or `ms` pass. */
export async function waitFor(what, check, ms = 20_000, every = 250) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 0)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * A signer of self-signed tokens (ImportPublicKey + jose) for `stage`, so that a test can pick
 * the claims and the expiry (an expired token, say).
 */
export async function selfSigner(client, stage) {
  const { generateKeyPairSync } = await import('node:crypto');
  const { ImportPublicKeyCommand } = await import('@aws-sdk/client-ivs-realtime');
  const jose = await import('jose');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const imported = (await client.send(new ImportPublicKeyCommand({ publicKeyMaterial: publicKey.export({ type: 'spki', format: 'pem' }) }))).publicKey;
  return ({ expiresInSeconds = 600, ...claims } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({
      jti: `self-${Math.random().toString(36).slice(2, 10)}`, resource: stage.arn, topic: stage.arn.split('/').pop(),
      events_url: stage.endpoints.events, whip_url: stage.endpoints.whip,
      capabilities: { allow_publish: true, allow_subscribe: true }, attributes: {}, version: '1.0',
      ...claims,
    }).setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: imported.arn })
      .setIssuedAt(now - 3600).setExpirationTime(now + expiresInSeconds).sign(privateKey);
  };
}

/** Makes the page's next peer connections offer only `mimeType` for video (a browser that
 *  lacks the others), for codec-mismatch tests. */
export async function onlyVideoCodec(page, mimeType) {
  await page.evaluate((mime) => {
    const add = RTCPeerConnection.prototype.addTransceiver;
    RTCPeerConnection.prototype.addTransceiver = function (trackOrKind, init) {
      const transceiver = add.call(this, trackOrKind, init);
      const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
      if (kind === 'video') {
        const codecs = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => c.mimeType === mime);
        transceiver.setCodecPreferences(codecs);
      }
      return transceiver;
    };
  }, mimeType);
}

/** Keeps every RTCPeerConnection the page makes in `window.peerConnections` (call before the
 *  page loads), for {@link selectedPairs}. */
export async function trackPeerConnections(page) {
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.peerConnections = [];
    class Tracked extends Native {
      constructor(...args) {
        super(...args);
        window.peerConnections.push(this);
      }
    }
    window.RTCPeerConnection = Tracked;
  });
}

/**
 * The candidate pair each open peer connection of the page uses: its state and, for both
 * ends, the candidate type (host, srflx, prflx, relay), protocol and, for a relay, how the
 * browser reaches the relay (udp, tcp, tls).
 */
export function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.peerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let pair;
      stats.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
      });
      if (!pair) {
        out.push({ state: pc.connectionState });
        continue;
      }
      const local = stats.get(pair.localCandidateId);
      const remote = stats.get(pair.remoteCandidateId);
      out.push({
        state: pc.connectionState,
        local: { type: local.candidateType, protocol: local.protocol, relayProtocol: local.relayProtocol, address: local.address },
        remote: { type: remote.candidateType, protocol: remote.protocol, address: remote.address, port: remote.port },
      });
    }
    return out;
  });
}
