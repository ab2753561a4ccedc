// The stage events WebSocket against a real server, with the `ws` client: the token as
// subprotocol, STAGE_STATE on connect and after changes, PING/PONG, MUTE, EXCHANGE_TOKEN,
// DISCONNECTED on DisconnectParticipant and DeleteStage, close codes for bad messages, and the
// history (sessions, participants, events) read back with the AWS SDK.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  CreateStageCommand, CreateParticipantTokenCommand, DisconnectParticipantCommand, DeleteStageCommand,
  GetStageCommand, ListStageSessionsCommand, ListParticipantsCommand, GetParticipantCommand,
  ListParticipantEventsCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, tempDataDir } from './harness.mjs';

let server;
let ivs;
before(async () => {
  server = await startServer({ args: ['--presence-grace', '1'] });
  ivs = server.client();
});
after(async () => { await server?.stop(); });

async function stageWithTokens(...users) {
  const { stage } = await ivs.send(new CreateStageCommand({}));
  const tokens = [];
  for (const userId of users) {
    tokens.push((await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, attributes: { user: userId } }))).participantToken);
  }
  return { stage, stageId: stage.arn.split('/').pop(), tokens };
}

/** Opens the events socket and collects what arrives. */
function open(url, token, headers = {}) {
  const ws = new WebSocket(url, token, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.1.2 Safari/537.36', ...headers } });
  const messages = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    messages.push(msg);
    for (const w of [...waiters]) if (w.pred(msg)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(msg); }
  });
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body) })));
    });
    ws.on('error', reject);
  });
  return {
    ws, messages, closed, opened,
    next(pred, ms = 5000) {
      const found = messages.find(pred);
      if (found) { messages.splice(messages.indexOf(found), 1); return Promise.resolve(found); }
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (m) => { clearTimeout(t); messages.splice(messages.indexOf(m), 1); resolve(m); } };
        const t = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(messages)}`)), ms);
        waiters.push(w);
      });
    },
    send(obj) { ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); },
  };
}

const eventsUrl = (stage) => `${stage.endpoints.events}/${stage.arn.split('/').pop()}`;
const stateWith = (pred) => (m) => m.type === 'STAGE_STATE' && pred(m.payload);

test('the token is the subprotocol, echoed back; STAGE_STATE on connect and on changes', async () => {
  const { stage, stageId, tokens: [alice, bob] } = await stageWithTokens('alice', 'bob');
  const a = open(eventsUrl(stage), alice.token);
  await a.opened;
  assert.equal(a.ws.protocol, alice.token, 'subprotocol echoed');
  const first = await a.next(stateWith((p) => p.participants.length === 1));
  assert.equal(first.payload.stageId, stageId);
  assert.match(first.payload.sessionId, /^st-[A-Za-z0-9]{13}$/);
  assert.deepEqual(first.payload.participants[0], {
    id: alice.participantId, userId: 'alice', attributes: { user: 'alice' }, isPublishing: false, streams: [],
    audioMuted: false, videoStopped: false, capabilities: ['PUBLISH', 'SUBSCRIBE'],
  });
  const b = open(eventsUrl(stage), bob.token);
  await b.opened;
  await a.next(stateWith((p) => p.participants.length === 2));

  a.send({ type: 'PING' });
  await a.next((m) => m.type === 'PONG');
  b.send({ type: 'MUTE', payload: { audioMuted: true } });
  const muted = await a.next(stateWith((p) => p.participants.some((x) => x.id === bob.participantId && x.audioMuted)));
  assert.equal(muted.payload.participants.find((x) => x.id === bob.participantId).videoStopped, false);
  a.send({ type: 'SOMETHING_NEW', payload: {} });
  a.send({ type: 'PING' });
  await a.next((m) => m.type === 'PONG');

  const { stage: got } = await ivs.send(new GetStageCommand({ arn: stage.arn }));
  assert.equal(got.activeSessionId, first.payload.sessionId);
  a.ws.close();
  b.ws.close();
});

test('refusals before the upgrade: no token, bad token, wrong stage', async () => {
  const { stage, tokens: [alice] } = await stageWithTokens('alice');
  const other = await stageWithTokens('x');
  let err = await open(eventsUrl(stage), alice.token.slice(0, -4) + 'AAAA').opened.catch((e) => e);
  assert.equal(err.status, 401);
  assert.equal(err.body.code, 'TOKEN_MALFORMED');
  err = await open(eventsUrl(other.stage), alice.token).opened.catch((e) => e);
  assert.equal(err.status, 403);
  assert.equal(err.body.code, 'TOKEN_NOT_ALLOWED');
  err = await open(eventsUrl(stage), undefined).opened.catch((e) => e);
  assert.equal(err.status, 401, 'no subprotocol, no token');
  assert.equal(err.body.code, 'TOKEN_MALFORMED');
});

test('malformed, oversized and binary messages close with their codes; others are unaffected', async () => {
  const { stage, tokens } = await stageWithTokens('a', 'b', 'c', 'd');
  const watcher = open(eventsUrl(stage), tokens[3].token);
  await watcher.opened;
  const cases = [
    [tokens[0], '{not json', 4400, 'MALFORMED_MESSAGE'],
    [tokens[1], JSON.stringify({ type: 'PING', pad: 'x'.repeat(20 * 1024) }), 4413, 'MESSAGE_TOO_LARGE'],
    [tokens[2], Buffer.from([1, 2, 3]), 4415, 'UNSUPPORTED_DATA'],
  ];
  for (const [token, payload, code, reason] of cases) {
    const c = open(eventsUrl(stage), token.token);
    await c.opened;
    c.ws.send(payload);
    assert.deepEqual(await c.closed, { code, reason });
  }
  watcher.send({ type: 'PING' });
  await watcher.next((m) => m.type === 'PONG');
  watcher.ws.close();
});

test('DisconnectParticipant: DISCONNECTED, close 4001, and the token is refused afterwards', async () => {
  const { stage, tokens: [alice, bob] } = await stageWithTokens('alice', 'bob');
  const a = open(eventsUrl(stage), alice.token);
  const b = open(eventsUrl(stage), bob.token);
  await Promise.all([a.opened, b.opened]);
  await b.next(stateWith((p) => p.participants.length === 2));
  await ivs.send(new DisconnectParticipantCommand({ stageArn: stage.arn, participantId: alice.participantId, reason: 'bye' }));
  const msg = await a.next((m) => m.type === 'DISCONNECTED');
  assert.equal(msg.payload.reason, 'PARTICIPANT_DISCONNECTED');
  assert.deepEqual(await a.closed, { code: 4001, reason: 'PARTICIPANT_DISCONNECTED' });
  await b.next(stateWith((p) => p.participants.length === 1 && p.participants[0].id === bob.participantId));
  const err = await open(eventsUrl(stage), alice.token).opened.catch((e) => e);
  assert.equal(err.status, 403);
  assert.equal(err.body.code, 'PARTICIPANT_DISCONNECTED');
  b.ws.close();
});

test('a second socket with the same token replaces the first', async () => {
  const { stage, tokens: [alice] } = await stageWithTokens('alice');
  const first = open(eventsUrl(stage), alice.token);
  await first.opened;
  const second = open(eventsUrl(stage), alice.token);
  await second.opened;
  const msg = await first.next((m) => m.type === 'DISCONNECTED');
  assert.equal(msg.payload.reason, 'REPLACED');
  assert.deepEqual(await first.closed, { code: 4004, reason: 'REPLACED' });
  second.send({ type: 'PING' });
  await second.next((m) => m.type === 'PONG');
  second.ws.close();
});

test('DeleteStage disconnects everyone', async () => {
  const { stage, tokens: [alice] } = await stageWithTokens('alice');
  const a = open(eventsUrl(stage), alice.token);
  await a.opened;
  await ivs.send(new DeleteStageCommand({ arn: stage.arn }));
  assert.equal((await a.next((m) => m.type === 'DISCONNECTED')).payload.reason, 'STAGE_DELETED');
  assert.deepEqual(await a.closed, { code: 4002, reason: 'STAGE_DELETED' });
});

test('EXCHANGE_TOKEN updates the participant without reconnecting', async () => {
  const { stage, tokens: [alice] } = await stageWithTokens('alice');
  const a = open(eventsUrl(stage), alice.token);
  await a.opened;
  await a.next(stateWith((p) => p.participants.length === 1));
  // A token for another participant is not an exchange: the socket is closed.
  const other = (await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId: 'alice' }))).participantToken;
  const b = open(eventsUrl(stage), alice.token);
  await b.opened;
  await a.closed; // replaced by b
  b.send({ type: 'EXCHANGE_TOKEN', payload: { token: other.token } });
  assert.deepEqual(await b.closed, { code: 4403, reason: 'TOKEN_NOT_ALLOWED' });
});

test('history: the session, its participants and their events, read with the AWS SDK', async () => {
  const { stage, tokens: [alice, bob] } = await stageWithTokens('alice', 'bob');
  const a = open(eventsUrl(stage), alice.token);
  const b = open(eventsUrl(stage), bob.token);
  await Promise.all([a.opened, b.opened]);
  const { payload } = await a.next(stateWith((p) => p.participants.length === 2));
  const sessionId = payload.sessionId;
  a.ws.close();
  b.ws.close();
  // Both leave after the 1 s grace; the session ends with the last one.
  let sessions;
  for (let i = 0; i < 50; i++) {
    sessions = (await ivs.send(new ListStageSessionsCommand({ stageArn: stage.arn }))).stageSessions;
    if (sessions[0]?.endTime) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].sessionId, sessionId);
  assert.ok(sessions[0].endTime instanceof Date, 'session ended after everyone left');
  const { participants } = await ivs.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId }));
  assert.deepEqual(participants.map((p) => p.userId).sort(), ['alice', 'bob']);
  for (const p of participants) assert.equal(p.state, 'DISCONNECTED');
  const { participant } = await ivs.send(new GetParticipantCommand({ stageArn: stage.arn, sessionId, participantId: alice.participantId }));
  assert.equal(participant.browserName, 'Chrome');
  assert.equal(participant.osName, 'Linux');
  assert.deepEqual(participant.attributes, { user: 'alice' });
  const { events } = await ivs.send(new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId, participantId: alice.participantId }));
  assert.deepEqual(events.map((e) => e.name), ['JOINED', 'LEFT']);
});

/** A self-signed token (ImportPublicKey + jose), so that the test picks jti, claims and exp. */
async function selfSigner(stage) {
  const { generateKeyPairSync } = await import('node:crypto');
  const { ImportPublicKeyCommand } = await import('@aws-sdk/client-ivs-realtime');
  const jose = await import('jose');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const imported = (await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: publicKey.export({ type: 'spki', format: 'pem' }) }))).publicKey;
  return (claims, expiresInSeconds = 600) => {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({
      jti: 'self-1', resource: stage.arn, topic: stage.arn.split('/').pop(),
      events_url: stage.endpoints.events, whip_url: stage.endpoints.whip,
      capabilities: { allow_publish: true, allow_subscribe: true }, attributes: {}, version: '1.0',
      ...claims,
    }).setProtectedHeader({ alg: 'ES384', typ: 'JWT', kid: imported.arn })
      .setIssuedAt(now).setExpirationTime(now + expiresInSeconds).sign(privateKey);
  };
}

test('EXCHANGE_TOKEN with the same participant changes its user id and attributes in place', async () => {
  const { stage } = await stageWithTokens();
  const sign = await selfSigner(stage);
  const a = open(eventsUrl(stage), await sign({ user_id: 'before', attributes: { seat: '1' } }));
  await a.opened;
  const first = await a.next(stateWith((p) => p.participants.length === 1));
  assert.equal(first.payload.participants[0].userId, 'before');
  a.send({ type: 'EXCHANGE_TOKEN', payload: { token: await sign({ user_id: 'after', attributes: { seat: '2' }, capabilities: { allow_publish: false, allow_subscribe: true } }) } });
  const changed = await a.next(stateWith((p) => p.participants[0]?.userId === 'after'));
  assert.deepEqual(changed.payload.participants[0].attributes, { seat: '2' });
  assert.deepEqual(changed.payload.participants[0].capabilities, ['SUBSCRIBE']);
  a.send({ type: 'PING' });
  await a.next((m) => m.type === 'PONG');
  const { events } = await ivs.send(new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId: first.payload.sessionId, participantId: 'self-1' }));
  assert.deepEqual(events.map((e) => e.name), ['JOINED', 'TOKEN_EXCHANGED']);
  a.ws.close();
});

test('a token that expires while connected ends the socket with TOKEN_EXPIRED', async () => {
  const { stage } = await stageWithTokens();
  const sign = await selfSigner(stage);
  const a = open(eventsUrl(stage), await sign({ jti: 'short-lived' }, 2));
  await a.opened;
  const msg = await a.next((m) => m.type === 'DISCONNECTED', 8000);
  assert.equal(msg.payload.reason, 'TOKEN_EXPIRED');
  assert.deepEqual(await a.closed, { code: 4003, reason: 'TOKEN_EXPIRED' });
});

async function waitFor(fn, what) {
  for (let i = 0; i < 100; i++) {
    const value = await fn();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('SIGTERM tells every participant and ends the session in the history', async () => {
  const dataDir = tempDataDir();
  let s = await startServer({ dataDir, keepData: true });
  let c = s.client();
  const { stage } = await c.send(new CreateStageCommand({}));
  const { participantToken: alice } = await c.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId: 'alice' }));
  const a = open(eventsUrl(stage), alice.token);
  await a.opened;
  const { payload } = await a.next(stateWith((p) => p.participants.length === 1));
  const stopping = s.stop('SIGTERM');
  assert.equal((await a.next((m) => m.type === 'DISCONNECTED')).payload.reason, 'SERVER_SHUTDOWN');
  assert.deepEqual(await a.closed, { code: 4005, reason: 'SERVER_SHUTDOWN' });
  assert.equal((await stopping).code, 0);

  s = await startServer({ dataDir });
  try {
    c = s.client();
    const { stageSessions } = await c.send(new ListStageSessionsCommand({ stageArn: stage.arn }));
    assert.equal(stageSessions.length, 1);
    assert.equal(stageSessions[0].sessionId, payload.sessionId);
    assert.ok(stageSessions[0].endTime instanceof Date, 'ended at shutdown');
    const { events } = await c.send(new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId: payload.sessionId, participantId: alice.participantId }));
    assert.deepEqual(events.map((e) => e.name), ['JOINED', 'LEFT']);
  } finally {
    await s.stop();
  }
});

test('after a crash, the session left open is ended and the next one is recorded', async () => {
  const dataDir = tempDataDir();
  let s = await startServer({ dataDir, keepData: true });
  let c = s.client();
  const { stage } = await c.send(new CreateStageCommand({}));
  const token = async (userId) => (await c.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId }))).participantToken;
  const alice = await token('alice');
  const a = open(eventsUrl(stage), alice.token);
  await a.opened;
  const before = (await a.next(stateWith((p) => p.participants.length === 1))).payload.sessionId;
  await waitFor(async () => (await c.send(new GetStageCommand({ arn: stage.arn }))).stage.activeSessionId, 'the session in the store');
  await s.stop('SIGKILL');

  s = await startServer({ dataDir });
  try {
    c = s.client();
    const bob = await token('bob');
    // The new server listens on another port: its stage endpoints say where.
    const { stage: now } = await c.send(new GetStageCommand({ arn: stage.arn }));
    const b = open(eventsUrl(now), bob.token);
    await b.opened;
    const after = (await b.next(stateWith((p) => p.participants.length === 1))).payload.sessionId;
    assert.notEqual(after, before);
    await waitFor(async () => (await c.send(new GetStageCommand({ arn: stage.arn }))).stage.activeSessionId === after, 'the new session to be the active one');
    const { stageSessions } = await c.send(new ListStageSessionsCommand({ stageArn: stage.arn }));
    assert.deepEqual(stageSessions.map((x) => x.sessionId), [before, after]);
    assert.ok(stageSessions[0].endTime instanceof Date, 'the crashed session was ended');
    const { participants } = await waitFor(async () => {
      const out = await c.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId: after }));
      return out.participants.length ? out : null;
    }, 'bob in the new session');
    assert.deepEqual(participants.map((p) => p.userId), ['bob']);
    b.ws.close();
  } finally {
    await s.stop();
  }
});

test('LEFT and the session end are stamped when the last connection closed, not when the grace ran out', async () => {
  const s = await startServer({ args: ['--presence-grace', '5'] });
  try {
    const c = s.client();
    const { stage } = await c.send(new CreateStageCommand({}));
    const { participantToken: alice } = await c.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId: 'alice' }));
    const a = open(eventsUrl(stage), alice.token);
    await a.opened;
    const { payload } = await a.next(stateWith((p) => p.participants.length === 1));
    const closedAt = Date.now();
    a.ws.close();
    await a.closed;
    const sessions = await waitFor(async () => {
      const out = (await c.send(new ListStageSessionsCommand({ stageArn: stage.arn }))).stageSessions;
      return out[0]?.endTime ? out : null;
    }, 'the session to end after the 5 s grace');
    const observedAt = Date.now();
    assert.ok(observedAt - closedAt >= 5000, 'the grace was honoured');
    const { events } = await c.send(new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId: payload.sessionId, participantId: alice.participantId }));
    const leftAt = events.find((e) => e.name === 'LEFT').eventTime.getTime();
    // Stamped at the close (give or take scheduling), far from the grace's end 5 s later.
    assert.ok(leftAt - closedAt < 2500, `LEFT at +${leftAt - closedAt} ms`);
    assert.ok(Math.abs(sessions[0].endTime.getTime() - leftAt) < 1000, 'the session ended when the last one left');
  } finally {
    await s.stop();
  }
});

// ---- refusals in the history, token exchange and media, the subscriber limit ----------------

/** A minimal WHIP offer (one Opus m-section; no ICE will ever happen, the answer is enough). */
function sdpOffer({ direction = 'sendonly', codec = 'opus/48000/2' } = {}) {
  const fingerprint = Array(32).fill('AB').join(':');
  return [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:actpass',
    'a=mid:0', `a=${direction}`, 'a=rtcp-mux', `a=rtpmap:111 ${codec}`, '',
  ].join('\r\n');
}

/** POSTs an offer to the stage's WHIP endpoint (`path` after it: '' or '/subscribe/<id>'). */
async function whip(stage, token, { path = '', body = sdpOffer() } = {}) {
  const res = await fetch(`${stage.endpoints.whip}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/sdp' },
    body,
  });
  const text = await res.text();
  let code;
  try { code = JSON.parse(text).code; } catch { code = undefined; }
  return { status: res.status, code, text };
}

