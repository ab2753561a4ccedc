// Channels end to end, with the real parts: the AWS SDK's IVS client creates the channel,
// Debian's ffmpeg pushes RTMP (H.264 + AAC, as OBS does), ffprobe reads the low-latency HLS,
// and hls.js in headless Chromium plays the watch page. Bad input: a wrong key, a second push,
// a deleted channel's key, garbage on the RTMP port — each refused, the server unharmed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  IvsClient, CreateChannelCommand, DeleteChannelCommand, GetStreamCommand, ListStreamSessionsCommand,
  GetStreamSessionCommand, StopStreamCommand, CreateRecordingConfigurationCommand,
} from '@aws-sdk/client-ivs';
import { startServer, DEV_CREDENTIALS } from '../conformance/harness.mjs';
import { launchBrowser, waitFor } from './browser.mjs';
import { ffprobe, freeTcpPort, waitForLive, waitForOffline } from './broadcast.mjs';

const env = {};

before(async () => {
  env.rtmpPort = await freeTcpPort();
  env.server = await startServer({ args: ['--rtmp-port', String(env.rtmpPort)] });
  env.ivs = new IvsClient({ endpoint: env.server.url, region: 'us-east-1', credentials: DEV_CREDENTIALS });
  env.browser = await launchBrowser();
});

after(async () => {
  await env.browser?.close();
  await env.server?.stop();
});

async function newChannel(name = `ch-${Math.random().toString(36).slice(2, 8)}`, extra = {}) {
  const out = await env.ivs.send(new CreateChannelCommand({ name, ...extra }));
  return { channel: out.channel, key: out.streamKey.value, id: out.channel.arn.split('/').pop() };
}

/** ffmpeg pushing `seconds` of 720p30 test video and a tone, paced in real time. */
function push(key, { seconds = 8, video = ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p'] } = {}) {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    ...video, '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', `rtmp://127.0.0.1:${env.rtmpPort}/app/${key}`,
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exited, get stderr() { return stderr; } };
}

