// The demo app as people use it, in headless Chromium against a real `troupe serve --dev`:
// hosts joining through the deep link see and hear each other, mute shows on the others, leave
// removes the tile, a viewer watches unseen, and twelve tiles fit a laptop and a phone screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newStage, openApp, serverAndBrowser, waitFor } from './browser.mjs';
import { layoutProblems, openStage, playingRemotes, screenshot, stageName, tiles } from './demo-pages.mjs';

const env = serverAndBrowser();

/** Records what the page asks getUserMedia for, in window.devicePrompts. */
const COUNT_DEVICE_PROMPTS = () => {
  window.devicePrompts = [];
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => {
    window.devicePrompts.push({ audio: Boolean(c?.audio), video: Boolean(c?.video) });
    return real(c);
  };
};

test('three hosts see each other; mute shows on the others; leave removes the tile; a viewer is unseen', async () => {
  const stage = stageName('show');
  const names = ['alice', 'bob', 'carol'];
  const pages = [];
  for (const name of names) pages.push(await openStage(env.browser, env.server.url, stage, { name }));
  for (const [i, page] of pages.entries()) {
    const others = names.filter((n) => n !== names[i]);
    await waitFor(`${names[i]} to see ${others.join(' and ')} playing`, async () => {
      const playing = await playingRemotes(page);
      return JSON.stringify(playing) === JSON.stringify(others) && playing;
    }, 40_000);
    const shown = await tiles(page);
    assert.deepEqual(shown.map((t) => t.label).sort(), [`${names[i]} (you)`, ...others].sort());
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'connected');
  }
  await screenshot(pages[0], 'demo-three-hosts');

  // The start page lists the stage with its three people; picking it fills the form.
  const start = await (await env.browser.newContext()).newPage();
  await start.goto(`${env.server.url}/`);
  const pick = start.getByRole('button', { name: `${stage}, 3 people` });
  await pick.waitFor({ timeout: 15_000 });
  await pick.click();
  assert.equal(await start.locator('#stage').inputValue(), stage);
  await screenshot(start, 'demo-start-page-active');
  await start.context().close();

  // The fake microphone beeps: someone's tile lights up as speaking on the others' screens.
  await waitFor('a speaking highlight on alice\'s screen', async () => (await tiles(pages[0])).some((t) => !t.local && t.speaking), 20_000, 100);

  // Alice mutes: bob and carol see the badge; she unmutes: it goes.
  await pages[0].getByRole('button', { name: 'Mute microphone' }).click();
  for (const page of pages.slice(1)) {
    await waitFor('alice muted on the others', async () => (await tiles(page)).find((t) => t.name === 'alice')?.micMuted);
  }
  assert.equal((await tiles(pages[0])).find((t) => t.local).micMuted, true);
  await screenshot(pages[1], 'demo-alice-muted');
  await pages[0].getByRole('button', { name: 'Unmute microphone' }).click();
  await waitFor('alice unmuted on bob', async () => (await tiles(pages[1])).find((t) => t.name === 'alice')?.micMuted === false);

  // Bob stops his camera: the others see the camera-off badge.
  await pages[1].getByRole('button', { name: 'Stop camera' }).click();
  await waitFor('bob\'s camera off on carol', async () => (await tiles(pages[2])).find((t) => t.name === 'bob')?.cameraOff);

  // A viewer sees the three hosts and is not shown to them; they count one watching. Nobody
  // asks a viewer for a camera or a microphone.
  const viewer = await openStage(env.browser, env.server.url, stage, { name: 'dave', role: 'viewer', initScript: COUNT_DEVICE_PROMPTS });
  await waitFor('the viewer to see alice and carol playing', async () => {
    const playing = await playingRemotes(viewer);
    return playing.includes('alice') && playing.includes('carol');
  }, 40_000);
  assert.deepEqual((await tiles(viewer)).map((t) => t.name).sort(), names);
  await waitFor('the hosts to count one watching', async () => (await pages[0].locator('#count').getAttribute('data-watching')) === '1');
  for (const page of pages) assert.equal((await tiles(page)).length, 3, 'the viewer has no tile');
  assert.equal(await viewer.getByRole('button', { name: /microphone/ }).count(), 0, 'a viewer has no microphone button');
  assert.deepEqual(await viewer.evaluate(() => window.devicePrompts), []);
  await screenshot(viewer, 'demo-viewer');

  // Carol leaves: her tile goes from everyone's grid, promptly.
  await pages[2].getByRole('button', { name: 'Leave' }).click();
  const left = Date.now();
  for (const page of [pages[0], pages[1], viewer]) {
    await waitFor('carol\'s tile to go', async () => !(await tiles(page)).some((t) => t.name === 'carol'), 10_000, 100);
  }
  assert.ok(Date.now() - left < 5_000, `the tile went after ${Date.now() - left} ms`);
  assert.match(await pages[2].locator('#notice-title').textContent(), /You left/);
  await Promise.all([...pages, viewer].map((p) => p.context().close()));
});

