// The demo app with the keyboard alone, and what a screen reader finds: from the start page to
// the stage and out again without a mouse; axe-core (the accessibility rules engine browsers'
// dev tools use) finds no violation on the start page, the join form and the stage page, and
// every control has an accessible name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { serverAndBrowser, waitFor } from './browser.mjs';
import { openStage, screenshot, stageName, tiles } from './demo-pages.mjs';

const env = serverAndBrowser({}, { cameras: 2 });
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page as it is now, as "rule: target" lines. */
async function violations(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${v.help})`));
}

/** Every visible control (buttons, links, fields, the devices toggle) without an accessible name. */
function unnamedControls(page) {
  return page.evaluate(async () => {
    const controls = [...document.querySelectorAll('button, a[href], input, select, summary, [role="button"]')]
      .filter((el) => el.getClientRects().length > 0);
    return controls.filter((el) => {
      const labelled = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent;
      return !labelled?.trim();
    }).map((el) => el.outerHTML.slice(0, 120));
  });
}

/** Presses Tab until `selector` has focus (at most `limit` times); fails otherwise. */
async function tabTo(page, selector, limit = 30) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('keyboard only: start page → stage → mute → devices → leave; no accessibility violations', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 720 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  await page.goto(`${env.server.url}/`);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(await unnamedControls(page), []);
  await screenshot(page, 'demo-start-page');

  // The stage field has focus when the page opens.
  const stage = stageName('keys');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'stage');
  await page.keyboard.type(stage);
  await tabTo(page, '#name');
  await page.keyboard.type('kim');
  await tabTo(page, 'input[value="host"]');
  await page.keyboard.press('ArrowDown'); // radio group: the arrow picks the next choice
  await page.keyboard.press('ArrowUp');
  await tabTo(page, 'button[type="submit"]');
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/stage/${stage}?**`);
  await waitFor('kim to be connected', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  assert.equal((await tiles(page)).length, 1);

  // Copy the invite link with the keyboard: the clipboard holds the stage's link.
  await tabTo(page, '#invite');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${env.server.url}/stage/${stage}`);
  assert.equal(await page.locator('#toast').textContent(), 'Invite link copied');

  // Mute with the keyboard.
  await tabTo(page, '#mic');
  await page.keyboard.press('Space');
  assert.equal(await page.locator('#mic').getAttribute('aria-pressed'), 'true');
  assert.equal((await tiles(page)).find((t) => t.local).micMuted, true);
  // Open the device pickers with the keyboard; each picker is reachable and named.
  await tabTo(page, '#devices summary');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#devices').evaluate((d) => d.open), true);
  await tabTo(page, '#camera-select');
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(await unnamedControls(page), []);
  await screenshot(page, 'demo-stage-keyboard');

  // Leave: the message has focus on its first button, and Enter rejoins.
  await tabTo(page, '#leave');
  await page.keyboard.press('Enter');
  await page.locator('#notice[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Rejoin');
  assert.deepEqual(await violations(page), []);
  await page.keyboard.press('Enter');
  await waitFor('kim to be back', async () => (await page.locator('#connection').getAttribute('data-state')) === 'connected');
  await context.close();
});

test('the join form (a link without a name) and a viewer\'s page have no violations', async () => {
  const stage = stageName('form');
  const form = await openStage(env.browser, env.server.url, stage, { join: false });
  await form.locator('#prejoin').waitFor();
  assert.equal(await form.evaluate(() => document.activeElement?.id), 'prejoin-name');
  assert.deepEqual(await violations(form), [], 'the join form');
  await form.keyboard.type('lee');
  await form.locator('input[value="viewer"]').check();
  await form.locator('#prejoin-name').focus();
  await form.keyboard.press('Enter'); // submits the form
  await waitFor('lee to be connected as a viewer', async () => (await form.locator('#connection').getAttribute('data-state')) === 'connected');
  assert.equal(await form.locator('body').getAttribute('data-role'), 'viewer');
  assert.deepEqual(await violations(form), [], 'the viewer\'s page');
  assert.deepEqual(await unnamedControls(form), []);
  await form.context().close();
});
