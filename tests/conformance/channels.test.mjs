// Channels with the real AWS SDK (@aws-sdk/client-ivs): channels, stream keys, streams,
// stream sessions, recording configurations and tags on them, and every error type each
// answers (unknown ARN, bad input naming the member, the stream-key quota, conflicts).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  IvsClient, CreateChannelCommand, GetChannelCommand, BatchGetChannelCommand, ListChannelsCommand,
  UpdateChannelCommand, DeleteChannelCommand, CreateStreamKeyCommand, GetStreamKeyCommand,
  ListStreamKeysCommand, DeleteStreamKeyCommand, GetStreamCommand, ListStreamsCommand,
  StopStreamCommand, GetStreamSessionCommand, ListStreamSessionsCommand,
  CreateRecordingConfigurationCommand, GetRecordingConfigurationCommand,
  ListRecordingConfigurationsCommand, DeleteRecordingConfigurationCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand,
} from '@aws-sdk/client-ivs';
import { startServer, rejectsWith, DEV_CREDENTIALS, signedFetch, assertIvsError } from './harness.mjs';

const ACCOUNT = 'arn:aws:ivs:us-east-1:000000000000';
let server;
let ivs;
before(async () => {
  server = await startServer();
  ivs = new IvsClient({ endpoint: server.url, region: 'us-east-1', credentials: DEV_CREDENTIALS });
});
after(async () => { await server?.stop(); });

test('CreateChannel: the channel with IVS defaults, and its stream key', async () => {
  const { channel, streamKey } = await ivs.send(new CreateChannelCommand({ name: 'show', tags: { team: 'video' } }));
  assert.match(channel.arn, /^arn:aws:ivs:us-east-1:000000000000:channel\/[A-Za-z0-9]{12}$/);
  const id = channel.arn.split('/').pop();
  assert.equal(channel.name, 'show');
  assert.equal(channel.latencyMode, 'LOW');
  assert.equal(channel.type, 'STANDARD');
  assert.equal(channel.authorized, false);
  assert.equal(channel.insecureIngest, false);
  assert.equal(channel.preset, '');
  assert.equal(channel.recordingConfigurationArn, '');
  assert.equal(channel.containerFormat, 'TS');
  assert.deepEqual(channel.tags, { team: 'video' });
  assert.equal(channel.ingestEndpoint, new URL(server.url).hostname, 'a host name: no scheme, no port');
  assert.equal(channel.playbackUrl, `${server.url}/playback/${id}/index.m3u8`);
  assert.match(streamKey.arn, /^arn:aws:ivs:us-east-1:000000000000:stream-key\/[A-Za-z0-9]{12}$/);
  assert.equal(streamKey.channelArn, channel.arn);
  assert.match(streamKey.value, /^sk_us-east-1_[A-Za-z0-9]{32}$/);
  const got = await ivs.send(new GetChannelCommand({ arn: channel.arn }));
  assert.deepEqual(got.channel, channel);
  const key = await ivs.send(new GetStreamKeyCommand({ arn: streamKey.arn }));
  assert.equal(key.streamKey.value, streamKey.value);
});

