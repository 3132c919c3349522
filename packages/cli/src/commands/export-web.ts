/**
 * `siamese export MODEL --web OUT/`: a static folder that runs the model in the browser: the page
 * (@siamese/web's, bundled with esbuild when that package was built), onnxruntime-web's files in
 * ort/, and model/ (encoder and head ONNX plus the manifest with preprocessing, threshold, precision
 * and checksums). The folder is swapped in whole (kill-9 safe); headers for threads come with it.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IR_VERSION, loadModel, replaceFolder, resnetEmbeddingSize, resolveSiamese } from '@siamese/core';
import { UsageError } from '../errors.js';
import type { Output } from '../io.js';
import { cliVersion } from '../version.js';
import { bytes } from './format.js';

/** The headers a cross-origin isolated page needs (SharedArrayBuffer, so wasm threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

const PAGE_FILES = ['index.html', 'app.js', 'app.js.map', 'style.css'] as const;

export async function exportWeb(dir: string, out: string, io: Output): Promise<void> {
  const web = await import('@siamese/web');
  await checkOut(out, web.WEB_MANIFEST_FILE, web.WEB_MANIFEST_FORMAT);
  const page = await pageDir();
  const artifact = await loadModel(dir);
  const onnx = await import('@siamese/backend-onnx');
  const int8 = artifact.quantization?.onnx.encoder;
  const threshold = int8
    ? (artifact.quantization?.record.threshold ?? artifact.threshold)
    : artifact.threshold;
  const cut = (name: 'encoder' | 'head') =>
    onnx.exportSiameseCut(artifact.graph, artifact.weights, name, {
      metadata: { preprocessing: artifact.preprocessing, ...(threshold ? { threshold } : {}) },
    });
  const models = { encoder: int8 ?? cut('encoder'), head: cut('head') };
  const file = (name: 'encoder' | 'head') => ({
    path: `${name}${name === 'encoder' && int8 ? '.int8' : ''}.onnx`,
    bytes: models[name].length,
    sha256: createHash('sha256').update(models[name]).digest('hex'),
  });
  const manifest = web.parseManifest(
    {
      format: web.WEB_MANIFEST_FORMAT,
      version: web.WEB_MANIFEST_VERSION,
      irVersion: IR_VERSION,
      precision: int8 ? 'int8' : 'fp32',
      preprocessing: artifact.preprocessing,
      ...(threshold ? { threshold } : {}),
      embeddingSize: resnetEmbeddingSize(resolveSiamese(artifact.config).encoder),
      files: { encoder: file('encoder'), head: file('head') },
      createdBy: `@siamese/cli ${cliVersion()}`,
    },
    'siamese export --web',
  );
  const ort = ortDir();
  const ortFiles = (JSON.parse(await readFile(join(page, 'ort-files.json'), 'utf8')) as { files: string[] })
    .files;

  await replaceFolder(out, async (tmp) => {
    await mkdir(join(tmp, 'model'));
    await mkdir(join(tmp, 'ort'));
    for (const name of ['encoder', 'head'] as const) {
      await writeFile(join(tmp, 'model', manifest.files[name].path), models[name]);
    }
    await writeFile(join(tmp, 'model', web.WEB_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of PAGE_FILES) await copyFile(join(page, f), join(tmp, f));
    for (const f of ortFiles) await copyFile(join(ort, f), join(tmp, 'ort', f));
    await writeFile(join(tmp, 'serve.json'), `${JSON.stringify(serveJson(), null, 2)}\n`);
    await writeFile(join(tmp, '_headers'), headersFile());
  });
  const total = (await Promise.all(ortFiles.map((f) => stat(join(out, 'ort', f))))).reduce(
    (s, x) => s + x.size,
    0,
  );
  io.out(
    `wrote ${out} (page; model/: ${manifest.precision} encoder ${bytes(models.encoder.length)}, head ${bytes(models.head.length)}; ort/: onnxruntime-web ${bytes(total)})`,
  );
  io.out(
    `serve it over HTTP with the headers that wasm threads need (${Object.entries(ISOLATION_HEADERS)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}), e.g. npx serve ${out} (reads its serve.json)`,
  );
}

/** A new folder, an empty one, or a previous web export; never a folder with other things in it. */
async function checkOut(out: string, manifestFile: string, format: string): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new UsageError(`--web '${out}' is a file; name a folder for the web page`);
  if ((await readdir(out)).length === 0) return;
  // A previous export is known by its manifest, not by names any site could have (index.html).
  const manifest = await readFile(join(out, 'model', manifestFile), 'utf8').catch(() => '');
  let previous = false;
  try {
    previous = (JSON.parse(manifest) as { format?: unknown }).format === format;
  } catch {}
  if (!previous)
    throw new UsageError(
      `--web '${out}' is a folder with other files in it; name a new folder (or a previous --web export to replace)`,
    );
}

/** @siamese/web's built page (dist/page/). */
async function pageDir(): Promise<string> {
  const problem =
    "@siamese/web's page is missing: install @siamese/web (npm install @siamese/web), or build it (pnpm --filter @siamese/web build)";
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.resolve('@siamese/web/page/index.html')));
  } catch {
    throw new UsageError(`--web: ${problem}`);
  }
  for (const f of [...PAGE_FILES, 'ort-files.json'])
    if (!(await stat(join(dir, f)).catch(() => undefined)))
      throw new UsageError(`--web: ${problem} (no ${f})`);
  return dir;
}

/** onnxruntime-web's dist/ folder, as @siamese/web resolves it. */
function ortDir(): string {
  const webEntry = fileURLToPath(import.meta.resolve('@siamese/web'));
  return dirname(createRequire(webEntry).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/** `npx serve OUT` reads serve.json: the isolation headers on every path, wasm with its MIME type. */
function serveJson(): unknown {
  return {
    headers: [
      {
        source: '**/*',
        headers: Object.entries(ISOLATION_HEADERS).map(([key, value]) => ({ key, value })),
      },
    ],
  };
}

/** Netlify and Cloudflare Pages read _headers. */
function headersFile(): string {
  return `/*\n${Object.entries(ISOLATION_HEADERS)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')}\n`;
}
