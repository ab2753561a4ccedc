// The demo backend (/demo/api/…) and the demo's files: get-or-create by name (one stage for
// concurrent callers), tokens carrying the display name and the role's capabilities, the list
// of active stages with their participant counts, every input checked with a clear error, and
// nothing of it served when the demo is off.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import WebSocket from 'ws';
import { ListStagesCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function call(path, body, { contentType = 'application/json', raw } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('get-or-create: the same stage for the same name, one stage under concurrent calls', async () => {
  const first = await call('/demo/api/stage', { name: 'lobby' });
  assert.equal(first.status, 200);
  assert.equal(first.body.created, true);
  assert.match(first.body.stageArn, /^arn:aws:ivs:us-east-1:000000000000:stage\//);
  const again = await call('/demo/api/stage', { name: 'lobby' });
  assert.deepEqual(again.body, { ...first.body, created: false });

  const racing = await Promise.all(Array.from({ length: 8 }, () => call('/demo/api/stage', { name: 'rush' })));
  assert.equal(new Set(racing.map((r) => r.body.stageArn)).size, 1);
  assert.equal(racing.filter((r) => r.body.created).length, 1);
  const { stages } = await server.client().send(new ListStagesCommand({}));
  assert.equal(stages.filter((s) => s.name === 'rush').length, 1);
});

test('tokens carry the name and the role; viewers cannot publish', async () => {
  const { body: stage } = await call('/demo/api/stage', { name: 'roles' });
  for (const [role, publish] of [['host', true], ['audio', true], ['viewer', false]]) {
    const { status, body } = await call('/demo/api/token', { stageName: 'roles', userName: '  Zoë Ann  ', role });
    assert.equal(status, 200, JSON.stringify(body));
    const claims = jose.decodeJwt(body.token);
    assert.equal(claims.resource, stage.stageArn);
    assert.equal(claims.user_id, 'Zoë Ann');
    assert.deepEqual(claims.attributes, { name: 'Zoë Ann', role });
    assert.deepEqual(claims.capabilities, { allow_publish: publish, allow_subscribe: true });
    assert.equal(body.participantId, claims.jti);
    assert.equal(body.role, role);
  }
  // No role means a host.
  const { body } = await call('/demo/api/token', { stageName: 'roles', userName: 'x' });
  assert.equal(body.role, 'host');
});

test('active stages list who is on them, busiest first', async () => {
  await call('/demo/api/stage', { name: 'quiet' });
  await call('/demo/api/stage', { name: 'busy' });
  const sockets = [];
  const join = async (stageName, userName) => {
    const { body } = await call('/demo/api/token', { stageName, userName, role: 'viewer' });
    const topic = jose.decodeJwt(body.token).topic;
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/events/${topic}`, body.token);
    sockets.push(ws);
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject); });
  };
  await join('busy', 'a');
  await join('busy', 'b');
  await join('lobby', 'c');
  try {
    let listed;
    for (let i = 0; i < 40; i++) {
      listed = (await (await fetch(`${server.url}/demo/api/stages`)).json()).stages;
      if (listed.length >= 2 && listed[0].participants === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(listed.map((s) => [s.name, s.participants]), [['busy', 2], ['lobby', 1]]);
  } finally {
    for (const ws of sockets) ws.close();
  }
});

test('every input is checked, with the member at fault named', async () => {
  const cases = [
    [{ name: '' }, 400, /name is required/],
    [{ name: 'has space' }, 400, /name/],
    [{ name: 'x'.repeat(129) }, 400, /128/],
    [{ name: 7 }, 400, /name: invalid type/],
    [{ nmae: 'typo' }, 400, /unknown field `nmae`/],
  ];
  for (const [body, status, message] of cases) {
    const r = await call('/demo/api/stage', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.code, 'INVALID_INPUT');
    assert.match(r.body.message, message);
  }
  await call('/demo/api/stage', { name: 'checks' });
  const tokenCases = [
    [{ stageName: 'checks', userName: '' }, 400, 'INVALID_INPUT', /userName is required/],
    [{ stageName: 'checks', userName: 'a'.repeat(65) }, 400, 'INVALID_INPUT', /at most 64/],
    [{ stageName: 'checks', userName: 'bell\u0007' }, 400, 'INVALID_INPUT', /control characters/],
    [{ stageName: 'checks', userName: 'a', role: 'admin' }, 400, 'INVALID_INPUT', /role must be host, audio or viewer/],
    [{ stageName: 'nowhere', userName: 'a' }, 404, 'STAGE_NOT_FOUND', /no stage is named nowhere/],
    [{ userName: 'a' }, 400, 'INVALID_INPUT', /stageName is required/],
  ];
  for (const [body, status, code, message] of tokenCases) {
    const r = await call('/demo/api/token', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.body.code, code);
    assert.match(r.body.message, message);
  }
  const notJson = await call('/demo/api/stage', undefined, { raw: '{"name":' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.body.message, /not valid JSON/);
  const array = await call('/demo/api/stage', undefined, { raw: '["lobby"]' });
  assert.equal(array.status, 400);
  const form = await call('/demo/api/stage', undefined, { raw: 'name=lobby', contentType: 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  assert.match(form.body.message, /application\/json/);
  const big = await call('/demo/api/stage', { name: 'a', pad: 'x'.repeat(10_000) });
  assert.equal(big.status, 413);
  assert.equal(big.body.code, 'INVALID_INPUT');
});

test('the pages and files: served with types and ETags; unknown files are 404', async () => {
  for (const [path, type, text] of [
    ['/', 'text/html', 'Join the stage'],
    ['/stage/anything', 'text/html', 'stage-page.js'],
    ['/demo/app.css', 'text/css', '.tile'],
    ['/demo/js/stage-page.js', 'text/javascript', 'IVSBroadcastClient'],
  ]) {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type'), new RegExp(type));
    assert.match(await res.text(), new RegExp(text.replace('.', '\\.')));
    const again = await fetch(`${server.url}${path}`, { headers: { 'If-None-Match': res.headers.get('etag') } });
    assert.equal(again.status, 304, path);
  }
  for (const path of ['/demo/nope.js', '/demo/index.html', '/demo/../Cargo.toml']) {
    assert.equal((await fetch(`${server.url}${path}`)).status, 404, path);
  }
});

test('with the demo off, none of it is served', async () => {
  const off = await startServer({ args: ['--demo', 'false'] });
  try {
    for (const [method, path] of [['GET', '/'], ['GET', '/stage/x'], ['GET', '/demo/app.css'], ['POST', '/demo/api/stage'], ['GET', '/demo/api/stages']]) {
      const res = await fetch(`${off.url}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: method === 'POST' ? '{"name":"x"}' : undefined });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    assert.match(off.stdout, /to check it is up/);
  } finally {
    await off.stop();
  }
});
