// SigV4 as the SDK signs it, and every way a signature must be refused. Requests are tampered
// with by a middleware that runs after the SDK signed them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateStageCommand, ListStagesCommand, GetStageCommand, DeleteStageCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer, client, rejectsWith, tempDataDir } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

/** A client whose requests `mutate` changes after signing. */
function tampering(mutate, options = {}) {
  const c = server.client({ maxAttempts: 1, ...options });
  c.middlewareStack.add((next) => async (args) => {
    mutate(args.request);
    return next(args);
  }, { step: 'deserialize', name: 'tamperAfterSigning' });
  return c;
}

test('a correctly signed request from the SDK passes, signed for any region', async () => {
  for (const region of ['us-east-1', 'eu-central-1', 'ap-south-1']) {
    const out = await server.client({ region }).send(new ListStagesCommand({}));
    assert.ok(Array.isArray(out.stages));
    assert.ok(out.$metadata.requestId, 'x-amzn-RequestId is read by the SDK');
  }
});

test('a wrong secret is InvalidSignatureException', async () => {
  const c = server.client({ credentials: { accessKeyId: 'devkey', secretAccessKey: 'wrong' }, maxAttempts: 1 });
  const err = await rejectsWith(assert, c.send(new ListStagesCommand({})), 'InvalidSignatureException', 403);
  assert.match(err.message, /signature/i);
});

test('an unknown access key is UnrecognizedClientException', async () => {
  const c = server.client({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' } });
  await rejectsWith(assert, c.send(new ListStagesCommand({})), 'UnrecognizedClientException', 403);
});

test('a body changed after signing is refused', async () => {
  const c = tampering((req) => { req.body = JSON.stringify({ name: 'evil' }); req.headers['content-length'] = String(req.body.length); });
  await rejectsWith(assert, c.send(new CreateStageCommand({ name: 'good' })), 'InvalidSignatureException', 403);
});

test('a signed header changed after signing is refused', async () => {
  const c = tampering((req) => { req.headers['x-amz-user-agent'] = 'tampered/1.0'; });
  await rejectsWith(assert, c.send(new ListStagesCommand({})), 'InvalidSignatureException', 403);
});

test('a signed header removed after signing is refused, naming it', async () => {
  const c = tampering((req) => { delete req.headers['amz-sdk-invocation-id']; });
  const err = await rejectsWith(assert, c.send(new ListStagesCommand({})), 'InvalidSignatureException', 403);
  assert.match(err.message, /amz-sdk-invocation-id/);
});

test('a path changed after signing is refused', async () => {
  const c = tampering((req) => { req.path = '/DeleteStage'; });
  const { stage } = await server.client().send(new CreateStageCommand({}));
  await rejectsWith(assert, c.send(new GetStageCommand({ arn: stage.arn })), 'InvalidSignatureException', 403);
  await server.client().send(new GetStageCommand({ arn: stage.arn }));
});

test('a date more than 15 minutes off is refused; the SDK corrects its clock and retries', async () => {
  for (const offset of [-20 * 60_000, 20 * 60_000]) {
    const c = server.client({ systemClockOffset: offset, maxAttempts: 1 });
    const err = await rejectsWith(assert, c.send(new ListStagesCommand({})), 'InvalidSignatureException', 403);
    assert.match(err.message, /Signature (expired|not yet current)/);
  }
  // With retries on, the SDK reads the server's Date header, fixes its offset and succeeds.
  const c = server.client({ systemClockOffset: -20 * 60_000, maxAttempts: 3 });
  const out = await c.send(new ListStagesCommand({}));
  assert.ok(Array.isArray(out.stages));
  // 14 minutes off is still inside the window.
  await server.client({ systemClockOffset: -14 * 60_000, maxAttempts: 1 }).send(new ListStagesCommand({}));
});

test('a request without Authorization is MissingAuthenticationTokenException', async () => {
  const res = await fetch(`${server.url}/ListStages`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
});

test('read-only credentials may read but not write (AccessDeniedException)', async () => {
  const dataDir = tempDataDir();
  const config = join(dataDir, 'troupe.toml');
  writeFileSync(config, [
    '[[credentials]]', 'access_key_id = "admin"', 'secret_access_key = "admin-secret"', '',
    '[[credentials]]', 'access_key_id = "dashboard"', 'secret_access_key = "ro-secret"', 'read_only = true', '',
  ].join('\n'));
  const s = await startServer({ args: ['--config', config], dataDir });
  try {
    const admin = client(s.url, { credentials: { accessKeyId: 'admin', secretAccessKey: 'admin-secret' } });
    const ro = client(s.url, { credentials: { accessKeyId: 'dashboard', secretAccessKey: 'ro-secret' } });
    const { stage } = await admin.send(new CreateStageCommand({ name: 'x' }));
    assert.equal((await ro.send(new GetStageCommand({ arn: stage.arn }))).stage.name, 'x');
    await ro.send(new ListStagesCommand({}));
    const err = await rejectsWith(assert, ro.send(new DeleteStageCommand({ arn: stage.arn })), 'AccessDeniedException', 403);
    assert.match(err.message, /read-only/);
    // Configured credentials replace the dev ones.
    await rejectsWith(assert, client(s.url).send(new ListStagesCommand({})), 'UnrecognizedClientException', 403);
  } finally {
    await s.stop();
  }
});
