// The node as an operator sees it: health, readiness, metrics, logs, signals, exit codes,
// configuration errors, durability across SIGKILL, `troupe token`, and PostgreSQL.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CreateStageCommand, GetStageCommand, ListStagesCommand, CreateParticipantTokenCommand,
  DisconnectParticipantCommand, ImportPublicKeyCommand, GetPublicKeyCommand, ListTagsForResourceCommand,
} from '@aws-sdk/client-ivs-realtime';
import { generateKeyPairSync } from 'node:crypto';
import { startServer, runTroupe, tempDataDir, client, rejectsWith } from './harness.mjs';

test('/healthz, /readyz and /metrics with per-operation counts and latencies', async () => {
  const s = await startServer();
  try {
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
    const ivs = s.client();
    await ivs.send(new CreateStageCommand({}));
    await ivs.send(new CreateStageCommand({}));
    await rejectsWith(assert, ivs.send(new GetStageCommand({ arn: 'arn:aws:ivs:us-east-1:000000000000:stage/none' })), 'ResourceNotFoundException');
    const res = await fetch(`${s.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /troupe_api_requests_total\{operation="CreateStage",outcome="ok"\} 2/);
    assert.match(text, /troupe_api_requests_total\{operation="GetStage",outcome="ResourceNotFoundException"\} 1/);
    assert.match(text, /troupe_api_request_duration_seconds_count\{operation="CreateStage"\} 2/);
    assert.match(text, /troupe_api_request_duration_seconds_bucket\{le="[0-9.e-]+",operation="CreateStage"\}/);
    assert.match(text, /^troupe_stages 2$/m);
    assert.match(text, /^troupe_active_sessions 0$/m);
    assert.match(text, /^troupe_public_keys 0$/m);
    assert.match(text, /^troupe_store_up 1$/m);
  } finally {
    await s.stop();
  }
});

test('an unreachable store at start is a clear failure (exit 1)', async () => {
  // PostgreSQL on a port nobody listens on.
  const dataDir = tempDataDir();
  const { code, stderr } = await runTroupe(['serve', '--dev', '--bind', '127.0.0.1:0', '--data-dir', dataDir, '--store', 'postgres://nobody@127.0.0.1:1/none']);
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /store/);
});

test('SIGTERM and SIGINT shut down cleanly with exit code 0', async () => {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    const s = await startServer();
    await s.client().send(new CreateStageCommand({}));
    const { code } = await s.stop(signal);
    assert.equal(code, 0, `${signal}: ${s.stderr}`);
  }
});

test('the ready line names the URL to open', async () => {
  const s = await startServer();
  try {
    assert.match(s.stdout, /^troupe listening on http:\/\/127\.0\.0\.1:\d+ — open http:\/\/127\.0\.0\.1:\d+\/ to try the demo$/m);
    const page = await fetch(`${s.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Join the stage/);
  } finally {
    await s.stop();
  }
});

test('--log-format json writes one JSON object per line', async () => {
  const s = await startServer({ args: ['--log-format', 'json'], env: { RUST_LOG: 'info' } });
  try {
    await s.client().send(new CreateStageCommand({ name: 'logged' }));
  } finally {
    await s.stop();
  }
  const lines = s.stderr.trim().split('\n').filter(Boolean);
  assert.ok(lines.length >= 2, s.stderr);
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.ok(entry.timestamp && entry.level && entry.message !== undefined, line);
  }
  assert.ok(lines.some((l) => JSON.parse(l).message === 'stage created'));
});

