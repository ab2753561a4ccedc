// The demo grid's layout rule (web/js/grid.js), without a browser: the largest tiles that fit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestLayout } from '../../web/js/grid.js';

/** Whether `layout` fits `count` tiles in the box. */
function fits({ columns, rows, tileWidth, tileHeight }, count, width, height, gap = 8) {
  return columns * rows >= count
    && columns * tileWidth + (columns - 1) * gap <= width
    && rows * tileHeight + (rows - 1) * gap <= height;
}

test('every count from 1 to 12 fits laptop, phone and odd boxes, with no wasted row or column', () => {
  for (const [width, height] of [[1264, 600], [374, 690], [800, 800], [300, 120], [1920, 950]]) {
    for (let count = 1; count <= 12; count++) {
      const layout = bestLayout(count, width, height);
      assert.ok(fits(layout, count, width, height), `${count} in ${width}×${height}: ${JSON.stringify(layout)}`);
      assert.ok(layout.tileWidth > 0 && layout.tileHeight > 0);
      assert.ok((layout.rows - 1) * layout.columns < count, `an empty row: ${JSON.stringify(layout)}`);
    }
  }
});

test('the shapes people expect: one big tile, a 4×3 wall on a laptop, tall tiles on a phone', () => {
  assert.deepEqual(bestLayout(1, 1264, 600), { columns: 1, rows: 1, tileWidth: 1066, tileHeight: 599 });
  const wall = bestLayout(12, 1264, 600);
  assert.deepEqual([wall.columns, wall.rows], [4, 3]);
  assert.ok(Math.abs(wall.tileWidth / wall.tileHeight - 16 / 9) < 0.02);
  const phone = bestLayout(12, 374, 690);
  assert.ok(phone.tileHeight > phone.tileWidth, JSON.stringify(phone));
});

test('nothing to lay out, or no room, gives empty tiles rather than a crash', () => {
  assert.equal(bestLayout(0, 800, 600).tileWidth, 0);
  assert.equal(bestLayout(3, 0, 600).tileWidth, 0);
  assert.equal(bestLayout(3, -5, -5).tileWidth, 0);
});
