/**
 * The package is browser code: bundled for the browser (platform browser, no Node polyfills) it
 * builds, and a Node built-in anywhere in its import graph (core/portable included) would fail
 * that build, as the second test shows. Also reports the bundle's size for the docs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from './test-util.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'siamese-web-bundle-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('@siamese/web in a browser bundle', () => {
  it('bundles for the browser with no Node built-ins, in under 40 KiB minified (onnxruntime-web excluded)', async () => {
    const bytes = await bundle(join(import.meta.dirname, 'index.ts'), join(dir, 'web.js'));
    console.log(`@siamese/web bundle: ${(bytes / 1024).toFixed(1)} KiB minified, onnxruntime-web excluded`);
    expect(bytes).toBeGreaterThan(5_000);
    expect(bytes).toBeLessThan(40 * 1024);
  });

  it('the same build refuses a module that imports a Node built-in', async () => {
    const bad = join(dir, 'bad.ts');
    await writeFile(bad, "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n");
    await expect(bundle(bad, join(dir, 'bad.js'))).rejects.toThrow(/node:fs/);
  });
});