/** The participant's events in a session once there are at least `n`, as [name, errorCode, remote]. */
async function historyOf(c, stage, sessionId, participantId, n) {
  const events = await waitFor(async () => {
    const out = await c.send(new ListParticipantEventsCommand({ stageArn: stage.arn, sessionId, participantId }));
    return out.events.length >= n ? out.events : null;
  }, `${n} events of ${participantId}`);
  return events.map((e) => [e.name, e.errorCode, e.remoteParticipantId].filter((x) => x !== undefined));
}

test('refusals of a participant with a valid token are recorded with their error code', async () => {
  const { stage } = await ivs.send(new CreateStageCommand({}));
  const token = async (userId, capabilities) => (await ivs.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, capabilities }))).participantToken;
  const viewer = await token('viewer', ['SUBSCRIBE']);
  const host = await token('host', ['PUBLISH', 'SUBSCRIBE']);
  const watcher = await token('watcher', ['SUBSCRIBE']);

  // Nobody on the stage: the refusal opens a session of its own, which ends after the grace.
  let r = await whip(stage, viewer.token);
  assert.deepEqual([r.status, r.code], [403, 'TOKEN_NOT_ALLOWED']);
  const first = await waitFor(async () => (await ivs.send(new ListStageSessionsCommand({ stageArn: stage.arn }))).stageSessions[0], 'a session');
  const { participants } = await ivs.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId: first.sessionId }));
  assert.deepEqual(participants.map((p) => [p.participantId, p.userId, p.state, p.published]), [[viewer.participantId, 'viewer', 'DISCONNECTED', false]]);
  assert.deepEqual(await historyOf(ivs, stage, first.sessionId, viewer.participantId, 1), [['PUBLISH_ERROR', 'INSUFFICIENT_CAPABILITIES']]);
  await waitFor(async () => (await ivs.send(new ListStageSessionsCommand({ stageArn: stage.arn }))).stageSessions[0].endTime, 'the session to end');

  // With someone on the stage, refusals go to its session.
  const w = open(eventsUrl(stage), watcher.token);
  await w.opened;
  const { sessionId } = (await w.next(stateWith((p) => p.participants.length === 1))).payload;
  assert.notEqual(sessionId, first.sessionId);
  r = await whip(stage, viewer.token, { path: `/subscribe/${host.participantId}`, body: sdpOffer({ direction: 'recvonly' }) });
  assert.deepEqual([r.status, r.code], [404, 'PUBLISHER_NOT_FOUND']);
  r = await whip(stage, host.token, { body: 'v=0 this is not SDP' });
  assert.deepEqual([r.status, r.code], [400, 'INVALID_INPUT']);
  r = await whip(stage, host.token, { body: sdpOffer({ codec: 'x-alien/48000/2' }) });
  assert.deepEqual([r.status, r.code], [406, 'CODEC_MISMATCH']);
  assert.deepEqual(await historyOf(ivs, stage, sessionId, viewer.participantId, 1), [['SUBSCRIBE_ERROR', 'PUBLISHER_NOT_FOUND', host.participantId]]);
  assert.deepEqual(await historyOf(ivs, stage, sessionId, host.participantId, 2), [['PUBLISH_ERROR', 'INVALID_INPUT'], ['PUBLISH_ERROR', 'INVALID_AUDIO_CODEC']]);
  const listed = (await ivs.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId }))).participants;
  assert.deepEqual(listed.map((p) => [p.userId, p.state]).sort(), [['host', 'DISCONNECTED'], ['viewer', 'DISCONNECTED'], ['watcher', 'CONNECTED']]);
  const { participant } = await ivs.send(new GetParticipantCommand({ stageArn: stage.arn, sessionId, participantId: host.participantId }));
  assert.equal(participant.protocol, 'WHIP');
  assert.deepEqual(w.messages.filter((m) => m.type === 'STAGE_STATE' && m.payload.participants.length !== 1), [], 'refused participants are not on the stage');
  w.ws.close();
});