test('CreateChannel and UpdateChannel: settings, presets and their checks', async () => {
  const { channel } = await ivs.send(new CreateChannelCommand({ latencyMode: 'NORMAL', type: 'ADVANCED_HD', insecureIngest: true }));
  assert.equal(channel.name, '');
  assert.equal(channel.preset, 'HIGHER_BANDWIDTH_DELIVERY', 'ADVANCED types default to a preset');
  assert.equal(channel.insecureIngest, true);
  const { channel: updated } = await ivs.send(new UpdateChannelCommand({ arn: channel.arn, name: 'renamed', type: 'BASIC' }));
  assert.equal(updated.name, 'renamed');
  assert.equal(updated.type, 'BASIC');
  assert.equal(updated.preset, '');
  assert.equal(updated.latencyMode, 'NORMAL', 'what the update leaves out stays');
  for (const [input, member] of [
    [{ latencyMode: 'FAST' }, 'latencyMode'],
    [{ type: 'PREMIUM' }, 'type'],
    [{ name: 'has space' }, 'name'],
    [{ preset: 'CONSTRAINED_BANDWIDTH_DELIVERY' }, 'preset'],
    [{ containerFormat: 'MKV' }, 'containerFormat'],
    [{ authorized: true }, 'authorized'],
    [{ recordingConfigurationArn: 'not-an-arn' }, 'recordingConfigurationArn'],
    [{ tags: { 'aws:x': 'y' } }, 'tags'],
  ]) {
    const err = await rejectsWith(assert, ivs.send(new CreateChannelCommand(input)), 'ValidationException', 400);
    assert.match(err.message, new RegExp(member), JSON.stringify(input));
  }
  await rejectsWith(assert, ivs.send(new CreateChannelCommand({ recordingConfigurationArn: `${ACCOUNT}:recording-configuration/missing` })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new UpdateChannelCommand({ arn: `${ACCOUNT}:channel/missing` })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new UpdateChannelCommand({ arn: channel.arn, latencyMode: 'SLOW' })), 'ValidationException', 400);
});

test('BatchGetChannel: found channels, and an error for each ARN that is not', async () => {
  const { channel } = await ivs.send(new CreateChannelCommand({ name: 'batch' }));
  const missing = `${ACCOUNT}:channel/missing`;
  const out = await ivs.send(new BatchGetChannelCommand({ arns: [channel.arn, missing] }));
  assert.deepEqual(out.channels.map((c) => c.arn), [channel.arn]);
  assert.equal(out.errors.length, 1);
  assert.equal(out.errors[0].arn, missing);
  assert.equal(out.errors[0].code, 'ResourceNotFoundException');
  await rejectsWith(assert, ivs.send(new BatchGetChannelCommand({ arns: [] })), 'ValidationException', 400);
});

test('ListChannels: filters, pagination, and filters that exclude each other', async () => {
  const names = ['list-a', 'list-b', 'list-a'];
  const arns = [];
  for (const name of names) arns.push((await ivs.send(new CreateChannelCommand({ name }))).channel.arn);
  const byName = await ivs.send(new ListChannelsCommand({ filterByName: 'list-a' }));
  assert.deepEqual(byName.channels.map((c) => c.arn), [arns[0], arns[2]]);
  assert.equal(byName.channels[0].ingestEndpoint, undefined, 'summaries carry no endpoints');
  const seen = [];
  let nextToken;
  do {
    const page = await ivs.send(new ListChannelsCommand({ maxResults: 2, nextToken }));
    assert.ok(page.channels.length <= 2);
    seen.push(...page.channels.map((c) => c.arn));
    nextToken = page.nextToken;
  } while (nextToken);
  for (const arn of arns) assert.equal(seen.filter((a) => a === arn).length, 1, 'each channel once');
  await rejectsWith(assert, ivs.send(new ListChannelsCommand({ filterByName: 'a', filterByRecordingConfigurationArn: `${ACCOUNT}:recording-configuration/x` })), 'ConflictException', 409);
  await rejectsWith(assert, ivs.send(new ListChannelsCommand({ maxResults: 101 })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new ListChannelsCommand({ nextToken: 'garbage' })), 'ValidationException', 400);
});

