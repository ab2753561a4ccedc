// TagResource, UntagResource, ListTagsForResource on stages and public keys.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  CreateStageCommand, GetStageCommand, ImportPublicKeyCommand, ListStagesCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, rejectsWith } from './harness.mjs';

let server;
let ivs;
before(async () => { server = await startServer(); ivs = server.client(); });
after(async () => { await server?.stop(); });

test('tags on a stage: add, overwrite, remove, list', async () => {
  const { stage } = await ivs.send(new CreateStageCommand({ name: 'tagged', tags: { a: '1' } }));
  await ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: { b: '2', a: 'one', 'with space/and:colon': 'v' } }));
  let { tags } = await ivs.send(new ListTagsForResourceCommand({ resourceArn: stage.arn }));
  assert.deepEqual(tags, { a: 'one', b: '2', 'with space/and:colon': 'v' });
  await ivs.send(new UntagResourceCommand({ resourceArn: stage.arn, tagKeys: ['a', 'with space/and:colon', 'absent'] }));
  ({ tags } = await ivs.send(new ListTagsForResourceCommand({ resourceArn: stage.arn })));
  assert.deepEqual(tags, { b: '2' });
  assert.deepEqual((await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage.tags, { b: '2' });
  const listed = (await ivs.send(new ListStagesCommand({}))).stages.find((s) => s.arn === stage.arn);
  assert.deepEqual(listed.tags, { b: '2' });
});

test('tags on a public key', async () => {
  const { publicKey: pk } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const { publicKey } = await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pk.export({ type: 'spki', format: 'pem' }) }));
  await ivs.send(new TagResourceCommand({ resourceArn: publicKey.arn, tags: { owner: 'backend' } }));
  const { tags } = await ivs.send(new ListTagsForResourceCommand({ resourceArn: publicKey.arn }));
  assert.deepEqual(tags, { owner: 'backend' });
});

test('tag errors: unknown resource, malformed ARN, reserved keys, too many tags', async () => {
  const missing = 'arn:aws:ivs:us-east-1:000000000000:stage/doesNotExist';
  await rejectsWith(assert, ivs.send(new ListTagsForResourceCommand({ resourceArn: missing })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: missing, tags: { a: 'b' } })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: 'arn:aws:ivs:us-east-1:000000000000:composition/abc', tags: { a: 'b' } })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new ListTagsForResourceCommand({ resourceArn: 'not-an-arn' })), 'ValidationException', 400);
  const { stage } = await ivs.send(new CreateStageCommand({}));
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: { 'aws:reserved': 'x' } })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: { k: 'v'.repeat(257) } })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new UntagResourceCommand({ resourceArn: stage.arn, tagKeys: [] })), 'ValidationException', 400);
  const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
  await ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: fifty }));
  await rejectsWith(assert, ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: { one: 'more' } })), 'ValidationException', 400);
  const fiftyOne = { ...fifty, extra: 'v' };
  await rejectsWith(assert, ivs.send(new CreateStageCommand({ tags: fiftyOne })), 'ValidationException', 400);
  // Overwriting existing keys does not count against the limit.
  await ivs.send(new TagResourceCommand({ resourceArn: stage.arn, tags: { k0: 'changed' } }));
});
