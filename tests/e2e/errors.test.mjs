// Every StageError a participant can meet, end to end: join() rejects with it, and ERROR
// carries the same error (code and category as the IVS SDK has them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteStageCommand, DisconnectParticipantCommand } from '@aws-sdk/client-ivs-realtime';
import { newStage, onlyVideoCodec, openApp, selfSigner, serverAndBrowser, waitFor } from './browser.mjs';

const CODE = { TOKEN_MALFORMED: 1, TOKEN_EXPIRED: 2, FAILED: 4, STAGE_AT_CAPACITY: 6, CODEC_MISMATCH: 7, TOKEN_NOT_ALLOWED: 8, STAGE_DELETED: 9, PARTICIPANT_DISCONNECTED: 10 };

// Two publishers per stage, so that the third meets STAGE_AT_CAPACITY.
const env = serverAndBrowser({ args: ['--max-publishers', '2'] });

/** Asserts a failed join: its rejection and the ERROR event carry the same error. */
async function assertJoinRejects(page, result, code, category) {
  assert.equal(result.ok, false, 'join() resolved');
  assert.equal(result.error.name, 'StageError');
  assert.equal(result.error.code, code, result.error.message);
  assert.equal(result.error.category, category);
  const emitted = await page.evaluate(() => app.named('error').map((e) => e.error));
  assert.deepEqual(emitted, [result.error]);
}

test('TOKEN_MALFORMED: not a token at all, and a forged one', async () => {
  const { token } = await newStage(env.server);
  const page = await openApp(env.browser, env.server.url);
  await assertJoinRejects(page, await page.evaluate(() => app.join('not-a-token')), CODE.TOKEN_MALFORMED, 'JOIN_ERROR');
  // Well-formed claims, bad signature: only the server can tell.
  const real = await token('forger');
  const [h, p] = real.split('.');
  const forged = `${h}.${p}.${'A'.repeat(128)}`;
  const page2 = await openApp(env.browser, env.server.url);
  await assertJoinRejects(page2, await page2.evaluate((t) => app.join(t), forged), CODE.TOKEN_MALFORMED, 'JOIN_ERROR');
  await Promise.all([page.close(), page2.close()]);
});

test('TOKEN_EXPIRED: long expired (seen by the SDK) and just expired (refused by the server)', async () => {
  const { stage, client } = await newStage(env.server);
  const sign = await selfSigner(client, stage);
  for (const expiresInSeconds of [-600, -20]) {
    const page = await openApp(env.browser, env.server.url);
    const result = await page.evaluate((t) => app.join(t), await sign({ expiresInSeconds }));
    await assertJoinRejects(page, result, CODE.TOKEN_EXPIRED, 'JOIN_ERROR');
    await page.close();
  }
});

/** Calls join() again on the page's stage: the code it rejects with, or null. */
function joinAgain(page) {
  return page.evaluate(async () => {
    try {
      await app.stage.join();
      return null;
    } catch (e) {
      return e.code;
    }
  });
}

test('STAGE_AT_CAPACITY: the publisher beyond the limit', async () => {
  const { token } = await newStage(env.server);
  const pages = await Promise.all([0, 1, 2].map(() => openApp(env.browser, env.server.url)));
  for (const [i, page] of pages.slice(0, 2).entries()) assert.deepEqual(await page.evaluate((t) => app.join(t, { publish: 'audio' }), await token(`p${i}`)), { ok: true });
  const third = await pages[2].evaluate((t) => app.join(t, { publish: 'audio' }), await token('p2'));
  await assertJoinRejects(pages[2], third, CODE.STAGE_AT_CAPACITY, 'PUBLISH_ERROR');
  // Streams it was shown before the refusal are taken back: the app is left with none.
  const shown = await pages[2].evaluate(() => ({
    added: app.named('stageParticipantStreamsAdded').flatMap((e) => e.streams).length,
    removed: app.named('stageParticipantStreamsRemoved').flatMap((e) => e.streams).length,
    remote: window.remote.size,
  }));
  assert.equal(shown.added, shown.removed, JSON.stringify(shown));
  assert.equal(shown.remote, 0);
  // Trying again meets the same refusal.
  assert.equal(await joinAgain(pages[2]), CODE.STAGE_AT_CAPACITY);
  await Promise.all(pages.map((p) => p.close()));
});

