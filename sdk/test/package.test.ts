// The package as npm would publish it: every path package.json names exists after the build.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('package.json', () => {
  it('names files that the build produced', () => {
    const paths = [pkg.main, pkg.module, pkg.browser, pkg.types, ...Object.values(pkg.exports['.'] as Record<string, string>), pkg.exports['./troupe.js']];
    for (const p of paths) expect(existsSync(join(root, p)), p).toBe(true);
    expect(pkg.files).toContain('dist');
    expect(pkg.private).toBeUndefined();
  });

  it('declares the public API, without internals', () => {
    const types = readFileSync(join(root, pkg.types), 'utf8');
    for (const name of ['Stage', 'StageEvents', 'SubscribeType', 'LocalStageStream', 'StageError', 'StageEventMap']) expect(types).toContain(name);
    // Events are typed by the map: stage.on(StageEvents.X, listener) checks the listener.
    expect(readFileSync(join(root, 'dist/types/stage.d.ts'), 'utf8')).toContain('extends TypedEmitter<StageEventMap>');
    expect(readFileSync(join(root, 'dist/types/emitter.d.ts'), 'utf8')).toContain('on<K extends keyof Events>(event: K, listener: Events[K])');
    expect(readFileSync(join(root, 'dist/types/local-stage-stream.d.ts'), 'utf8')).not.toContain('_setSender');
  });
});