test('an RTMP push plays as low-latency HLS: GetStream is LIVE, ffprobe reads H.264 720p and AAC, hls.js plays the watch page', async () => {
  const { channel, key, id } = await newChannel('rtmp-show');
  assert.match(channel.playbackUrl, new RegExp(`/playback/${id}/index\\.m3u8$`));
  const pushing = push(key, { seconds: 12 });
  const stream = await waitForLive(env.ivs, channel.arn);
  assert.equal(stream.playbackUrl, channel.playbackUrl);
  assert.match(stream.streamId, /^st-/);

  const multivariant = await waitFor('the multivariant playlist', async () => {
    const r = await fetch(channel.playbackUrl);
    return r.status === 200 && { text: await r.text(), headers: r.headers };
  }, 15_000);
  assert.match(multivariant.text, /#EXTM3U/);
  assert.match(multivariant.text, /CODECS="avc1\.[0-9a-fA-F]{6},mp4a\.40\.2"/);
  assert.match(multivariant.text, /RESOLUTION=1280x720/);
  assert.equal(multivariant.headers.get('access-control-allow-origin'), '*');
  const mediaPath = multivariant.text.split('\n').find((l) => l && !l.startsWith('#'));
  const mediaUrl = new URL(mediaPath, channel.playbackUrl).href;
  const media = await (await fetch(mediaUrl)).text();
  for (const tag of ['#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES', '#EXT-X-PART-INF:PART-TARGET=', '#EXT-X-MAP:URI=', '#EXT-X-PROGRAM-DATE-TIME:', '#EXT-X-PART:', '#EXT-X-PRELOAD-HINT:TYPE=PART']) {
    assert.ok(media.includes(tag), `media playlist has ${tag}:\n${media}`);
  }
  // Blocking reload: ask for a part two ahead; the answer comes when it exists, and has it.
  const msn = Number(media.match(/#EXT-X-MEDIA-SEQUENCE:(\d+)/)[1]) + (media.match(/#EXTINF/g) ?? []).length;
  const t0 = Date.now();
  const blocked = await fetch(`${mediaUrl}?_HLS_msn=${msn}&_HLS_part=1`);
  assert.equal(blocked.status, 200);
  const blockedText = await blocked.text();
  assert.ok(Date.now() - t0 < 6000, 'a blocking reload returns within a few seconds');
  assert.ok(blockedText.length > 0);
  const part = media.match(/#EXT-X-PART:[^\n]*URI="([^"]+)"/)[1];
  const partResponse = await fetch(new URL(part, mediaUrl));
  assert.equal(partResponse.status, 200);
  assert.match(partResponse.headers.get('cache-control'), /immutable/);
  assert.equal(partResponse.headers.get('content-type'), 'video/mp4');

  // ffprobe reads whole segments only (it ignores LL-HLS parts): wait for two.
  await waitFor('two whole segments', async () => ((await (await fetch(mediaUrl)).text()).match(/#EXTINF/g) ?? []).length >= 2, 15_000);
  const probe = await ffprobe(channel.playbackUrl);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.width, 1280);
  assert.equal(video.height, 720);
  assert.equal(audio.codec_name, 'aac');

  const page = await env.browser.newPage();
  page.on('pageerror', (e) => console.error('watch page error:', e.message));
  await page.goto(`${env.server.url}/watch/${id}`);
  await waitFor('the watch page to say live', async () => (await page.textContent('#state')) === 'live');
  const start = await waitFor('playback to start', async () => {
    const t = await page.evaluate(() => document.getElementById('video').currentTime);
    return t > 0.5 && t;
  }, 20_000);
  const later = await waitFor('playback to advance', async () => {
    const t = await page.evaluate(() => document.getElementById('video').currentTime);
    return t > start + 1.5 && t;
  }, 10_000);
  assert.ok(later > start);
  const size = await page.evaluate(() => [document.getElementById('video').videoWidth, document.getElementById('video').videoHeight]);
  assert.deepEqual(size, [1280, 720]);
  const watching = await waitFor('the viewer to be counted', async () => {
    const out = await env.ivs.send(new GetStreamCommand({ channelArn: channel.arn }));
    return out.stream.viewerCount >= 1 && out.stream.viewerCount;
  }, 10_000);
  assert.ok(watching >= 1);
  await waitFor('the page to count its viewer', async () => /[1-9]\d* watching/.test(await page.textContent('#viewers')));

  const { code } = await pushing.exited;
  assert.equal(code, 0, `ffmpeg pushed without error: ${pushing.stderr}`);
  await waitForOffline(env.ivs, channel.arn);
  await waitFor('the watch page to say offline', async () => (await page.textContent('#state')) === 'offline');
  await page.close();
  const sessions = await env.ivs.send(new ListStreamSessionsCommand({ channelArn: channel.arn }));
  assert.equal(sessions.streamSessions.length, 1);
  assert.ok(sessions.streamSessions[0].endTime, 'the stream session has ended');
  const session = await env.ivs.send(new GetStreamSessionCommand({ channelArn: channel.arn, streamId: stream.streamId }));
  assert.equal(session.streamSession.streamId, stream.streamId);
});

test('one stream per channel: a second push is refused while the first is live; StopStream ends the first', async () => {
  const { channel, key } = await newChannel();
  const first = push(key, { seconds: 30 });
  await waitForLive(env.ivs, channel.arn);
  const second = push(key, { seconds: 5 });
  const refused = await second.exited;
  assert.notEqual(refused.code, 0, 'the second push fails');
  assert.equal(first.child.exitCode, null, 'the first push goes on');
  await env.ivs.send(new StopStreamCommand({ channelArn: channel.arn }));
  const stopped = await Promise.race([first.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
  assert.notEqual(stopped, 'still running', 'StopStream ends the push');
  if (first.child.exitCode === null) first.child.kill('SIGKILL');
});

test('a wrong key, a deleted channel\'s key and a codec other than H.264 are refused before any media; garbage on the port harms nothing', async () => {
  const wrong = await push('sk_us-east-1_nosuchkey', { seconds: 3 }).exited;
  assert.notEqual(wrong.code, 0);
  const { channel, key } = await newChannel();
  await env.ivs.send(new DeleteChannelCommand({ arn: channel.arn }));
  const deleted = await push(key, { seconds: 3 }).exited;
  assert.notEqual(deleted.code, 0);
  const other = await newChannel();
  const sorenson = await push(other.key, { seconds: 3, video: ['-c:v', 'flv1'] }).exited;
  assert.notEqual(sorenson.code, 0, 'Sorenson video is refused');
  // Not RTMP at all: the connection is closed, the server carries on.
  await new Promise((resolve) => {
    const socket = createConnection(env.rtmpPort, '127.0.0.1', () => socket.write(Buffer.alloc(4096, 0x41)));
    socket.on('close', resolve);
    socket.on('error', resolve);
  });
  const health = await fetch(`${env.server.url}/healthz`);
  assert.equal(health.status, 200);
  const { streams } = await env.ivs.send(new (await import('@aws-sdk/client-ivs')).ListStreamsCommand({}));
  assert.ok(!streams.some((s) => s.channelArn === other.channel.arn), 'the refused push left no stream');
});

/** A page on the server's origin that publishes its fake camera and microphone to the channel
 *  over WHIP, offering only `videoCodec` for video. Resolves with the WHIP response status. */
async function whipPublish(key, { videoCodec = 'video/H264' } = {}) {
  const page = await env.browser.newPage();
  await page.goto(`${env.server.url}/healthz`);
  const status = await page.evaluate(async ({ key, videoCodec }) => {
    const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360, frameRate: 30 }, audio: true });
    const pc = new RTCPeerConnection();
    window.pc = pc;
    const video = pc.addTransceiver(media.getVideoTracks()[0], { direction: 'sendonly' });
    const codecs = RTCRtpSender.getCapabilities('video').codecs.filter((c) => c.mimeType === videoCodec || c.mimeType === 'video/rtx');
    video.setCodecPreferences(codecs);
    pc.addTransceiver(media.getAudioTracks()[0], { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetch('/ingest/whip', {
      method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` }, body: pc.localDescription.sdp,
    });
    if (response.status !== 201) return { status: response.status, body: await response.text() };
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    window.whipSession = response.headers.get('location');
    return { status: response.status };
  }, { key, videoCodec });
  return { page, ...status };
}

test('WHIP ingest from a browser (H.264 + Opus) plays as HLS: ffprobe reads H.264 and Opus, hls.js plays it; VP8 is refused', async () => {
  const { channel, key, id } = await newChannel('whip-show');
  const publisher = await whipPublish(key);
  assert.equal(publisher.status, 201, publisher.body);
  const stream = await waitForLive(env.ivs, channel.arn, 20_000);
  assert.match(stream.streamId, /^st-/);
  const mediaUrl = new URL('media.m3u8', channel.playbackUrl).href;
  await waitFor('two whole segments', async () => ((await (await fetch(mediaUrl)).text()).match(/#EXTINF/g) ?? []).length >= 2, 20_000);
  const multivariant = await (await fetch(channel.playbackUrl)).text();
  assert.match(multivariant, /CODECS="avc1\.[0-9a-fA-F]{6},opus"/);
  const probe = await ffprobe(channel.playbackUrl);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video.width, 640);
  assert.equal(video.height, 360);
  assert.equal(audio?.codec_name, 'opus');

  const viewer = await env.browser.newPage();
  await viewer.goto(`${env.server.url}/watch/${id}`);
  const start = await waitFor('playback to start', async () => {
    const t = await viewer.evaluate(() => document.getElementById('video').currentTime);
    return t > 0.5 && t;
  }, 20_000);
  await waitFor('playback to advance', async () => (await viewer.evaluate(() => document.getElementById('video').currentTime)) > start + 1.5, 10_000);
  await viewer.close();

  // A second WHIP push to the live channel is refused; the first goes on.
  const second = await whipPublish(key);
  assert.equal(second.status, 409, second.body);
  await second.page.close();
  // Ending the WHIP session ends the stream.
  const ended = await publisher.page.evaluate(async (key) => (await fetch(window.whipSession, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })).status, key);
  assert.equal(ended, 200);
  await waitForOffline(env.ivs, channel.arn);
  await publisher.page.close();

  const vp8 = await whipPublish(key, { videoCodec: 'video/VP8' });
  assert.equal(vp8.status, 406, 'VP8-only video is refused');
  assert.match(vp8.body, /H\.264/);
  const wrong = await whipPublish('sk_us-east-1_wrong');
  assert.equal(wrong.status, 403);
  await Promise.all([vp8.page.close(), wrong.page.close()]);
});

function findFile(dir, name) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    } else if (entry === name) {
      return path;
    }
  }
  return undefined;
}

test('a channel with a recording configuration records each stream in IVS\'s layout; ffprobe reads it at the pushed length', async () => {
  const bucketName = `chrec-${Math.random().toString(36).slice(2, 8)}`;
  const { recordingConfiguration } = await env.ivs.send(new CreateRecordingConfigurationCommand({
    name: 'rec', destinationConfiguration: { s3: { bucketName } },
  }));
  const { channel, key, id } = await newChannel('recorded', { recordingConfigurationArn: recordingConfiguration.arn });
  const { code } = await push(key, { seconds: 8 }).exited;
  assert.equal(code, 0);
  const bucket = join(env.server.dataDir, 'storage', bucketName);
  const endedPath = await waitFor('recording-ended.json', async () => findFile(bucket, 'recording-ended.json'), 15_000);
  const prefix = join(endedPath, '..', '..');
  assert.match(prefix, new RegExp(`ivs/v1/000000000000/${id}/\\d{4}/\\d{1,2}/\\d{1,2}/\\d{1,2}/\\d{1,2}/[A-Za-z0-9]{12}$`));
  const ended = JSON.parse(readFileSync(endedPath, 'utf8'));
  assert.equal(ended.channel_arn, channel.arn);
  assert.equal(ended.recording_status, 'RECORDING_ENDED');
  assert.equal(ended.media.hls.renditions[0].path, '720p30');
  const probe = await ffprobe(join(prefix, 'media/hls/master.m3u8'));
  const video = probe.streams.find((s) => s.codec_type === 'video');
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.height, 720);
  assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const duration = Number(probe.format.duration);
  assert.ok(Math.abs(duration - 8) <= 1, `recorded ${duration} s of an 8 s push`);
});