test('EXCHANGE_TOKEN without PUBLISH ends the publish; every exchange is answered TOKEN_EXCHANGED', async () => {
  const { stage, tokens: [viewer] } = await stageWithTokens('viewer');
  const sign = await selfSigner(stage);
  const token = await sign({ user_id: 'host' });
  const a = open(eventsUrl(stage), token);
  await a.opened;
  const { sessionId } = (await a.next(stateWith((p) => p.participants.length === 1))).payload;
  assert.equal((await whip(stage, token)).status, 201);
  await a.next(stateWith((p) => p.participants[0].isPublishing));
  const subscribe = { path: '/subscribe/self-1', body: sdpOffer({ direction: 'recvonly' }) };

  a.send({ type: 'EXCHANGE_TOKEN', payload: { token } });
  assert.deepEqual((await a.next((m) => m.type === 'TOKEN_EXCHANGED')).payload, { capabilities: ['PUBLISH', 'SUBSCRIBE'] }, 'the same token: answered, nothing changes');

  a.send({ type: 'EXCHANGE_TOKEN', payload: { token: await sign({ user_id: 'host', capabilities: { allow_publish: false, allow_subscribe: true } }) } });
  assert.deepEqual((await a.next((m) => m.type === 'TOKEN_EXCHANGED')).payload, { capabilities: ['SUBSCRIBE'] });
  // (Earlier states, from before the publish, are still queued: look for this one.)
  await a.next(stateWith((p) => !p.participants[0].isPublishing && p.participants[0].capabilities.join() === 'SUBSCRIBE'));
  // The media session is over: nobody can subscribe to it any more.
  await waitFor(async () => (await whip(stage, viewer.token, subscribe)).status === 404, 'the publish to end');
  assert.deepEqual(await historyOf(ivs, stage, sessionId, 'self-1', 4), [['JOINED'], ['PUBLISH_STARTED'], ['TOKEN_EXCHANGED'], ['PUBLISH_STOPPED']]);
  a.send({ type: 'PING' });
  await a.next((m) => m.type === 'PONG');
  assert.equal(a.ws.readyState, WebSocket.OPEN, 'the events socket stays');
  a.ws.close();
});

