// Requests the SDK would not send: unknown routes, malformed JSON, operations not built yet.
// Every answer has the IVS error shape, never an HTML page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StartCompositionCommand, ListCompositionsCommand } from '@aws-sdk/client-ivs-realtime';
import { startServer, signedFetch, assertIvsError, rejectsWith } from './harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('unknown routes answer UnknownOperationException as JSON', async () => {
  for (const [method, path] of [['POST', '/NoSuchOperation'], ['GET', '/no/such/path'], ['PUT', '/CreateStage'], ['GET', '/CreateStage']]) {
    const res = await fetch(`${server.url}${path}`, { method });
    const body = await res.text();
    const message = assertIvsError(assert, { status: res.status, headers: res.headers, text: body, json: JSON.parse(body) }, 'UnknownOperationException', 404);
    assert.ok(message.length > 0);
  }
});

test('malformed JSON and wrong member types are ValidationException naming the problem', async () => {
  let res = await signedFetch(server.url, { path: '/CreateStage', body: '{"name": ' });
  assert.match(assertIvsError(assert, res, 'ValidationException', 400), /not valid JSON/);
  res = await signedFetch(server.url, { path: '/CreateStage', body: '{"name": 42}' });
  assert.match(assertIvsError(assert, res, 'ValidationException', 400), /^name:/);
  res = await signedFetch(server.url, { path: '/CreateStage', body: '[]' });
  assert.match(assertIvsError(assert, res, 'ValidationException', 400), /JSON object/);
  res = await signedFetch(server.url, { path: '/CreateStage', body: '{"tags": {"k": 1}}' });
  assert.match(assertIvsError(assert, res, 'ValidationException', 400), /tags/);
  res = await signedFetch(server.url, { path: '/CreateStage', body: '{"name":"ok"}' });
  assert.equal(res.status, 200);
});

test('oversized bodies are refused before they are read', async () => {
  const body = JSON.stringify({ name: 'x', pad: 'y'.repeat(300 * 1024) });
  const res = await signedFetch(server.url, { path: '/CreateStage', body });
  assertIvsError(assert, res, 'RequestEntityTooLargeException', 413);
});

test('operations not built yet name themselves, through the SDK too', async () => {
  const res = await signedFetch(server.url, { path: '/StartComposition', body: '{}' });
  assert.match(assertIvsError(assert, res, 'NotImplementedException', 501), /StartComposition/);
  const ivs = server.client();
  const err = await rejectsWith(assert, ivs.send(new ListCompositionsCommand({})), 'NotImplementedException', 501);
  assert.match(err.message, /ListCompositions/);
  await rejectsWith(assert, ivs.send(new StartCompositionCommand({ stageArn: 'arn:aws:ivs:us-east-1:000000000000:stage/x', destinations: [] })), 'NotImplementedException', 501);
});

test('unsigned calls to operations not built yet still need a signature', async () => {
  const res = await fetch(`${server.url}/StartComposition`, { method: 'POST', body: '{}' });
  const text = await res.text();
  assertIvsError(assert, { status: res.status, headers: res.headers, text, json: JSON.parse(text) }, 'MissingAuthenticationTokenException', 403);
});
