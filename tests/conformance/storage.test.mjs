// Storage configurations and stages' individual participant recording with the real AWS SDK
// (@aws-sdk/client-ivs-realtime): create, get, list, delete, the bucket name's checks, a
// stage's autoParticipantRecordingConfiguration with IVS's defaults, the error for a storage
// configuration that does not exist, and the conflict of deleting one a stage uses.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateStorageConfigurationCommand, GetStorageConfigurationCommand, ListStorageConfigurationsCommand,
  DeleteStorageConfigurationCommand, CreateStageCommand, GetStageCommand, UpdateStageCommand,
  TagResourceCommand, ListTagsForResourceCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, rejectsWith } from './harness.mjs';

const ACCOUNT = 'arn:aws:ivs:us-east-1:000000000000';
const DEFAULTS = {
  storageConfigurationArn: '',
  mediaTypes: ['AUDIO_VIDEO'],
  thumbnailConfiguration: { targetIntervalSeconds: 60, storage: ['SEQUENTIAL'], recordingMode: 'DISABLED' },
  recordingReconnectWindowSeconds: 0,
  hlsConfiguration: { targetSegmentDurationSeconds: 6 },
  recordParticipantReplicas: true,
};
let server;
let ivs;
before(async () => { server = await startServer(); ivs = server.client(); });
after(async () => { await server?.stop(); });

