#!/usr/bin/env node
// Bundles the demo page (page/app.ts + @siamese/web) with esbuild into dist/page/. onnxruntime-web
// stays out of the bundle: the page imports it from ./ort/ at run time, where `siamese export --web`
// copies onnxruntime-web's own files (its threaded wasm starts workers from its own script's URL,
// which a re-bundled copy would break). Prints the bundle's size.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = join(here, 'dist/page');
mkdirSync(out, { recursive: true });

/** onnxruntime-web's entry points, served from ./ort/ next to the page. */
const ORT_ENTRIES = {
  'onnxruntime-web/wasm': 'ort.wasm.min.mjs',
  'onnxruntime-web/webgpu': 'ort.webgpu.min.mjs',
};
const ortOutside = {
  name: 'onnxruntime-web-from-ort-folder',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web(\/.*)?$/ }, (args) => {
      const file = ORT_ENTRIES[args.path];
      if (!file) throw new Error(`build-page: no ./ort/ file for '${args.path}'`);
      return { path: `./ort/${file}`, external: true };
    });
  },
};

const result = await build({
  entryPoints: [join(here, 'page/app.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
  minify: true,
  sourcemap: true,
  metafile: true,
  legalComments: 'none',
  plugins: [ortOutside],
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css']) copyFileSync(join(here, 'page', f), join(out, f));

// How the page reaches onnxruntime-web: its entry points (import specifier -> file in ./ort/) and
// every file of it to serve there. The CLI copies `files` from the package; the package's tests
// and bench/web read this too, so the list is written once.
const ortFiles = {
  entries: ORT_ENTRIES,
  files: [
    ...Object.values(ORT_ENTRIES),
    'ort-wasm-simd-threaded.mjs',
    'ort-wasm-simd-threaded.wasm',
    'ort-wasm-simd-threaded.asyncify.mjs',
    'ort-wasm-simd-threaded.asyncify.wasm',
  ],
};
writeFileSync(join(out, 'ort-files.json'), `${JSON.stringify(ortFiles, null, 2)}\n`);
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`page bundle: app.js ${(bytes / 1024).toFixed(1)} KiB (onnxruntime-web excluded)`);
