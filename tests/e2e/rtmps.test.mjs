// RTMPS: with TLS on, the RTMP port also speaks TLS (the first byte tells them apart), and
// plain RTMP is taken only for channels that allow it (`insecureIngest`), as IVS does.
// Debian's ffmpeg pushes both ways.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { IvsClient, CreateChannelCommand, UpdateChannelCommand } from '@aws-sdk/client-ivs';
import { startServer, DEV_CREDENTIALS } from '../conformance/harness.mjs';
import { freeTcpPort, waitForLive, waitForOffline } from './broadcast.mjs';

const env = {};

before(async () => {
  env.rtmpPort = await freeTcpPort();
  env.server = await startServer({ args: ['--tls', 'self-signed', '--rtmp-port', String(env.rtmpPort)] });
  const ca = readFileSync(join(env.server.dataDir, 'tls', 'self-signed-cert.pem'));
  env.ivs = new IvsClient({
    endpoint: env.server.url, region: 'us-east-1', credentials: DEV_CREDENTIALS,
    requestHandler: { httpsAgent: new Agent({ ca, keepAlive: true }) },
  });
});

after(async () => {
  await env.server?.stop();
});

/** ffmpeg pushing 6 s; resolves with its exit code and error output. */
function push(url) {
  const child = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=6',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-f', 'flv', url,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

test('with TLS on, ffmpeg pushes RTMPS to the RTMP port and the channel goes live; plain RTMP needs insecureIngest', async () => {
  const { channel, streamKey } = await env.ivs.send(new CreateChannelCommand({ name: 'secure' }));
  assert.equal(channel.insecureIngest, false);
  const secure = push(`rtmps://127.0.0.1:${env.rtmpPort}/app/${streamKey.value}`);
  await waitForLive(env.ivs, channel.arn);
  const done = await secure;
  assert.equal(done.code, 0, done.stderr);

  const plain = await push(`rtmp://127.0.0.1:${env.rtmpPort}/app/${streamKey.value}`);
  assert.notEqual(plain.code, 0, 'plain RTMP is refused for a channel without insecureIngest');
  await waitForOffline(env.ivs, channel.arn);
  await env.ivs.send(new UpdateChannelCommand({ arn: channel.arn, insecureIngest: true }));
  const allowed = await push(`rtmp://127.0.0.1:${env.rtmpPort}/app/${streamKey.value}`);
  assert.equal(allowed.code, 0, `plain RTMP with insecureIngest: ${allowed.stderr}`);
});
