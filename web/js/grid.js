// The tile layout: how many columns, and which tile shape, give the largest tiles that all fit
// in the grid's box, so that up to twelve participants fill the window without scrolling.

/** Tile shapes (width / height) tried for a box of this shape: video is 16:9, but in a tall
 *  box (a phone held upright) taller tiles use the screen better; videos are cropped to fit. */
function shapesFor(width, height) {
  return width >= height ? [16 / 9, 4 / 3] : [3 / 4, 1, 4 / 3, 16 / 9];
}

/**
 * The layout of `count` tiles in a `width` × `height` box with `gap` pixels between tiles:
 * `{columns, rows, tileWidth, tileHeight}` (whole pixels), the one with the largest tiles.
 */
export function bestLayout(count, width, height, gap = 8) {
  let best = { columns: 1, rows: 1, tileWidth: 0, tileHeight: 0 };
  if (count < 1 || width <= 0 || height <= 0) return best;
  let bestArea = -1;
  for (const shape of shapesFor(width, height)) {
    for (let columns = 1; columns <= count; columns++) {
      const rows = Math.ceil(count / columns);
      const widest = (width - gap * (columns - 1)) / columns;
      const tallest = (height - gap * (rows - 1)) / rows;
      const tileWidth = Math.floor(Math.min(widest, tallest * shape));
      const tileHeight = Math.floor(tileWidth / shape);
      const area = tileWidth * tileHeight;
      if (tileWidth > 0 && area > bestArea) {
        bestArea = area;
        best = { columns, rows, tileWidth, tileHeight };
      }
    }
  }
  return best;
}

/** Keeps `grid`'s tiles laid out with bestLayout as the box or the number of tiles changes. */
export function keepLaidOut(grid, gap = 8) {
  const apply = () => {
    const tiles = grid.querySelectorAll(':scope > .tile:not([hidden])').length;
    const { width, height } = grid.getBoundingClientRect();
    const layout = bestLayout(tiles, width, height, gap);
    const row = layout.columns * layout.tileWidth + (layout.columns - 1) * gap;
    grid.style.setProperty('--side', `${Math.max(0, Math.floor((width - row) / 2))}px`);
    grid.style.setProperty('--tile-width', `${layout.tileWidth}px`);
    grid.style.setProperty('--tile-height', `${layout.tileHeight}px`);
    grid.dataset.columns = String(layout.columns);
  };
  new ResizeObserver(apply).observe(grid);
  new MutationObserver(apply).observe(grid, { childList: true, subtree: true, attributes: true, attributeFilter: ['hidden'] });
  apply();
  return apply;
}