test('limits: the 2nd publisher and the 3rd subscriber get STAGE_AT_CAPACITY and QUOTA_EXCEEDED', async () => {
  const s = await startServer({ args: ['--presence-grace', '1', '--max-publishers', '1', '--max-subscribers', '2'] });
  try {
    const c = s.client();
    const { stage } = await c.send(new CreateStageCommand({}));
    const token = async (userId, capabilities) => (await c.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, capabilities }))).participantToken;
    const [a, b, late] = [await token('a'), await token('b'), await token('late', ['SUBSCRIBE'])];
    const [host1, host2] = [await token('host1', ['PUBLISH']), await token('host2', ['PUBLISH'])];

    const sa = open(eventsUrl(stage), a.token);
    const sb = open(eventsUrl(stage), b.token);
    await Promise.all([sa.opened, sb.opened]);
    const { sessionId } = (await sa.next(stateWith((p) => p.participants.length === 2))).payload;
    const err = await open(eventsUrl(stage), late.token).opened.catch((e) => e);
    assert.equal(err.status, 403);
    assert.equal(err.body.code, 'STAGE_AT_CAPACITY');
    // Never refused: a participant already on the stage, a token that cannot subscribe.
    const again = open(eventsUrl(stage), a.token);
    await again.opened;
    const h1 = open(eventsUrl(stage), host1.token);
    await h1.opened;

    assert.equal((await whip(stage, host1.token)).status, 201);
    let r = await whip(stage, host2.token);
    assert.deepEqual([r.status, r.code], [403, 'STAGE_AT_CAPACITY']);
    r = await whip(stage, late.token, { path: `/subscribe/${host1.participantId}`, body: sdpOffer({ direction: 'recvonly' }) });
    assert.deepEqual([r.status, r.code], [403, 'STAGE_AT_CAPACITY']);
    r = await whip(stage, b.token, { path: `/subscribe/${host1.participantId}`, body: sdpOffer({ direction: 'recvonly' }) });
    assert.equal(r.status, 201, 'b holds its seat');

    assert.deepEqual(await historyOf(c, stage, sessionId, late.participantId, 2), [['JOIN_ERROR', 'QUOTA_EXCEEDED'], ['SUBSCRIBE_ERROR', 'QUOTA_EXCEEDED', host1.participantId]]);
    assert.deepEqual(await historyOf(c, stage, sessionId, host2.participantId, 1), [['PUBLISH_ERROR', 'QUOTA_EXCEEDED']]);
    const { participants } = await c.send(new ListParticipantsCommand({ stageArn: stage.arn, sessionId, filterByState: 'DISCONNECTED' }));
    assert.deepEqual(participants.map((p) => p.userId).sort(), ['host2', 'late']);

    // A seat frees once its participant has left (after the grace).
    sa.ws.close();
    again.ws.close();
    const joined = await waitFor(async () => {
      const attempt = open(eventsUrl(stage), late.token);
      return attempt.opened.then(() => attempt, (e) => { assert.equal(e.body?.code, 'STAGE_AT_CAPACITY'); return null; });
    }, 'a seat for late');
    joined.ws.close();
    sb.ws.close();
    h1.ws.close();
  } finally {
    await s.stop();
  }
});
