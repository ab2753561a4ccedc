// Driving the demo app (web/) in headless Chromium: opening its pages as a person would (the
// deep link), reading what its grid shows, checking the layout, and saving screenshots as test
// artifacts (tests/e2e/artifacts/, kept by CI).

import { mkdirSync } from 'node:fs';
import { trackPeerConnections } from './browser.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** A random stage name for one test. */
export const stageName = (prefix = 'demo') => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Opens the stage page for `stage`: the deep link that joins at once when `join` (as `role`),
 * or the page with its form. `initScript` runs before the page's own scripts (to stand in for
 * a browser without a camera, say).
 */
export async function openStage(browser, serverUrl, stage, { name, role, join = true, viewport = { width: 960, height: 540 }, initScript, contextOptions = {} } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error (${name}):`, e.message));
  await trackPeerConnections(page);
  if (initScript) await page.addInitScript(initScript);
  const query = new URLSearchParams();
  if (name) query.set('name', name);
  if (join) query.set('join', '1');
  if (role) query.set('role', role);
  await page.goto(`${serverUrl}/stage/${stage}?${query}`);
  return page;
}

/** What the page's grid shows, tile by tile. */
export function tiles(page) {
  return page.evaluate(() => [...document.querySelectorAll('#grid .tile')].map((t) => {
    const v = t.querySelector('video');
    return {
      name: t.dataset.name,
      local: t.classList.contains('local'),
      micMuted: !t.querySelector('.mic-off').hidden,
      cameraOff: !t.querySelector('.cam-off').hidden,
      speaking: t.classList.contains('speaking'),
      video: !v.hidden && v.readyState >= 2 && !v.paused && v.videoWidth > 0,
      time: v.currentTime,
      label: t.querySelector('.name').textContent,
    };
  }));
}

/** The remote tiles whose video plays, by name, sampled twice to see it advance. */
export async function playingRemotes(page) {
  const before = await tiles(page);
  await page.waitForTimeout(400);
  const after = await tiles(page);
  return after
    .filter((t) => !t.local && t.video && t.time > (before.find((b) => b.name === t.name)?.time ?? Infinity))
    .map((t) => t.name)
    .sort();
}

/** Whether the page fits its viewport: no scrolling, every tile fully on screen, none overlapping. */
export function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const doc = document.scrollingElement;
    if (doc.scrollHeight > innerHeight + 1) problems.push(`page scrolls vertically (${doc.scrollHeight} > ${innerHeight})`);
    if (doc.scrollWidth > innerWidth + 1) problems.push(`page scrolls horizontally (${doc.scrollWidth} > ${innerWidth})`);
    const rects = [...document.querySelectorAll('#grid .tile')].map((t) => [t.dataset.name, t.getBoundingClientRect()]);
    const controls = document.querySelector('.controls').getBoundingClientRect();
    for (const [name, r] of rects) {
      if (r.width < 40 || r.height < 30) problems.push(`${name}'s tile is ${r.width}×${r.height}`);
      if (r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5) problems.push(`${name}'s tile is off screen`);
      if (r.bottom > controls.top + 0.5) problems.push(`${name}'s tile runs under the controls`);
    }
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const [a, ra] = rects[i];
        const [b, rb] = rects[j];
        if (ra.left < rb.right - 0.5 && rb.left < ra.right - 0.5 && ra.top < rb.bottom - 0.5 && rb.top < ra.bottom - 0.5) problems.push(`${a} and ${b} overlap`);
      }
    }
    return problems;
  });
}

/** Saves a screenshot of `page` as artifacts/`name`.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** The message dialog's title, once it is open. */
export async function noticeTitle(page, ms = 20_000) {
  await page.locator('#notice[open]').waitFor({ timeout: ms });
  return page.locator('#notice-title').textContent();
}
