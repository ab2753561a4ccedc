// Builds the Web SDK: dist/troupe.js (IIFE, global `IVSBroadcastClient`, what a <script> tag
// loads), dist/troupe.mjs (ESM) and the type declarations in dist/types. The Troupe binary
// embeds the first two and serves them at /sdk/troupe.js and /sdk/troupe.mjs.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const common = {
  entryPoints: [join(here, 'src/index.ts')],
  bundle: true,
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  define: { __TROUPE_SDK_VERSION__: JSON.stringify(version) },
  banner: { js: `/* Troupe Web SDK ${version} — the IVS Real-Time Stage API for Troupe. Apache-2.0. */` },
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync(join(here, 'dist'), { recursive: true, force: true });
await Promise.all([
  build({ ...common, format: 'iife', globalName: 'IVSBroadcastClient', outfile: join(here, 'dist/troupe.js') }),
  build({ ...common, format: 'esm', outfile: join(here, 'dist/troupe.mjs') }),
]);
// Declarations come from tsc itself, which also type-checks the whole package (strict).
execFileSync(process.execPath, [join(here, '../node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.json')], {
  stdio: 'inherit',
});
// The watch page's player: hls.js as published (the binary embeds it and serves it at
// /watch/assets/hls.min.js, so viewers never fetch it from a CDN).
const hlsJs = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
copyFileSync(hlsJs, join(here, 'dist/hls.min.js'));
console.log(`built the Web SDK ${version} (and copied hls.js) into sdk/dist`);
