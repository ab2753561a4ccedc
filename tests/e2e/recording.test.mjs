// Individual participant recording end to end: a stage with autoParticipantRecordingConfiguration,
// a Chromium host publishing with the Web SDK, the recording in IVS's object layout in a
// directory bucket — read by ffprobe (H.264 and Opus, the publishing time to within a second) —
// the participant's recordingState/bucket/prefix from GetParticipant, and a host that drops and
// comes back within the reconnect window continuing the same recording.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateStageCommand, CreateStorageConfigurationCommand, CreateParticipantTokenCommand, GetParticipantCommand,
  ListParticipantsCommand,
} from '@aws-sdk/client-ivs-realtime';
import { openApp, serverAndBrowser, waitFor } from './browser.mjs';
import { ffprobe } from './broadcast.mjs';

const env = serverAndBrowser();

async function recordingStage(name, { window = 0, mediaTypes = ['AUDIO_VIDEO'] } = {}) {
  const client = env.server.client();
  const bucketName = `rec-${Math.random().toString(36).slice(2, 8)}`;
  const { storageConfiguration } = await client.send(new CreateStorageConfigurationCommand({ name, s3: { bucketName } }));
  const { stage } = await client.send(new CreateStageCommand({
    name,
    autoParticipantRecordingConfiguration: {
      storageConfigurationArn: storageConfiguration.arn,
      mediaTypes,
      recordingReconnectWindowSeconds: window,
      hlsConfiguration: { targetSegmentDurationSeconds: 2 },
    },
  }));
  const token = async (userId) => (await client.send(new CreateParticipantTokenCommand({
    stageArn: stage.arn, userId, capabilities: ['PUBLISH', 'SUBSCRIBE'],
  }))).participantToken.token;
  return { client, stage, bucketName, token };
}


async function publishFor(token, ms) {
  const page = await openApp(env.browser, env.server.url);
  const joined = await page.evaluate((t) => app.join(t, { video: { width: 640, height: 360, frameRate: 30 } }), token);
  assert.deepEqual(joined, { ok: true });
  const started = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  await page.close();
  return Date.now() - started;
}

test('a publisher on a recording stage is recorded as HLS in IVS\'s layout, with its state in GetParticipant', async () => {
  const { client, stage, bucketName, token } = await recordingStage('rec-one');
  const published = await publishFor(await token('alice'), 7000);
  const stopped = await waitFor('the recording to stop', async () => {
    const sessions = await client.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId: (await currentSession(client, stage)) }));
    const p = sessions.participants.find((x) => x.userId === 'alice');
    if (!p) return false;
    const { participant: full } = await client.send(new GetParticipantCommand({ stageArn: stage.arn, sessionId: await currentSession(client, stage), participantId: p.participantId }));
    return full.recordingState === 'STOPPED' && full;
  }, 30_000);
  assert.equal(stopped.recordingS3BucketName, bucketName);
  const stageId = stage.arn.split('/').pop();
  assert.match(stopped.recordingS3Prefix, new RegExp(`^${stageId}/st-[A-Za-z0-9]+/${stopped.participantId}/\\d+$`));
  const root = join(env.server.dataDir, 'storage', bucketName, stopped.recordingS3Prefix);
  const started = JSON.parse(readFileSync(join(root, 'events/recording-started.json'), 'utf8'));
  assert.equal(started.stage_arn, stage.arn);
  assert.equal(started.participant_id, stopped.participantId);
  assert.equal(started.recording_status, 'RECORDING_STARTED');
  const ended = await waitFor('recording-ended.json', async () => {
    const path = join(root, 'events/recording-ended.json');
    return existsSync(path) && JSON.parse(readFileSync(path, 'utf8'));
  });
  assert.equal(ended.recording_status, 'RECORDING_ENDED');
  const playlist = readFileSync(join(root, 'media/hls/high/playlist.m3u8'), 'utf8');
  assert.match(playlist, /#EXT-X-ENDLIST/);
  const probe = await ffprobe(join(root, 'media/hls/multivariant.m3u8'));
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video.width, 640);
  assert.equal(video.height, 360);
  assert.equal(audio?.codec_name, 'opus');
  const duration = Number(probe.format.duration);
  assert.ok(Math.abs(duration - published / 1000) <= 1, `recorded ${duration} s of ${published / 1000} s published`);
  assert.ok(Math.abs(ended.media.hls.duration_ms / 1000 - duration) <= 1);
});

test('a host who drops and returns within the reconnect window continues the same recording', async () => {
  const { client, stage, bucketName, token } = await recordingStage('rec-window', { window: 20 });
  const t = await token('bob');
  const first = await publishFor(t, 4000);
  await new Promise((r) => setTimeout(r, 1500));
  const second = await publishFor(t, 4000);
  const stopped = await waitFor('the recording to stop', async () => {
    const sessionId = await currentSession(client, stage);
    const { participants } = await client.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId }));
    const mine = participants.filter((x) => x.userId === 'bob');
    const states = await Promise.all(mine.map(async (p) => (await client.send(new GetParticipantCommand({ stageArn: stage.arn, sessionId, participantId: p.participantId }))).participant));
    return states.length > 0 && states.every((s) => s.recordingState === 'STOPPED') && states;
  }, 60_000);
  const prefixes = new Set(stopped.map((p) => p.recordingS3Prefix));
  assert.equal(prefixes.size, 1, 'one recording for both publishes');
  const root = join(env.server.dataDir, 'storage', bucketName, [...prefixes][0]);
  const playlist = readFileSync(join(root, 'media/hls/high/playlist.m3u8'), 'utf8');
  assert.match(playlist, /#EXT-X-DISCONTINUITY/);
  const probe = await ffprobe(join(root, 'media/hls/multivariant.m3u8'));
  const duration = Number(probe.format.duration);
  assert.ok(Math.abs(duration - (first + second) / 1000) <= 1.5, `recorded ${duration} s of ${(first + second) / 1000} s published`);
});

/** The stage's session (the one the host joined): the latest. */
async function currentSession(client, stage) {
  const { ListStageSessionsCommand } = await import('@aws-sdk/client-ivs-realtime');
  const { stageSessions } = await client.send(new ListStageSessionsCommand({ stageArn: stage.arn }));
  return stageSessions[0]?.sessionId;
}