test('bad configuration exits 2 naming the key, from a flag, a variable or the file', async () => {
  const dataDir = tempDataDir();
  const cases = [
    [['serve', '--dev', '--bind', 'nowhere'], {}, /bind/],
    [['serve', '--dev', '--udp-ports', '9000-8000'], {}, /udp_ports/],
    [['serve', '--dev'], { TROUPE_NODE_IP: 'not-an-ip' }, /node_ip.*TROUPE_NODE_IP/],
    [['serve', '--dev', '--store', 'mysql://x'], {}, /store/],
    [['serve'], {}, /access_key_id/],
    [['serve', '--dev', '--public-url', 'ftp://x'], {}, /public_url/],
    [['serve', '--dev', '--tls-cert', 'cert.pem'], {}, /tls_key/],
    [['serve', '--dev', '--tls', 'sometimes'], {}, /tls \(--tls, TROUPE_TLS\)/],
    [['serve', '--dev', '--tls-cert', '/no/such/cert.pem', '--tls-key', '/no/such/key.pem'], {}, /tls_cert.*\/no\/such\/cert\.pem/],
    [['serve', '--dev'], { TROUPE_ICE_TCP_PORT: '70000' }, /ice_tcp_port.*TROUPE_ICE_TCP_PORT/],
    [['serve', '--dev', '--turn-tls-port', '443'], {}, /turn_tls_port/],
    [['serve', '--dev', '--turn-external', 'turn:t.example:3478'], {}, /turn_secret/],
  ];
  for (const [args, env, pattern] of cases) {
    const { code, stderr } = await runTroupe([...args, '--data-dir', dataDir], { env });
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, pattern);
  }
  const config = join(dataDir, 'troupe.toml');
  writeFileSync(config, 'dev = true\nmax_stages = "lots"\n');
  let r = await runTroupe(['serve', '--config', config, '--data-dir', dataDir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /max_stages/);
  writeFileSync(config, 'dev = true\nbindd = "127.0.0.1:1"\n');
  r = await runTroupe(['serve', '--config', config, '--data-dir', dataDir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bindd.*unknown key/);
  r = await runTroupe(['serve', '--config', join(dataDir, 'missing.toml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config/);
  rmSync(dataDir, { recursive: true, force: true });
});

test('--help teaches', async () => {
  const top = await runTroupe(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  assert.match(top.stdout, /token/);
  const serve = await runTroupe(['serve', '--help']);
  for (const flag of ['--config', '--dev', '--bind', '--udp-ports', '--node-ip', '--public-url', '--data-dir', '--store', 'TROUPE_BIND', 'Examples']) {
    assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
  }
  const token = await runTroupe(['token', '--help']);
  for (const flag of ['--stage', '--user', '--publish', '--subscribe', '--duration', '--attr', '--create']) {
    assert.ok(token.stdout.includes(flag), `token --help mentions ${flag}`);
  }
});

test('nothing acknowledged is lost when the server is killed with SIGKILL', async () => {
  const dataDir = tempDataDir();
  let s = await startServer({ dataDir, keepData: true });
  let ivs = s.client();
  const stages = [];
  const tokens = [];
  for (let i = 0; i < 10; i++) {
    const out = await ivs.send(new CreateStageCommand({ name: `durable${i}`, tags: { i: String(i) }, participantTokenConfigurations: [{ userId: `u${i}` }] }));
    stages.push(out.stage);
    tokens.push(out.participantTokens[0]);
    tokens.push((await ivs.send(new CreateParticipantTokenCommand({ stageArn: out.stage.arn, userId: `v${i}` }))).participantToken);
  }
  const { publicKey: pk } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const key = (await ivs.send(new ImportPublicKeyCommand({ publicKeyMaterial: pk.export({ type: 'spki', format: 'pem' }), name: 'kept' }))).publicKey;
  const killed = await s.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');

  s = await startServer({ dataDir });
  try {
    ivs = s.client();
    for (const stage of stages) {
      const got = (await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage;
      assert.equal(got.name, stage.name);
      assert.deepEqual(got.tags, stage.tags);
    }
    const listed = (await ivs.send(new ListStagesCommand({ maxResults: 100 }))).stages.map((x) => x.arn);
    for (const stage of stages) assert.ok(listed.includes(stage.arn));
    assert.equal((await ivs.send(new GetPublicKeyCommand({ arn: key.arn }))).publicKey.name, 'kept');
    assert.deepEqual((await ivs.send(new ListTagsForResourceCommand({ resourceArn: stages[3].arn }))).tags, { i: '3' });
    // Tokens: signed by the same node key after the restart, and still known (disconnectable).
    const nodeKey = createPublicKey(readFileSync(join(dataDir, 'node-key.pem')));
    for (const t of tokens) {
      await jose.jwtVerify(t.token, nodeKey, { algorithms: ['ES384'] });
      const stageArn = jose.decodeJwt(t.token).resource;
      await ivs.send(new DisconnectParticipantCommand({ stageArn, participantId: t.participantId }));
    }
  } finally {
    await s.stop();
  }
});

test('troupe token mints tokens from the command line, creating the stage when asked', async () => {
  const dataDir = tempDataDir();
  const base = ['token', '--dev', '--data-dir', dataDir];
  let r = await runTroupe([...base, '--stage', 'cli-show', '--user', 'alice']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--create/);
  r = await runTroupe([...base, '--stage', 'cli-show', '--create', '--user', 'alice', '--publish', '--duration', '2h', '--attr', 'seat=1', '--attr', 'role=host']);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  const claims = jose.decodeJwt(token);
  assert.equal(claims.user_id, 'alice');
  assert.deepEqual(claims.capabilities, { allow_publish: true, allow_subscribe: false });
  assert.deepEqual(claims.attributes, { seat: '1', role: 'host' });
  assert.equal(claims.exp - claims.iat, 7200);
  await jose.jwtVerify(token, createPublicKey(readFileSync(join(dataDir, 'node-key.pem'))), { algorithms: ['ES384'] });

  r = await runTroupe([...base, '--stage', 'cli-show', '--user', 'bob', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.stageArn, claims.resource, 'same stage, found by name');
  assert.deepEqual(out.participantToken.capabilities, ['PUBLISH', 'SUBSCRIBE']);
  r = await runTroupe([...base, '--stage', out.stageArn, '--user', 'carol', '--subscribe']);
  assert.equal(r.code, 0, r.stderr);
  r = await runTroupe([...base, '--stage', 'cli-show', '--duration', '15d']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /duration/);

  // The server sees what the CLI created.
  const s = await startServer({ dataDir });
  try {
    const got = await s.client().send(new GetStageCommand({ arn: out.stageArn }));
    assert.equal(got.stage.name, 'cli-show');
  } finally {
    await s.stop();
  }
});

test('the same API over PostgreSQL', async () => {
  const url = process.env.TROUPE_TEST_POSTGRES_URL;
  assert.ok(url, 'TROUPE_TEST_POSTGRES_URL is not set: run scripts/test, which starts a PostgreSQL server');
  const db = `troupe_conformance_${process.pid}_${Date.now()}`;
  execFileSync('psql', [url, '-q', '-c', `CREATE DATABASE ${db}`]);
  const dbUrl = url.replace(/\/[^/]*$/, `/${db}`);
  try {
    const dataDir = tempDataDir();
    let s = await startServer({ args: ['--store', dbUrl], dataDir, keepData: true });
    const { stage, participantTokens } = await s.client().send(new CreateStageCommand({ name: 'pg', participantTokenConfigurations: [{ userId: 'a' }] }));
    await s.stop('SIGKILL');
    s = await startServer({ args: ['--store', dbUrl], dataDir });
    try {
      const ivs = s.client();
      assert.equal((await ivs.send(new GetStageCommand({ arn: stage.arn }))).stage.name, 'pg');
      await ivs.send(new DisconnectParticipantCommand({ stageArn: stage.arn, participantId: participantTokens[0].participantId }));
      assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      // The database disappears under the running server: not ready, and calls fail with
      // InternalServerException (the SDK would retry it; one attempt here).
      execFileSync('psql', [url, '-q', '-c', `DROP DATABASE ${db} WITH (FORCE)`]);
      assert.equal((await fetch(`${s.url}/readyz`)).status, 503);
      assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^troupe_store_up 0$/m);
      const once = client(s.url, { maxAttempts: 1 });
      const err = await rejectsWith(assert, once.send(new GetStageCommand({ arn: stage.arn })), 'InternalServerException', 500);
      assert.doesNotMatch(err.message, /postgres|database/i, 'backend details stay in the logs');
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'still alive');
    } finally {
      await s.stop();
    }
  } finally {
    execFileSync('psql', [url, '-q', '-c', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
  }
});

test('troupe node-keys lists the keys and retires another node\'s key', async () => {
  // Two data directories (two nodes) sharing one SQLite store.
  const [dirA, dirB] = [tempDataDir(), tempDataDir()];
  const store = `sqlite://${join(dirA, 'shared.db')}`;
  const common = ['--dev', '--store', store];
  let r = await runTroupe(['node-keys', 'list', ...common, '--data-dir', dirA]);
  assert.equal(r.code, 0, r.stderr);
  const kidA = r.stdout.match(/(node-[0-9a-f]+)\s+active \(this data directory\)/)?.[1];
  assert.ok(kidA, r.stdout);
  r = await runTroupe(['node-keys', 'list', ...common, '--data-dir', dirB]);
  const kidB = r.stdout.match(/(node-[0-9a-f]+)\s+active \(this data directory\)/)?.[1];
  assert.ok(kidB && kidB !== kidA, r.stdout);

  r = await runTroupe(['node-keys', 'retire', kidA, ...common, '--data-dir', dirA]);
  assert.equal(r.code, 1, 'refuses to retire its own key');
  assert.match(r.stderr, /node-key\.pem/);
  r = await runTroupe(['node-keys', 'retire', kidB, ...common, '--data-dir', dirA]);
  assert.equal(r.code, 0, r.stderr);
  r = await runTroupe(['node-keys', 'list', ...common, '--data-dir', dirA]);
  assert.match(r.stdout, new RegExp(`${kidB}\\s+retired`));
  // Node B cannot come back with its retired key.
  r = await runTroupe(['serve', ...common, '--bind', '127.0.0.1:0', '--data-dir', dirB]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /retired.*node-key\.pem/);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

test('--dev refuses to expose its well-known credentials beyond loopback', async () => {
  const dataDir = tempDataDir();
  const r = await runTroupe(['serve', '--dev', '--bind', '0.0.0.0:0', '--data-dir', dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bind.*devkey/);
});