test('storage configurations: create, get, list, tag, delete', async () => {
  const { storageConfiguration: sc } = await ivs.send(new CreateStorageConfigurationCommand({
    name: 'recordings', s3: { bucketName: 'stage-recordings' }, tags: { env: 'test' },
  }));
  assert.match(sc.arn, /^arn:aws:ivs:us-east-1:000000000000:storage-configuration\/[A-Za-z0-9]{12}$/);
  assert.equal(sc.name, 'recordings');
  assert.deepEqual(sc.s3, { bucketName: 'stage-recordings' });
  assert.deepEqual(sc.tags, { env: 'test' });
  assert.deepEqual((await ivs.send(new GetStorageConfigurationCommand({ arn: sc.arn }))).storageConfiguration, sc);
  const seen = [];
  let nextToken;
  do {
    const page = await ivs.send(new ListStorageConfigurationsCommand({ maxResults: 1, nextToken }));
    seen.push(...page.storageConfigurations.map((c) => c.arn));
    nextToken = page.nextToken;
  } while (nextToken);
  assert.ok(seen.includes(sc.arn));
  await ivs.send(new TagResourceCommand({ resourceArn: sc.arn, tags: { more: 'x' } }));
  assert.deepEqual((await ivs.send(new ListTagsForResourceCommand({ resourceArn: sc.arn }))).tags, { env: 'test', more: 'x' });
  await ivs.send(new DeleteStorageConfigurationCommand({ arn: sc.arn }));
  await rejectsWith(assert, ivs.send(new GetStorageConfigurationCommand({ arn: sc.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DeleteStorageConfigurationCommand({ arn: sc.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new GetStorageConfigurationCommand({ arn: `${ACCOUNT}:stage/abc` })), 'ValidationException', 400);
});

test('bucket names are checked and named in the error', async () => {
  for (const bucketName of ['ab', 'Upper-Case', 'under_score', '-leading', 'two..dots', '192.168.0.1', 'x'.repeat(64)]) {
    const err = await rejectsWith(assert, ivs.send(new CreateStorageConfigurationCommand({ s3: { bucketName } })), 'ValidationException', 400);
    assert.match(err.message, /s3\.bucketName/, bucketName);
  }
  await rejectsWith(assert, ivs.send(new CreateStorageConfigurationCommand({ s3: { bucketName: 'ok-bucket' }, name: 'bad name' })), 'ValidationException', 400);
});

test('a stage that does not record shows the defaults', async () => {
  const { stage } = await ivs.send(new CreateStageCommand({ name: 'plain' }));
  assert.deepEqual(stage.autoParticipantRecordingConfiguration, DEFAULTS);
});

test('a stage recording to a storage configuration, with every member', async () => {
  const { storageConfiguration: sc } = await ivs.send(new CreateStorageConfigurationCommand({ s3: { bucketName: 'rec-bucket' } }));
  const { stage } = await ivs.send(new CreateStageCommand({
    name: 'recorded', autoParticipantRecordingConfiguration: { storageConfigurationArn: sc.arn },
  }));
  assert.deepEqual(stage.autoParticipantRecordingConfiguration, { ...DEFAULTS, storageConfigurationArn: sc.arn });
  const custom = {
    storageConfigurationArn: sc.arn,
    mediaTypes: ['AUDIO_ONLY'],
    thumbnailConfiguration: { targetIntervalSeconds: 30, storage: ['SEQUENTIAL', 'LATEST'], recordingMode: 'INTERVAL' },
    recordingReconnectWindowSeconds: 60,
    hlsConfiguration: { targetSegmentDurationSeconds: 2 },
    recordParticipantReplicas: false,
  };
  const { stage: updated } = await ivs.send(new UpdateStageCommand({ arn: stage.arn, autoParticipantRecordingConfiguration: custom }));
  assert.deepEqual(updated.autoParticipantRecordingConfiguration, custom);
  assert.deepEqual((await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage.autoParticipantRecordingConfiguration, custom);

  // In use: cannot be deleted until the stage stops recording to it.
  const conflict = await rejectsWith(assert, ivs.send(new DeleteStorageConfigurationCommand({ arn: sc.arn })), 'ConflictException', 409);
  assert.match(conflict.message, /stage/);
  const { stage: off } = await ivs.send(new UpdateStageCommand({ arn: stage.arn, autoParticipantRecordingConfiguration: { storageConfigurationArn: '' } }));
  assert.deepEqual(off.autoParticipantRecordingConfiguration, DEFAULTS, '"" resets the other members');
  await ivs.send(new DeleteStorageConfigurationCommand({ arn: sc.arn }));
});

test('a storage configuration that does not exist is a ValidationException naming the member', async () => {
  const missing = `${ACCOUNT}:storage-configuration/doesNotExist`;
  const err = await rejectsWith(assert, ivs.send(new CreateStageCommand({ autoParticipantRecordingConfiguration: { storageConfigurationArn: missing } })), 'ValidationException', 400);
  assert.match(err.message, /autoParticipantRecordingConfiguration\.storageConfigurationArn/);
  const { stage } = await ivs.send(new CreateStageCommand({}));
  await rejectsWith(assert, ivs.send(new UpdateStageCommand({ arn: stage.arn, autoParticipantRecordingConfiguration: { storageConfigurationArn: missing } })), 'ValidationException', 400);
  const otherRegion = missing.replace('us-east-1', 'eu-west-1');
  await rejectsWith(assert, ivs.send(new CreateStageCommand({ autoParticipantRecordingConfiguration: { storageConfigurationArn: otherRegion } })), 'ValidationException', 400);
});

test('recording members out of range are named', async () => {
  const { storageConfiguration: sc } = await ivs.send(new CreateStorageConfigurationCommand({ s3: { bucketName: 'range-bucket' } }));
  for (const [extra, member] of [
    [{ mediaTypes: ['VIDEO_ONLY'] }, 'mediaTypes'],
    [{ recordingReconnectWindowSeconds: 301 }, 'recordingReconnectWindowSeconds'],
    [{ hlsConfiguration: { targetSegmentDurationSeconds: 11 } }, 'hlsConfiguration.targetSegmentDurationSeconds'],
    [{ thumbnailConfiguration: { targetIntervalSeconds: 0 } }, 'thumbnailConfiguration.targetIntervalSeconds'],
    [{ thumbnailConfiguration: { recordingMode: 'ALWAYS' } }, 'thumbnailConfiguration.recordingMode'],
  ]) {
    const config = { storageConfigurationArn: sc.arn, ...extra };
    const err = await rejectsWith(assert, ivs.send(new CreateStageCommand({ autoParticipantRecordingConfiguration: config })), 'ValidationException', 400);
    assert.ok(err.message.includes(member), `${member}: ${err.message}`);
  }
});