test('stream keys: one per channel, rotated by delete then create', async () => {
  const { channel, streamKey } = await ivs.send(new CreateChannelCommand({ name: 'keys' }));
  const quota = await rejectsWith(assert, ivs.send(new CreateStreamKeyCommand({ channelArn: channel.arn })), 'ServiceQuotaExceededException', 402);
  assert.match(quota.message, /stream key/);
  const listed = await ivs.send(new ListStreamKeysCommand({ channelArn: channel.arn }));
  assert.deepEqual(listed.streamKeys, [{ arn: streamKey.arn, channelArn: channel.arn, tags: {} }], 'no values in listings');
  await ivs.send(new DeleteStreamKeyCommand({ arn: streamKey.arn }));
  await rejectsWith(assert, ivs.send(new GetStreamKeyCommand({ arn: streamKey.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DeleteStreamKeyCommand({ arn: streamKey.arn })), 'ResourceNotFoundException', 404);
  const { streamKey: fresh } = await ivs.send(new CreateStreamKeyCommand({ channelArn: channel.arn, tags: { rotated: 'yes' } }));
  assert.notEqual(fresh.value, streamKey.value);
  assert.deepEqual(fresh.tags, { rotated: 'yes' });
  await rejectsWith(assert, ivs.send(new CreateStreamKeyCommand({ channelArn: `${ACCOUNT}:channel/missing` })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new ListStreamKeysCommand({ channelArn: `${ACCOUNT}:stage/abc` })), 'ValidationException', 400);
});

test('streams of a channel that is not live', async () => {
  const { channel } = await ivs.send(new CreateChannelCommand({ name: 'offline' }));
  const err = await rejectsWith(assert, ivs.send(new GetStreamCommand({ channelArn: channel.arn })), 'ChannelNotBroadcasting', 404);
  assert.match(err.message, /not live/);
  await rejectsWith(assert, ivs.send(new StopStreamCommand({ channelArn: channel.arn })), 'ChannelNotBroadcasting', 404);
  await rejectsWith(assert, ivs.send(new GetStreamCommand({ channelArn: `${ACCOUNT}:channel/missing` })), 'ResourceNotFoundException', 404);
  const { streams } = await ivs.send(new ListStreamsCommand({ filterBy: { health: 'HEALTHY' } }));
  assert.ok(!streams.some((s) => s.channelArn === channel.arn));
  await rejectsWith(assert, ivs.send(new ListStreamsCommand({ filterBy: { health: 'GREAT' } })), 'ValidationException', 400);
  const { streamSessions } = await ivs.send(new ListStreamSessionsCommand({ channelArn: channel.arn }));
  assert.deepEqual(streamSessions, []);
  await rejectsWith(assert, ivs.send(new GetStreamSessionCommand({ channelArn: channel.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new GetStreamSessionCommand({ channelArn: channel.arn, streamId: 'st-short' })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new GetStreamSessionCommand({ channelArn: channel.arn, streamId: 'st-AAAAAAAAAAAAAAAAAAAAAAA' })), 'ResourceNotFoundException', 404);
});

test('recording configurations: create, get, list, used by a channel, delete', async () => {
  const { recordingConfiguration: rc } = await ivs.send(new CreateRecordingConfigurationCommand({
    name: 'vod', destinationConfiguration: { s3: { bucketName: 'channel-recordings' } }, tags: { k: 'v' },
  }));
  assert.match(rc.arn, /^arn:aws:ivs:us-east-1:000000000000:recording-configuration\/[A-Za-z0-9]{12}$/);
  assert.equal(rc.state, 'ACTIVE');
  assert.deepEqual(rc.destinationConfiguration, { s3: { bucketName: 'channel-recordings' } });
  assert.equal(rc.recordingReconnectWindowSeconds, 0);
  assert.deepEqual(rc.thumbnailConfiguration, { recordingMode: 'INTERVAL', targetIntervalSeconds: 60, storage: ['SEQUENTIAL'] });
  assert.deepEqual(rc.renditionConfiguration, { renditionSelection: 'ALL', renditions: [] });
  assert.deepEqual((await ivs.send(new GetRecordingConfigurationCommand({ arn: rc.arn }))).recordingConfiguration, rc);
  const listed = await ivs.send(new ListRecordingConfigurationsCommand({}));
  assert.ok(listed.recordingConfigurations.some((c) => c.arn === rc.arn));

  const { channel } = await ivs.send(new CreateChannelCommand({ name: 'recorded', recordingConfigurationArn: rc.arn }));
  assert.equal(channel.recordingConfigurationArn, rc.arn);
  const filtered = await ivs.send(new ListChannelsCommand({ filterByRecordingConfigurationArn: rc.arn }));
  assert.deepEqual(filtered.channels.map((c) => c.arn), [channel.arn]);
  await rejectsWith(assert, ivs.send(new DeleteRecordingConfigurationCommand({ arn: rc.arn })), 'ConflictException', 409);
  await ivs.send(new UpdateChannelCommand({ arn: channel.arn, recordingConfigurationArn: '' }));
  await ivs.send(new DeleteRecordingConfigurationCommand({ arn: rc.arn }));
  await rejectsWith(assert, ivs.send(new GetRecordingConfigurationCommand({ arn: rc.arn })), 'ResourceNotFoundException', 404);

  for (const [input, member] of [
    [{}, 'destinationConfiguration.s3.bucketName'],
    [{ destinationConfiguration: { s3: { bucketName: 'No_Caps' } } }, 'destinationConfiguration.s3.bucketName'],
    [{ destinationConfiguration: { s3: { bucketName: 'ok-bucket' } }, recordingReconnectWindowSeconds: 301 }, 'recordingReconnectWindowSeconds'],
    [{ destinationConfiguration: { s3: { bucketName: 'ok-bucket' } }, thumbnailConfiguration: { targetIntervalSeconds: 0 } }, 'thumbnailConfiguration.targetIntervalSeconds'],
    [{ destinationConfiguration: { s3: { bucketName: 'ok-bucket' } }, renditionConfiguration: { renditionSelection: 'CUSTOM' } }, 'renditionConfiguration.renditions'],
  ]) {
    const err = await rejectsWith(assert, ivs.send(new CreateRecordingConfigurationCommand(input)), 'ValidationException', 400);
    assert.ok(err.message.includes(member), `${JSON.stringify(input)}: ${err.message}`);
  }
});

test('DeleteChannel answers 204, removes its keys, and the channel is gone', async () => {
  const { channel, streamKey } = await ivs.send(new CreateChannelCommand({ name: 'doomed' }));
  const raw = await signedFetch(server.url, { path: '/DeleteChannel', body: JSON.stringify({ arn: channel.arn }) });
  assert.equal(raw.status, 204);
  assert.equal(raw.text, '');
  await rejectsWith(assert, ivs.send(new GetChannelCommand({ arn: channel.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new GetStreamKeyCommand({ arn: streamKey.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DeleteChannelCommand({ arn: channel.arn })), 'ResourceNotFoundException', 404);
  const { channel: other } = await ivs.send(new CreateChannelCommand({}));
  await ivs.send(new DeleteChannelCommand({ arn: other.arn }));
  // Another region's ARN is well-formed but names nothing here.
  await rejectsWith(assert, ivs.send(new GetChannelCommand({ arn: other.arn.replace('us-east-1', 'eu-west-1') })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new GetChannelCommand({ arn: 'nope' })), 'ValidationException', 400);
  const res = await signedFetch(server.url, { path: '/GetChannel', body: '{"arn": 5}' });
  assert.match(assertIvsError(assert, res, 'ValidationException', 400), /arn/);
});

test('tags on channels, stream keys and recording configurations', async () => {
  const { channel, streamKey } = await ivs.send(new CreateChannelCommand({ name: 'tagged' }));
  const { recordingConfiguration } = await ivs.send(new CreateRecordingConfigurationCommand({ destinationConfiguration: { s3: { bucketName: 'tagged-bucket' } } }));
  for (const arn of [channel.arn, streamKey.arn, recordingConfiguration.arn]) {
    await ivs.send(new TagResourceCommand({ resourceArn: arn, tags: { a: '1', b: '2' } }));
    await ivs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a'] }));
    const { tags } = await ivs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    assert.deepEqual(tags, { b: '2' }, arn);
  }
  assert.deepEqual((await ivs.send(new GetChannelCommand({ arn: channel.arn }))).channel.tags, { b: '2' });
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: `${ACCOUNT}:channel/missing`, tags: { a: 'b' } })), 'ResourceNotFoundException', 404);
});
