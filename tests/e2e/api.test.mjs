// The SDK as served: /sdk/troupe.js defines the global IVSBroadcastClient, /sdk/troupe.mjs
// exports the same names, both with the IVS value strings; exchangeToken() changes a
// participant in place.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStage, openApp, selfSigner, serverAndBrowser, waitFor } from './browser.mjs';

const env = serverAndBrowser();

// The IVS Web Broadcast SDK's Stage API surface (reference/ivs-realtime.md §4).
const EXPECTED = {
  StageEvents: {
    ERROR: 'error',
    STAGE_CONNECTION_STATE_CHANGED: 'stageConnectionStateChanged',
    STAGE_LEFT: 'stageLeft',
    STAGE_PARTICIPANT_JOINED: 'stageParticipantJoined',
    STAGE_PARTICIPANT_LEFT: 'stageParticipantLeft',
    STAGE_PARTICIPANT_METADATA_CHANGED: 'stageParticipantMetadataChanged',
    STAGE_PARTICIPANT_PUBLISH_STATE_CHANGED: 'stageParticipantPublishStateChanged',
    STAGE_PARTICIPANT_STREAMS_ADDED: 'stageParticipantStreamsAdded',
    STAGE_PARTICIPANT_STREAMS_REMOVED: 'stageParticipantStreamsRemoved',
    STAGE_PARTICIPANT_SUBSCRIBE_STATE_CHANGED: 'stageParticipantSubscribeStateChanged',
    STAGE_STREAM_MUTE_CHANGED: 'stageStreamMuteChanged',
    STAGE_STREAM_ADAPTION_CHANGED: 'stageStreamAdaptionChanged',
    STAGE_STREAM_LAYERS_CHANGED: 'stageStreamLayersChanged',
    STAGE_STREAM_LAYER_SELECTED: 'stageStreamLayerSelected',
    STAGE_STREAM_SEI_MESSAGE_RECEIVED: 'stageStreamSeiMessageReceived',
  },
  SubscribeType: { NONE: 'none', AUDIO_ONLY: 'audio_only', AUDIO_VIDEO: 'audio_video' },
  StreamType: { AUDIO: 'audio', VIDEO: 'video' },
  StageConnectionState: { DISCONNECTED: 'disconnected', CONNECTING: 'connecting', CONNECTED: 'connected', ERRORED: 'errored' },
  StageParticipantPublishState: { NOT_PUBLISHED: 'not_published', ATTEMPTING_PUBLISH: 'attempting_publish', PUBLISHED: 'published', ERRORED: 'errored' },
  StageParticipantSubscribeState: { NOT_SUBSCRIBED: 'not_subscribed', ATTEMPTING_SUBSCRIBE: 'attempting_subscribe', SUBSCRIBED: 'subscribed', ERRORED: 'errored' },
  StageErrorCategory: { JOIN_ERROR: 'JOIN_ERROR', PUBLISH_ERROR: 'PUBLISH_ERROR', SUBSCRIBE_ERROR: 'SUBSCRIBE_ERROR' },
  StageErrorCode: { TOKEN_MALFORMED: 1, TOKEN_EXPIRED: 2, TIMEOUT: 3, FAILED: 4, CANCELED: 5, STAGE_AT_CAPACITY: 6, CODEC_MISMATCH: 7, TOKEN_NOT_ALLOWED: 8, STAGE_DELETED: 9, PARTICIPANT_DISCONNECTED: 10 },
};
const CLASSES = ['Stage', 'LocalStageStream', 'RemoteStageStream', 'StageParticipantInfo', 'StageError', 'StageStream'];

/** The enums' named members (numeric enums also map values back to names; those are skipped). */
function surface(sdk, expected) {
  const out = {};
  for (const name of Object.keys(expected)) {
    out[name] = Object.fromEntries(Object.entries(sdk[name] ?? {}).filter(([k]) => Number.isNaN(Number(k))));
  }
  return out;
}

