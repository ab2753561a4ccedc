// Stage sessions, participants and their events: rows written through the store API (the
// seed_session fixture, as the media plane will write them), read with the real AWS SDK.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateStageCommand, GetStageCommand, ListStageSessionsCommand, GetStageSessionCommand,
  GetParticipantCommand, ListParticipantsCommand, ListParticipantEventsCommand,
  DisconnectParticipantCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, seedSession, rejectsWith } from './harness.mjs';

let server;
let ivs;
let stageArn;
let ended;
let active;
before(async () => {
  server = await startServer();
  ivs = server.client();
  stageArn = (await ivs.send(new CreateStageCommand({ name: 'sessions' }))).stage.arn;
  ended = await seedSession(server.dataDir, stageArn, 3, { ended: true });
  active = await seedSession(server.dataDir, stageArn, 7);
});
after(async () => { await server?.stop(); });

test('the active session shows on the stage', async () => {
  const { stage } = await ivs.send(new GetStageCommand({ arn: stageArn }));
  assert.equal(stage.activeSessionId, active.sessionId);
});

test('ListStageSessions and GetStageSession', async () => {
  const first = await ivs.send(new ListStageSessionsCommand({ stageArn, maxResults: 1 }));
  assert.equal(first.stageSessions.length, 1);
  assert.ok(first.nextToken);
  const second = await ivs.send(new ListStageSessionsCommand({ stageArn, maxResults: 1, nextToken: first.nextToken }));
  assert.equal(second.nextToken, undefined);
  const [a, b] = [first.stageSessions[0], second.stageSessions[0]];
  assert.deepEqual([a.sessionId, b.sessionId], [ended.sessionId, active.sessionId]);
  assert.ok(a.startTime instanceof Date && a.endTime instanceof Date, 'ended session has start and end');
  assert.ok(b.startTime instanceof Date);
  assert.equal(b.endTime, undefined, 'active session has no end');

  const { stageSession } = await ivs.send(new GetStageSessionCommand({ stageArn, sessionId: ended.sessionId }));
  assert.equal(stageSession.sessionId, ended.sessionId);
  assert.ok(stageSession.endTime >= stageSession.startTime);
  await rejectsWith(assert, ivs.send(new GetStageSessionCommand({ stageArn, sessionId: 'st-0000000000000' })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new GetStageSessionCommand({ stageArn, sessionId: 'nope' })), 'ValidationException', 400);
  // A token from one stage's listing is refused by another's.
  const other = (await ivs.send(new CreateStageCommand({}))).stage.arn;
  await rejectsWith(assert, ivs.send(new ListStageSessionsCommand({ stageArn: other, nextToken: first.nextToken })), 'ValidationException', 400);
});

test('GetParticipant returns the full participant shape', async () => {
  const p = active.participants[0];
  const { participant } = await ivs.send(new GetParticipantCommand({ stageArn, sessionId: active.sessionId, participantId: p.participantId }));
  assert.equal(participant.participantId, p.participantId);
  assert.equal(participant.userId, p.userId);
  assert.equal(participant.state, 'CONNECTED');
  assert.equal(participant.published, true);
  assert.ok(participant.firstJoinTime instanceof Date);
  assert.deepEqual(participant.attributes, { seat: '0' });
  assert.equal(participant.protocol, 'WHIP');
  assert.equal(participant.browserName, 'Chromium');
  assert.equal(participant.recordingState, 'DISABLED');
  await rejectsWith(assert, ivs.send(new GetParticipantCommand({ stageArn, sessionId: active.sessionId, participantId: 'nobody' })), 'ResourceNotFoundException', 404);
  // Participant ids from another session are not found in this one.
  await rejectsWith(assert, ivs.send(new GetParticipantCommand({ stageArn, sessionId: ended.sessionId, participantId: p.participantId })), 'ResourceNotFoundException', 404);
});

async function listAll(input) {
  const ids = [];
  let nextToken;
  do {
    const page = await ivs.send(new ListParticipantsCommand({ ...input, maxResults: 2, nextToken }));
    for (const p of page.participants) ids.push(p);
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

test('ListParticipants: pagination and every filter', async () => {
  const base = { stageArn, sessionId: active.sessionId };
  const all = await listAll(base);
  assert.deepEqual(all.map((p) => p.participantId), active.participants.map((p) => p.participantId), 'join order, each once');
  for (const p of all) {
    assert.ok(p.firstJoinTime instanceof Date);
    assert.equal(typeof p.published, 'boolean');
    assert.equal(p.attributes, undefined, 'summaries carry no attributes');
  }
  const expect = (pred) => active.participants.filter(pred).map((p) => p.participantId);
  const ids = (list) => list.map((p) => p.participantId);
  assert.deepEqual(ids(await listAll({ ...base, filterByUserId: 'user-1' })), expect((p) => p.userId === 'user-1'));
  assert.deepEqual(ids(await listAll({ ...base, filterByPublished: true })), expect((p) => p.published));
  assert.deepEqual(ids(await listAll({ ...base, filterByPublished: false })), expect((p) => !p.published));
  assert.deepEqual(ids(await listAll({ ...base, filterByState: 'DISCONNECTED' })), expect((p) => p.state === 'DISCONNECTED'));
  assert.deepEqual(ids(await listAll({ ...base, filterByState: 'CONNECTED' })), expect((p) => p.state === 'CONNECTED'));
  assert.deepEqual(ids(await listAll({ ...base, filterByRecordingState: 'DISABLED' })), ids(all));
  assert.deepEqual(ids(await listAll({ ...base, filterByRecordingState: 'ACTIVE' })), []);
  await rejectsWith(assert, ivs.send(new ListParticipantsCommand({ ...base, filterByState: 'CONNECTED', filterByUserId: 'x' })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new ListParticipantsCommand({ ...base, filterByState: 'GONE' })), 'ValidationException', 400);
});

test('ListParticipantEvents: events in order, with the publisher on subscribe events', async () => {
  const p = active.participants.find((x) => x.state === 'DISCONNECTED' && x.published) ?? active.participants[2];
  const events = [];
  let nextToken;
  do {
    const page = await ivs.send(new ListParticipantEventsCommand({ stageArn, sessionId: active.sessionId, participantId: p.participantId, maxResults: 1, nextToken }));
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  assert.deepEqual(events.map((e) => e.name), p.events);
  for (const e of events) {
    assert.equal(e.participantId, p.participantId);
    assert.ok(e.eventTime instanceof Date);
  }
  const sub = events.find((e) => e.name === 'SUBSCRIBE_STARTED');
  assert.equal(sub.remoteParticipantId, 'p0remote');
  const joined = events.find((e) => e.name === 'JOINED');
  assert.equal(joined.remoteParticipantId, undefined);
});

test('DisconnectParticipant knows participants that joined with self-signed tokens', async () => {
  // Seeded participants were never issued a token by this server: they count as known because
  // they appear in a session of the stage.
  const p = active.participants[1];
  await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: p.participantId }));
});
