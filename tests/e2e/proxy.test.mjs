// Troupe behind nginx (Debian's package), with the configuration the docs give
// (docs/deploy/nginx-troupe.conf): TLS ends at nginx, Troupe runs plain HTTP on loopback with
// --public-url. The AWS SDK signs requests for nginx's address and Troupe verifies them; stage
// endpoints and tokens name https:// and wss:// on nginx; two hosts in Chromium join through it
// (WHIP and the events WebSocket both pass nginx) and see each other.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:https';
import { CreateStageCommand, CreateParticipantTokenCommand, GetStageCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer, client } from '../conformance/harness.mjs';
import { launchBrowser, openApp, waitFor } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The documented site configuration, pointed at this test's ports and certificate. Each
 *  replacement must hit: if the document changes shape, this test says so. */
function siteConfig(dir, port, upstream) {
  let conf = readFileSync(join(root, 'docs/deploy/nginx-troupe.conf'), 'utf8');
  const replace = (from, to) => {
    assert.ok(conf.includes(from), `docs/deploy/nginx-troupe.conf no longer contains ${JSON.stringify(from)}`);
    conf = conf.split(from).join(to);
  };
  replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
  replace('listen [::]:443 ssl;', '');
  replace('server 127.0.0.1:7800;', `server ${upstream};`);
  replace('/etc/letsencrypt/live/live.example.com/fullchain.pem', join(dir, 'cert.pem'));
  replace('/etc/letsencrypt/live/live.example.com/privkey.pem', join(dir, 'key.pem'));
  // The plain-HTTP redirect block needs port 80: leave it out here.
  const redirect = conf.indexOf('# Plain HTTP: to HTTPS');
  assert.ok(redirect > 0, 'the redirect block is where it was');
  return conf.slice(0, redirect);
}

const env = {};

before(async () => {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: apt-get install nginx (scripts/test installs it)`);
  env.dir = mkdtempSync(join(tmpdir(), 'troupe-nginx-'));
  chmodSync(env.dir, 0o755);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(env.dir, 'key.pem'), '-out', join(env.dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  env.port = await freePort();
  env.publicUrl = `https://127.0.0.1:${env.port}`;
  env.server = await startServer({ args: ['--public-url', env.publicUrl] });
  const upstream = env.server.url.replace('http://', '');
  writeFileSync(join(env.dir, 'site.conf'), siteConfig(env.dir, env.port, upstream));
  writeFileSync(join(env.dir, 'nginx.conf'), [
    'worker_processes 1;', `pid ${join(env.dir, 'nginx.pid')};`, `error_log ${join(env.dir, 'error.log')} warn;`,
    // As root, nginx's workers run as nobody: they only need what the master opened.
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(env.dir, t)};`),
    `  include ${join(env.dir, 'site.conf')};`,
    '}',
  ].join('\n'));
  env.nginx = spawn(NGINX, ['-p', env.dir, '-c', join(env.dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let nginxErr = '';
  env.nginx.stderr.on('data', (d) => { nginxErr += d; });
  env.agent = new Agent({ ca: readFileSync(join(env.dir, 'cert.pem')), keepAlive: true });
  env.api = client(env.publicUrl, { requestHandler: { httpsAgent: env.agent } });
  await waitFor('nginx to listen', () => {
    if (env.nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxErr}`);
    return new Promise((resolve) => {
      const socket = connect(env.port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
  }, 15_000, 100);
  env.browser = await launchBrowser();
});

after(async () => {
  await env.browser?.close();
  env.nginx?.kill('SIGTERM');
  await env.server?.stop();
  env.agent?.destroy();
  rmSync(env.dir, { recursive: true, force: true });
});

test('the AWS SDK works through nginx, and stages name the public https/wss URLs', async () => {
  const { stage } = await env.api.send(new CreateStageCommand({ name: 'behind-nginx' }));
  assert.equal(stage.endpoints.whip, `${env.publicUrl}/whip`);
  assert.equal(stage.endpoints.events, `wss://127.0.0.1:${env.port}/events`);
  const got = await env.api.send(new GetStageCommand({ arn: stage.arn }));
  assert.equal(got.stage.name, 'behind-nginx');
  const { participantToken } = await env.api.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId: 'u' }));
  const claims = JSON.parse(Buffer.from(participantToken.token.split('.')[1], 'base64url'));
  assert.equal(claims.whip_url, `${env.publicUrl}/whip`);
  assert.equal(claims.events_url, `wss://127.0.0.1:${env.port}/events`);
});

test('two hosts join through nginx (WHIP and the events WebSocket) and see each other', async () => {
  const { stage } = await env.api.send(new CreateStageCommand({ name: 'nginx-hosts' }));
  const token = async (userId) => (await env.api.send(new CreateParticipantTokenCommand({ stageArn: stage.arn, userId, capabilities: ['PUBLISH', 'SUBSCRIBE'] }))).participantToken.token;
  const pages = await Promise.all([0, 1].map(() => openApp(env.browser, env.publicUrl, { ignoreHTTPSErrors: true })));
  const joins = await Promise.all([pages[0].evaluate((t) => app.join(t), await token('alice')), pages[1].evaluate((t) => app.join(t), await token('bob'))]);
  assert.deepEqual(joins, [{ ok: true }, { ok: true }]);
  await waitFor('both to decode the other', async () => {
    const stats = await Promise.all(pages.map((p) => p.evaluate(() => app.remoteStats())));
    return stats.every((s) => Object.values(s)[0]?.framesDecoded > 0);
  });
  // The events socket went through nginx: each saw the other join by name.
  const seen = await pages[0].evaluate(() => app.named('stageParticipantJoined').map((e) => e.participant.userId).sort());
  assert.deepEqual(seen, ['alice', 'bob']);
  await Promise.all(pages.map((p) => p.close()));
});
