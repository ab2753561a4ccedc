// The backend of a multi-host video chat, shaped like AWS's multi-host tutorial for Amazon IVS
// Real-Time: an Express server that gets or creates a stage by name and mints participant tokens,
// with the official AWS SDK. Pointed at Troupe instead of AWS, only the endpoint (and the
// credentials) differ. The page it serves (public/) loads the Web SDK from the Troupe server.
//
//   TROUPE_URL=http://127.0.0.1:7800 npm start     # then open http://127.0.0.1:3000

import express from 'express';
import {
  CreateParticipantTokenCommand, CreateStageCommand, IVSRealTimeClient, ListStagesCommand,
} from '@aws-sdk/client-ivs-realtime';
import { readFile } from 'node:fs/promises';

const TROUPE_URL = (process.env.TROUPE_URL ?? 'http://127.0.0.1:7800').replace(/\/$/, '');
const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST ?? '127.0.0.1';

// On AWS you would leave out `endpoint` and let the SDK find credentials; `troupe serve --dev`
// accepts the access key `devkey` with the secret `devsecret`.
const ivs = new IVSRealTimeClient({
  endpoint: TROUPE_URL,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'devkey',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'devsecret',
  },
});

const NAME = /^[a-zA-Z0-9_-]{1,128}$/;

/** The stage with this name: the first one ListStages shows, or a new one. */
async function getOrCreateStage(name) {
  let nextToken;
  do {
    const page = await ivs.send(new ListStagesCommand({ maxResults: 100, nextToken }));
    const found = page.stages?.find((s) => s.name === name);
    if (found) return found;
    nextToken = page.nextToken;
  } while (nextToken);
  const { stage } = await ivs.send(new CreateStageCommand({ name }));
  return stage;
}

const app = express();
app.use(express.json({ limit: '4kb' }));

// Get or create a stage by name: { name } → { stageArn, name }.
app.post('/ivs-stage', async (req, res, next) => {
  try {
    const name = String(req.body?.name ?? '').trim();
    if (!NAME.test(name)) return res.status(400).json({ error: 'name: 1–128 letters, digits, - or _' });
    const stage = await getOrCreateStage(name);
    res.json({ stageArn: stage.arn, name: stage.name });
  } catch (e) {
    next(e);
  }
});

// A token for a user on a stage: { username, stageName } → { token, participantId, ... }.
// The user name goes into the token's attributes, where every other participant reads it.
app.post('/ivs-stage-token', async (req, res, next) => {
  try {
    const username = String(req.body?.username ?? '').trim();
    const stageName = String(req.body?.stageName ?? '').trim();
    if (!username || username.length > 64) return res.status(400).json({ error: 'username: 1–64 characters' });
    if (!NAME.test(stageName)) return res.status(400).json({ error: 'stageName: 1–128 letters, digits, - or _' });
    const stage = await getOrCreateStage(stageName);
    const { participantToken } = await ivs.send(new CreateParticipantTokenCommand({
      stageArn: stage.arn,
      userId: username,
      attributes: { username },
      capabilities: ['PUBLISH', 'SUBSCRIBE'],
      duration: 720,
    }));
    res.json(participantToken);
  } catch (e) {
    next(e);
  }
});

// The page, with the Troupe server's address filled in (it serves the Web SDK).
app.get('/', async (_req, res) => {
  const page = await readFile(new URL('./public/index.html', import.meta.url), 'utf8');
  res.type('html').send(page.replaceAll('{{TROUPE_URL}}', TROUPE_URL));
});
app.use(express.static(new URL('./public', import.meta.url).pathname, { index: false }));

// Failures of the AWS SDK calls: say what Troupe (or AWS) answered.
app.use((err, _req, res, _next) => {
  console.error(err);
  res.status(err.$metadata?.httpStatusCode ?? 500).json({ error: `${err.name}: ${err.message}` });
});

const server = app.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`multi-host example listening on http://${HOST}:${port} (Troupe at ${TROUPE_URL})`);
});
