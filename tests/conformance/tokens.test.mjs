// Participant tokens and public keys with the real AWS SDK; tokens checked by an independent
// JWT library (jose) against the node key Troupe keeps in its data directory.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import * as jose from 'jose';
import {
  CreateStageCommand, CreateParticipantTokenCommand, DisconnectParticipantCommand,
  ImportPublicKeyCommand, GetPublicKeyCommand, ListPublicKeysCommand, DeletePublicKeyCommand,
} from '@aws-sdk/client-ivs-realtime';
import { startServer, rejectsWith } from './harness.mjs';

let server;
let ivs;
let stageArn;
before(async () => {
  server = await startServer();
  ivs = server.client();
  stageArn = (await ivs.send(new CreateStageCommand({ name: 'tokens' }))).stage.arn;
});
after(async () => { await server?.stop(); });

function nodePublicKey() {
  return createPublicKey(readFileSync(join(server.dataDir, 'node-key.pem')));
}

test('the node key is kept private in the data directory', () => {
  const mode = statSync(join(server.dataDir, 'node-key.pem')).mode & 0o777;
  assert.equal(mode.toString(8), '600');
});

test('CreateParticipantToken: an ES384 JWT with exactly the IVS claims, verified by jose', async () => {
  const { participantToken: pt } = await ivs.send(new CreateParticipantTokenCommand({
    stageArn, userId: 'alice', duration: 90, attributes: { seat: '3' }, capabilities: ['PUBLISH'],
  }));
  assert.ok(pt.expirationTime instanceof Date);
  const { payload, protectedHeader } = await jose.jwtVerify(pt.token, nodePublicKey(), { algorithms: ['ES384'] });
  assert.equal(protectedHeader.alg, 'ES384');
  assert.equal(protectedHeader.typ, 'JWT');
  assert.ok(protectedHeader.kid, 'kid is set');
  assert.deepEqual(Object.keys(payload).sort(), [
    'attributes', 'capabilities', 'events_url', 'exp', 'iat', 'jti', 'resource', 'topic', 'user_id', 'version', 'whip_url',
  ]);
  assert.equal(payload.jti, pt.participantId);
  assert.equal(payload.user_id, 'alice');
  assert.equal(payload.resource, stageArn);
  assert.equal(payload.topic, stageArn.split('/').pop());
  assert.equal(payload.whip_url, `${server.url}/whip`);
  assert.equal(payload.events_url, `${server.url.replace('http', 'ws')}/events`);
  assert.deepEqual(payload.capabilities, { allow_publish: true, allow_subscribe: false });
  assert.deepEqual(payload.attributes, { seat: '3' });
  assert.equal(payload.version, '1.0');
  assert.equal(payload.exp - payload.iat, 90 * 60);
  assert.equal(payload.exp * 1000, pt.expirationTime.getTime(), 'exp matches expirationTime');
});

test('defaults: both capabilities, 12 hours, no user id claim when none given', async () => {
  const { participantToken: pt } = await ivs.send(new CreateParticipantTokenCommand({ stageArn }));
  assert.deepEqual(pt.capabilities, ['PUBLISH', 'SUBSCRIBE']);
  assert.equal(pt.duration, 720);
  const payload = jose.decodeJwt(pt.token);
  assert.equal(payload.user_id, undefined);
  assert.equal(payload.exp - payload.iat, 720 * 60);
});

test('CreateParticipantToken validation and missing stages', async () => {
  await rejectsWith(assert, ivs.send(new CreateParticipantTokenCommand({ stageArn, duration: 20161 })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new CreateParticipantTokenCommand({ stageArn, userId: 'u'.repeat(129) })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new CreateParticipantTokenCommand({ stageArn, attributes: { big: 'x'.repeat(1025) } })), 'ValidationException', 400);
  await rejectsWith(assert, ivs.send(new CreateParticipantTokenCommand({ stageArn, capabilities: ['ADMIN'] })), 'ValidationException', 400);
  const missing = stageArn.replace(/[^/]+$/, 'doesNotExist');
  await rejectsWith(assert, ivs.send(new CreateParticipantTokenCommand({ stageArn: missing })), 'ResourceNotFoundException', 404);
});

test('DisconnectParticipant accepts issued participants and refuses unknown ones', async () => {
  const { participantToken: pt } = await ivs.send(new CreateParticipantTokenCommand({ stageArn, userId: 'bob' }));
  const out = await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: pt.participantId, reason: 'rude' }));
  assert.equal(out.$metadata.httpStatusCode, 200);
  await rejectsWith(assert, ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: 'nobody' })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: pt.participantId, reason: 'r'.repeat(129) })), 'ValidationException', 400);
});

function p384PublicPem() {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return publicKey.export({ type: 'spki', format: 'pem' });
}

test('public keys: import, get, list with pagination, conflict, delete', async () => {
  const pem = p384PublicPem();
  const { publicKey } = await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pem, name: 'signer', tags: { env: 'test' } }));
  assert.match(publicKey.arn, /^arn:aws:ivs:us-east-1:000000000000:public-key\/[A-Za-z0-9]+$/);
  assert.equal(publicKey.name, 'signer');
  assert.equal(publicKey.publicKeyMaterial.trim(), pem.trim());
  assert.match(publicKey.fingerprint, /^[0-9a-f]{64}$/);
  assert.deepEqual(publicKey.tags, { env: 'test' });
  assert.deepEqual((await ivs.send(new GetPublicKeyCommand({ arn: publicKey.arn }))).publicKey, publicKey);

  await rejectsWith(assert, ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pem })), 'ConflictException', 409);
  const { publicKey: p256 } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const e = await rejectsWith(assert, ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: p256.export({ type: 'spki', format: 'pem' }) })), 'ValidationException', 400);
  assert.match(e.message, /publicKeyMaterial/);

  const more = [];
  for (let i = 0; i < 3; i++) more.push((await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: p384PublicPem(), name: `k${i}` }))).publicKey.arn);
  const listed = [];
  let nextToken;
  do {
    const page = await ivs.send(new ListPublicKeysCommand({ maxResults: 2, nextToken }));
    for (const k of page.publicKeys) {
      assert.equal(k.publicKeyMaterial, undefined, 'summaries carry no key material');
      listed.push(k.arn);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  for (const arn of [publicKey.arn, ...more]) assert.ok(listed.includes(arn));
  assert.equal(new Set(listed).size, listed.length);

  await ivs.send(new DeletePublicKeyCommand({ arn: publicKey.arn }));
  await rejectsWith(assert, ivs.send(new GetPublicKeyCommand({ arn: publicKey.arn })), 'ResourceNotFoundException', 404);
  await rejectsWith(assert, ivs.send(new DeletePublicKeyCommand({ arn: publicKey.arn })), 'ResourceNotFoundException', 404);
});

test('ServiceQuotaExceededException when the public key quota is reached', async () => {
  const small = await startServer({ args: ['--max-public-keys', '1'] });
  try {
    const c = small.client();
    await c.send(new ImportPublicKeyCommand({ publicKeyMaterial: p384PublicPem() }));
    await rejectsWith(assert, c.send(new ImportPublicKeyCommand({ publicKeyMaterial: p384PublicPem() })), 'ServiceQuotaExceededException', 402);
  } finally {
    await small.stop();
  }
});
