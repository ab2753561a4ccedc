// Interop with a WebRTC stack nobody here wrote: headless Chromium publishes its fake camera
// and microphone over WHIP with a plain RTCPeerConnection, another page subscribes, and the
// subscriber decodes frames (getStats framesDecoded > 0) and audio.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { CreateStageCommand, CreateParticipantTokenCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer } from './harness.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let browser;
before(async () => {
  server = await startServer();
  // playwright-core gives the browser a fresh temporary profile of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
    ],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Runs in the page: WHIP with nothing but the browser's own APIs.
async function whipInPage({ url, token, publish, audioOnly = false }) {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  if (publish) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
  } else {
    pc.addTransceiver('audio', { direction: 'recvonly' });
    if (!audioOnly) pc.addTransceiver('video', { direction: 'recvonly' });
  }
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
    body: pc.localDescription.sdp,
  });
  if (res.status !== 201) throw new Error(`WHIP answered ${res.status}: ${await res.text()}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return res.headers.get('location');
}

async function inboundStats(page) {
  return page.evaluate(async () => {
    const out = { framesDecoded: 0, audioPackets: 0, videoCodec: null, state: window.pc.connectionState };
    const stats = await window.pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.framesDecoded = s.framesDecoded ?? 0;
        out.videoCodec = stats.get(s.codecId)?.mimeType ?? null;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets = s.packetsReceived ?? 0;
    }
    return out;
  });
}

test('Chromium publishes over WHIP and another Chromium page decodes it', async () => {
  const ivs = server.client();
  const { stage } = await ivs.send(new CreateStageCommand({ name: 'browser' }));
  const token = async (userId) => (await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId }))).participantToken;
  const alice = await token('alice');
  const bob = await token('bob');

  const publisher = await browser.newPage();
  await publisher.goto(`${server.url}/healthz`);
  const location = await publisher.evaluate(whipInPage, { url: stage.endpoints.whip, token: alice.token, publish: true });
  assert.match(location, /^\/whip\/session\//);

  const subscriber = await browser.newPage();
  await subscriber.goto(`${server.url}/healthz`);
  await subscriber.evaluate(whipInPage, { url: `${stage.endpoints.whip}/subscribe/${alice.participantId}`, token: bob.token, publish: false });

  let stats;
  for (let i = 0; i < 100; i++) {
    stats = await inboundStats(subscriber);
    if (stats.framesDecoded > 10 && stats.audioPackets > 10) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(stats.framesDecoded > 10, `frames decoded: ${JSON.stringify(stats)}`);
  assert.ok(stats.audioPackets > 10, `audio packets: ${JSON.stringify(stats)}`);

  // An audio-only subscription (an audio-only guest's view): audio, and no video at all.
  const carol = await token('carol');
  const listener = await browser.newPage();
  await listener.goto(`${server.url}/healthz`);
  await listener.evaluate(whipInPage, { url: `${stage.endpoints.whip}/subscribe/${alice.participantId}`, token: carol.token, publish: false, audioOnly: true });
  let heard;
  for (let i = 0; i < 100; i++) {
    heard = await inboundStats(listener);
    if (heard.audioPackets > 10) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(heard.audioPackets > 10, `audio-only: ${JSON.stringify(heard)}`);
  const videoReceivers = await listener.evaluate(() => window.pc.getReceivers().filter((r) => r.track.kind === 'video').length);
  assert.equal(videoReceivers, 0, 'no video track at all');
  await publisher.close();
  await subscriber.close();
  await listener.close();
});
