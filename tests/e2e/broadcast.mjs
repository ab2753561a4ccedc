// What the channel and recording tests share: a free TCP port (for RTMP), ffprobe's reading
// of a playlist or file, and waiting for a channel's stream to be live or gone.

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { GetStreamCommand } from '@aws-sdk/client-ivs';
import { waitFor } from './browser.mjs';

/** A TCP port free on loopback right now. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** ffprobe's streams and format of a URL or file, as JSON. */
export async function ffprobe(target) {
  const args = ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', target];
  const { stdout } = await promisify(execFile)('ffprobe', args, { timeout: 30_000 });
  return JSON.parse(stdout);
}

/** The channel's stream once GetStream says LIVE. */
export function waitForLive(ivs, channelArn, ms = 15_000) {
  return waitFor('the channel to go live', async () => {
    try {
      const { stream } = await ivs.send(new GetStreamCommand({ channelArn }));
      return stream.state === 'LIVE' && stream;
    } catch (e) {
      if (e.name === 'ChannelNotBroadcasting') return false;
      throw e;
    }
  }, ms);
}

/** Resolves once GetStream says the channel is not broadcasting. */
export function waitForOffline(ivs, channelArn, ms = 10_000) {
  return waitFor('the channel to go offline', async () => {
    try {
      await ivs.send(new GetStreamCommand({ channelArn }));
      return false;
    } catch (e) {
      return e.name === 'ChannelNotBroadcasting';
    }
  }, ms);
}