test('TOKEN_NOT_ALLOWED: publishing with a subscribe-only token', async () => {
  const { token } = await newStage(env.server);
  const page = await openApp(env.browser, env.server.url);
  const result = await page.evaluate((t) => app.join(t), await token('viewer', ['SUBSCRIBE']));
  await assertJoinRejects(page, result, CODE.TOKEN_NOT_ALLOWED, 'PUBLISH_ERROR');
  assert.equal(await joinAgain(page), CODE.TOKEN_NOT_ALLOWED);
  await page.close();
});

test('STAGE_DELETED: joining a deleted stage, and the stage deleted under a participant', async () => {
  const { stage, client, token } = await newStage(env.server);
  const [inside, late] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  assert.deepEqual(await inside.evaluate((t) => app.join(t, { publish: 'audio' }), await token('inside')), { ok: true });
  const lateToken = await token('late');
  await client.send(new DeleteStageCommand({ arn: stage.arn }));
  const event = await waitFor('the participant to learn of it', () => inside.evaluate(() => app.named('error')[0]));
  assert.equal(event.error.code, CODE.STAGE_DELETED);
  const left = await waitFor('STAGE_LEFT', () => inside.evaluate(() => app.named('stageLeft')[0]));
  assert.equal(left.value, 'stageDeleted');
  await assertJoinRejects(late, await late.evaluate((t) => app.join(t), lateToken), CODE.STAGE_DELETED, 'JOIN_ERROR');
  await Promise.all([inside.close(), late.close()]);
});

test('PARTICIPANT_DISCONNECTED: DisconnectParticipant, then STAGE_LEFT', async () => {
  const { stage, client, participant } = await newStage(env.server);
  const pt = await participant('kicked');
  const page = await openApp(env.browser, env.server.url);
  assert.deepEqual(await page.evaluate((t) => app.join(t, { publish: 'audio' }), pt.token), { ok: true });
  await client.send(new DisconnectParticipantCommand({ stageArn: stage.arn, participantId: pt.participantId, reason: 'test' }));
  const event = await waitFor('the error', () => page.evaluate(() => app.named('error')[0]));
  assert.equal(event.error.code, CODE.PARTICIPANT_DISCONNECTED);
  const left = await waitFor('STAGE_LEFT', () => page.evaluate(() => app.named('stageLeft')[0]));
  assert.equal(left.value, 'participantDisconnected');
  assert.ok(left.t >= event.t);
  // Joining again with the revoked token is refused the same way.
  const again = await openApp(env.browser, env.server.url);
  await assertJoinRejects(again, await again.evaluate((t) => app.join(t), pt.token), CODE.PARTICIPANT_DISCONNECTED, 'JOIN_ERROR');
  await Promise.all([page.close(), again.close()]);
});

test('CODEC_MISMATCH: a publish in no stage codec, and a subscriber that cannot decode the publisher', async () => {
  const { token } = await newStage(env.server);
  const vp9 = await openApp(env.browser, env.server.url);
  await onlyVideoCodec(vp9, 'video/VP9');
  const result = await vp9.evaluate((t) => app.join(t, { publish: 'video' }), await token('vp9'));
  await assertJoinRejects(vp9, result, CODE.CODEC_MISMATCH, 'PUBLISH_ERROR');

  const [h264, vp8only] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  await onlyVideoCodec(h264, 'video/H264');
  await onlyVideoCodec(vp8only, 'video/VP8');
  assert.deepEqual(await h264.evaluate((t) => app.join(t, { publish: 'video' }), await token('h264')), { ok: true });
  assert.deepEqual(await vp8only.evaluate((t) => app.join(t, { publish: 'none' }), await token('vp8only', ['SUBSCRIBE'])), { ok: true });
  const event = await waitFor('the subscribe error', () => vp8only.evaluate(() => app.named('error')[0]));
  assert.equal(event.error.code, CODE.CODEC_MISMATCH);
  assert.equal(event.error.category, 'SUBSCRIBE_ERROR');
  const state = await vp8only.evaluate(() => app.named('stageParticipantSubscribeStateChanged').at(-1));
  assert.equal(state.value, 'errored');
  await Promise.all([vp9.close(), h264.close(), vp8only.close()]);
});