test('an audio-only guest through the deep link: only her microphone is asked for; heard, shown without video', async () => {
  const stage = stageName('radio');
  const host = await openStage(env.browser, env.server.url, stage, { name: 'max' });
  const guest = await openStage(env.browser, env.server.url, stage, { name: 'nia', role: 'audio', initScript: COUNT_DEVICE_PROMPTS });
  await waitFor('nia to see max', async () => (await playingRemotes(guest)).includes('max'), 40_000);
  assert.deepEqual(await guest.evaluate(() => window.devicePrompts), [{ audio: true, video: false }]);
  const nia = await waitFor('max to see nia\'s tile', async () => (await tiles(host)).find((t) => t.name === 'nia'));
  assert.equal(nia.video, false);
  await waitFor('nia\'s audio to play on max\'s page', () => host.evaluate(() => {
    const audio = document.querySelector('.tile[data-name="nia"] audio');
    return audio && !audio.paused && audio.srcObject?.getAudioTracks()[0]?.readyState === 'live';
  }));
  assert.equal(await guest.getByRole('button', { name: /camera/i }).count(), 0);
  await guest.getByRole('button', { name: 'Mute microphone' }).click();
  await waitFor('nia muted on max', async () => (await tiles(host)).find((t) => t.name === 'nia')?.micMuted);
  await Promise.all([host, guest].map((p) => p.context().close()));
});

test('twelve participants fit without scrolling at 1280×720 and on a 390×844 phone', async () => {
  const { token, stage } = await newStage(env.server);
  // Eleven publishers at low resolution from the SDK test app, and the demo page as the twelfth.
  const small = { width: 160, height: 120, frameRate: 10 };
  const publishers = [];
  for (let i = 0; i < 11; i++) publishers.push(await openApp(env.browser, env.server.url, { viewport: { width: 320, height: 240 } }));
  for (const [i, p] of publishers.entries()) {
    const joined = await p.evaluate(([t, video]) => app.join(t, { subscribe: 'none', video }), [await token(`guest${i + 1}`), small]);
    assert.deepEqual(joined, { ok: true });
  }
  const page = await openStage(env.browser, env.server.url, stage.name, { name: 'host', viewport: { width: 1280, height: 720 } });
  let shown = [];
  await waitFor('twelve tiles with eleven videos playing', async () => {
    shown = await tiles(page);
    return shown.length === 12 && shown.filter((t) => !t.local && t.video).length === 11;
  }, 90_000, 500).catch((e) => {
    throw new Error(`${e.message}\ntiles: ${JSON.stringify(shown.map((t) => [t.name, t.video]))}`);
  });
  assert.deepEqual(await layoutProblems(page), []);
  await screenshot(page, 'demo-twelve-1280x720');

  await page.setViewportSize({ width: 390, height: 844 });
  await waitFor('the grid to lay out again', async () => (await page.locator('#grid').getAttribute('data-columns')) !== '4');
  assert.deepEqual(await layoutProblems(page), []);
  await screenshot(page, 'demo-twelve-390x844');
  await Promise.all([...publishers, page].map((p) => p.context().close()));
});
