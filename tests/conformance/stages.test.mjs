// Stages with the real AWS SDK: create (with tokens), get, list with pagination under
// concurrent creation, update, delete, and the errors each one answers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateStageCommand, GetStageCommand, ListStagesCommand, UpdateStageCommand, DeleteStageCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, rejectsWith } from './harness.mjs';

let server;
let ivs;
before(async () => { server = await startServer(); ivs = server.client(); });
after(async () => { await server?.stop(); });

test('CreateStage returns the stage and its participant tokens', async () => {
  const out = await ivs.send(new CreateStageCommand({
    name: 'call-in-show',
    tags: { team: 'video' },
    participantTokenConfigurations: [
      { userId: 'host', capabilities: ['PUBLISH', 'SUBSCRIBE'], attributes: { role: 'host' }, duration: 60 },
      { userId: 'viewer', capabilities: ['SUBSCRIBE'] },
    ],
  }));
  const { stage, participantTokens } = out;
  assert.match(stage.arn, /^arn:aws:ivs:us-east-1:000000000000:stage\/[A-Za-z0-9]{12}$/);
  assert.equal(stage.name, 'call-in-show');
  assert.deepEqual(stage.tags, { team: 'video' });
  assert.equal(stage.activeSessionId, undefined);
  assert.equal(stage.endpoints.whip, `${server.url}/whip`);
  assert.equal(stage.endpoints.events, `${server.url.replace('http://', 'ws://')}/events`);
  assert.equal(participantTokens.length, 2);
  const [host, viewer] = participantTokens;
  assert.equal(host.userId, 'host');
  assert.deepEqual(host.capabilities, ['PUBLISH', 'SUBSCRIBE']);
  assert.deepEqual(host.attributes, { role: 'host' });
  assert.equal(host.duration, 60);
  assert.ok(host.expirationTime instanceof Date, 'expirationTime is parsed into a Date');
  const minutesLeft = (host.expirationTime - Date.now()) / 60_000;
  assert.ok(minutesLeft > 58 && minutesLeft <= 60, `expires in ~60 min, got ${minutesLeft}`);
  assert.deepEqual(viewer.capabilities, ['SUBSCRIBE']);
  assert.equal(viewer.duration, 720, 'default duration is 12 hours');
  assert.notEqual(host.participantId, viewer.participantId);
  assert.equal(host.token.split('.').length, 3);
});

test('GetStage, UpdateStage and DeleteStage', async () => {
  const { stage } = await ivs.send(new CreateStageCommand({ name: 'before' }));
  const got = await ivs.send(new GetStageCommand({ arn: stage.arn }));
  assert.deepEqual(got.stage, stage);
  const updated = await ivs.send(new UpdateStageCommand({ arn: stage.arn, name: 'after' }));
  assert.equal(updated.stage.name, 'after');
  assert.equal((await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage.name, 'after');
  await ivs.send(new DeleteStageCommand({ arn: stage.arn }));
  await rejectsWith(assert, ivs.send(new GetStageCommand({ arn: stage.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DeleteStageCommand({ arn: stage.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new UpdateStageCommand({ arn: stage.arn, name: 'x' })), 'ResourceNotFoundException', 404);
});

test('validation errors name the member', async () => {
  const err = await rejectsWith(assert, ivs.send(new CreateStageCommand({ name: 'no spaces allowed' })), 'ValidationException', 400);
  assert.match(err.message, /name/);
  const many = Array.from({ length: 13 }, () => ({}));
  await rejectsWith(assert, ivs.send(new CreateStageCommand({ participantTokenConfigurations: many })), 'ValidationException', 400);
  const e2 = await rejectsWith(assert, ivs.send(new GetStageCommand({ arn: 'arn:aws:ivs:us-east-1:1:channel/x' })), 'ValidationException', 400);
  assert.match(e2.message, /arn/);
  await rejectsWith(assert, ivs.send(new ListStagesCommand({ maxResults: 500 })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new ListStagesCommand({ nextToken: 'made-up' })), 'ValidationException', 400);
});

test('ListStages pages see every stage exactly once while stages are being created', async () => {
  const fresh = await startServer();
  try {
    const c = fresh.client();
    const initial = [];
    for (let i = 0; i < 23; i++) initial.push((await c.send(new CreateStageCommand({ name: `s${i}` }))).stage.arn);
    const seen = [];
    let nextToken;
    let pages = 0;
    const creating = [];
    do {
      const page = await c.send(new ListStagesCommand({ maxResults: 5, nextToken }));
      pages++;
      for (const s of page.stages) {
        assert.ok(s.arn && s.name !== undefined && s.tags, 'summary has arn, name and tags');
        seen.push(s.arn);
      }
      nextToken = page.nextToken;
      // Create more stages between pages, concurrently with the listing.
      creating.push(...Array.from({ length: 3 }, (_, k) => c.send(new CreateStageCommand({ name: `late${pages}-${k}` }))));
    } while (nextToken);
    await Promise.all(creating);
    assert.equal(new Set(seen).size, seen.length, 'no stage listed twice');
    for (const arn of initial) assert.ok(seen.includes(arn), `stage ${arn} missing from the listing`);
    assert.ok(pages >= 5);
  } finally {
    await fresh.stop();
  }
});

test('ServiceQuotaExceededException when the stage quota is reached', async () => {
  const small = await startServer({ args: ['--max-stages', '2'] });
  try {
    const c = small.client();
    await c.send(new CreateStageCommand({}));
    await c.send(new CreateStageCommand({}));
    await rejectsWith(assert, c.send(new CreateStageCommand({})), 'ServiceQuotaExceededException', 402);
  } finally {
    await small.stop();
  }
});
