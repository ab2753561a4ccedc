// Starts real `troupe serve` processes for the conformance tests and builds AWS SDK clients
// pointed at them. Each server gets its own data directory and an ephemeral port.

import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createNetServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IVSRealTimeClient } from '@aws-sdk/client-ivs-realtime';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
export const troupeBin = process.env.TROUPE_BIN ?? join(targetDir, 'debug', 'troupe');
export const seedBin = join(targetDir, 'debug', 'examples', 'seed_session');
for (const bin of [troupeBin, seedBin]) {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build it with \`cargo build -p troupe-server -p troupe-store --bins --examples\` (scripts/test does)`);
  }
}

export const DEV_CREDENTIALS = { accessKeyId: 'devkey', secretAccessKey: 'devsecret' };

export function tempDataDir() {
  return mkdtempSync(join(tmpdir(), 'troupe-conformance-'));
}

/** A port for a test server's media worker, free on UDP and on TCP (its ICE-TCP port has the
 *  same number), and unlikely to collide with another server's. */
async function mediaPort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await freeOn(port)) return port;
  }
}

function freeOn(port) {
  return new Promise((resolve) => {
    const tcp = createNetServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => {
      const udp = createSocket('udp4');
      udp.once('error', () => tcp.close(() => resolve(false)));
      udp.bind(port, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(true))));
    });
  });
}

/** Starts `troupe serve --dev` and resolves once it printed its ready line. */
export async function startServer({ args = [], env = {}, dataDir = tempDataDir(), keepData = false } = {}) {
  // Every test server gets its own media port, so that servers can run side by side.
  const port = args.includes('--udp-ports') ? undefined : await mediaPort();
  const udp = port === undefined ? [] : ['--udp-ports', `${port}-${port}`];
  const bind = args.includes('--bind') ? [] : ['--bind', '127.0.0.1:0'];
  // TURN's well-known port would be shared: servers side by side run without, unless asked.
  const turn = args.includes('--turn-port') ? [] : ['--turn-port', '0'];
  // The same for RTMP's well-known port: a test that pushes RTMP asks for a port of its own.
  const rtmp = args.includes('--rtmp-port') ? [] : ['--rtmp-port', '0'];
  const child = spawn(troupeBin, ['serve', '--dev', ...bind, '--data-dir', dataDir, ...udp, ...turn, ...rtmp, ...args], {
    env: { ...process.env, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`troupe did not get ready in 20 s\n${stderr}`)), 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/troupe listening on (https?:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`troupe exited with ${code}\n${stderr}`)); });
  });
  const server = {
    url,
    dataDir,
    child,
    exited,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    client(options = {}) { return client(url, options); },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return result;
    },
  };
  return server;
}

/** An IVS Real-Time client with the dev credentials, pointed at `url`. */
export function client(url, { credentials = DEV_CREDENTIALS, region = 'us-east-1', ...rest } = {}) {
  return new IVSRealTimeClient({ endpoint: url, region, credentials, ...rest });
}

/** Runs the store fixture that writes a session with participants and events. */
export async function seedSession(dataDir, stageArn, participants, { ended = false } = {}) {
  const stageId = stageArn.split('/').pop();
  const args = [`sqlite://${join(dataDir, 'troupe.db')}`, stageId, String(participants)];
  if (ended) args.push('--ended');
  const { stdout } = await promisify(execFile)(seedBin, args);
  return JSON.parse(stdout);
}

/** Runs the `troupe` binary to completion. */
export function runTroupe(args, { env = {} } = {}) {
  return new Promise((resolve) => {
    execFile(troupeBin, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** Expects `promise` to reject with an SDK error of `name` and HTTP `status`. */
export async function rejectsWith(assert, promise, name, status) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
    if (status !== undefined) assert.equal(err.$metadata?.httpStatusCode, status);
    assert.ok(err.message && err.message.length > 0, 'error has a message');
    return err;
  }
  assert.fail(`expected ${name}, but the call succeeded`);
}

/**
 * Sends a SigV4-signed request the way the SDKs do, for requests the SDK will not send itself
 * (malformed JSON, operations it has no command for). `body` is sent as given.
 */
export async function signedFetch(url, { method = 'POST', path, body = '', query = {}, credentials = DEV_CREDENTIALS } = {}) {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'ivs', region: 'us-east-1', credentials, sha256: Sha256 });
  const request = {
    method,
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path,
    query,
    headers: { host: target.host, 'content-type': 'application/json' },
    body,
  };
  const signed = await signer.sign(request);
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const item of [v].flat()) qs.append(k, item);
  const search = qs.toString() ? `?${qs}` : '';
  const { host, ...headers } = signed.headers;
  const response = await fetch(`${url}${path}${search}`, { method, headers, body: method === 'GET' ? undefined : body });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, headers: response.headers, text, json };
}

/** Checks an IVS-shaped error answer: status, header, __type and both message members. */
export function assertIvsError(assert, res, type, status) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('x-amzn-errortype'), type);
  assert.ok(res.headers.get('x-amzn-requestid'), 'request id header');
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(res.json?.__type, type);
  assert.ok(res.json.message && res.json.message === res.json.exceptionMessage, 'message and exceptionMessage');
  return res.json.message;
}