test('the script tag and the module both give the IVS Stage API', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.server.url}/healthz`);
  await page.addScriptTag({ url: `${env.server.url}/sdk/troupe.js` });
  const fromScript = await page.evaluate(([names, classes]) => {
    const sdk = window.IVSBroadcastClient;
    return { enums: Object.fromEntries(names.map((n) => [n, sdk[n]])), classes: classes.filter((c) => typeof sdk[c] === 'function') };
  }, [Object.keys(EXPECTED), CLASSES]);
  assert.deepEqual(surface(fromScript.enums, EXPECTED), EXPECTED);
  assert.deepEqual(fromScript.classes, CLASSES);

  const fromModule = await page.evaluate(async ([url, names, classes]) => {
    const sdk = await import(url);
    return { enums: Object.fromEntries(names.map((n) => [n, sdk[n]])), classes: classes.filter((c) => typeof sdk[c] === 'function') };
  }, [`${env.server.url}/sdk/troupe.mjs`, Object.keys(EXPECTED), CLASSES]);
  assert.deepEqual(surface(fromModule.enums, EXPECTED), EXPECTED);
  assert.deepEqual(fromModule.classes, CLASSES);

  // A Stage has the methods an IVS app calls.
  const methods = await page.evaluate(() => {
    const stage = new IVSBroadcastClient.Stage('x', {});
    return ['join', 'leave', 'refreshStrategy', 'replaceStrategy', 'exchangeToken', 'on', 'off'].filter((m) => typeof stage[m] === 'function');
  });
  assert.equal(methods.length, 7);
  await page.close();
});

test('the SDK is served with a content type, CORS for modules, and revalidation', async () => {
  for (const file of ['troupe.js', 'troupe.mjs']) {
    const res = await fetch(`${env.server.url}/sdk/${file}`, { headers: { origin: 'https://app.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(await res.text(), /Troupe Web SDK/);
    const again = await fetch(`${env.server.url}/sdk/${file}`, { headers: { 'if-none-match': res.headers.get('etag') } });
    assert.equal(again.status, 304);
  }
});

test('exchangeToken: new attributes reach the others; a token of someone else is refused', async () => {
  const { stage, client } = await newStage(env.server);
  const sign = await selfSigner(client, stage);
  const jti = 'exchanger';
  const [a, b] = await Promise.all([openApp(env.browser, env.server.url), openApp(env.browser, env.server.url)]);
  assert.deepEqual(await a.evaluate((t) => app.join(t, { publish: 'audio' }), await sign({ jti, user_id: 'ann', attributes: { seat: '1' } })), { ok: true });
  assert.deepEqual(await b.evaluate((t) => app.join(t, { publish: 'none' }), await sign({ jti: 'watcher' })), { ok: true });
  await waitFor('b to know ann', () => b.evaluate(() => app.named('stageParticipantJoined').some((e) => e.participant.userId === 'ann')));

  const exchanged = await a.evaluate(async (t) => {
    try {
      await app.stage.exchangeToken(t);
      return 'ok';
    } catch (e) {
      return e.message;
    }
  }, await sign({ jti, user_id: 'ann', attributes: { seat: '2' } }));
  assert.equal(exchanged, 'ok');
  const changed = await waitFor('b to see the new attributes', () =>
    b.evaluate(() => app.named('stageParticipantMetadataChanged').find((e) => e.participant.attributes.seat === '2')));
  assert.equal(changed.participant.userId, 'ann');

  const refused = await a.evaluate(async (t) => {
    try {
      await app.stage.exchangeToken(t);
      return null;
    } catch (e) {
      return { code: e.code, message: e.message };
    }
  }, await sign({ jti: 'someone-else' }));
  assert.equal(refused.code, 8, refused.message); // TOKEN_NOT_ALLOWED
  await Promise.all([a.close(), b.close()]);
});
