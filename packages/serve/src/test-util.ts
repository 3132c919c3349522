/**
 * Test helpers: tiny model folders made with core (as training saves them), real image files from
 * datasets' fixtures, and requests to a real server.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPreprocessing, initWeights, type SiameseConfig, saveModel, siamese } from '@siamese/core';

const here = dirname(fileURLToPath(import.meta.url));
/** datasets' committed fixtures: real image files and broken ones. */
export const FIXTURES = resolve(here, '../../datasets/src/__fixtures__');
/** The built CLI, for the tests that run `siamese serve` as a child process. */
export const CLI_BIN = resolve(here, '../../cli/dist/bin.js');

export async function tempDir(prefix = 'siamese-serve-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Identical images score sigmoid(2) with the distance head. */
export const SAME = 1 / (1 + Math.exp(-2));

/**
 * A tiny model folder (resnet10_w8, grayscale 28x28) with a distance head: logit = 2 - 0.1 *
 * L1(ea, eb), so an image scores highest against itself, identical images exactly sigmoid(2).
 */
export async function makeModel(dir: string, seed = 1): Promise<string> {
  const input = { channels: 1, height: 28, width: 28 } as const;
  const config: SiameseConfig = { encoder: 'resnet10_w8', input, head: { hidden: [] } };
  const graph = siamese(config);
  const weights = initWeights(graph, seed);
  (weights.get('head.0.weight')!.data as Float32Array).fill(-0.1);
  (weights.get('head.0.bias')!.data as Float32Array).fill(2);
  await saveModel(dir, {
    graph,
    config,
    weights,
    preprocessing: defaultPreprocessing(input),
    threshold: { probability: 0.5, method: 'eer' },
    metrics: { rocAuc: 0.75 },
  });
  return dir;
}

/** The bytes of a fixture image, e.g. 'folder/circle/circle-1.png'. */
export function fixture(name: string): Promise<Buffer> {
  return readFile(join(FIXTURES, name));
}

export const IMAGES = {
  circle: 'folder/circle/circle-1.png',
  circle2: 'folder/circle/circle-2.jpg',
  square: 'folder/square/square-1.gif',
  triangle: 'folder/triangle/triangle-3.png',
  ann: 'pairs/people/ann/1.png',
  bob: 'pairs/people/bob/1.png',
} as const;

/** A multipart body of files (name -> bytes) and fields. */
export function form(
  files: Record<string, Buffer | Buffer[]>,
  fields: Record<string, string> = {},
): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const [k, v] of Object.entries(files)) {
    for (const [i, b] of (Array.isArray(v) ? v : [v]).entries()) {
      f.append(k, new Blob([b], { type: 'image/png' }), `${k}-${i}.png`);
    }
  }
  return f;
}

/** POSTs `body` as JSON to `url` + `path`. */
export function postJson(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A row scorer that is the negative L1 distance, as a distance head would score. */
export async function l1Scorer(
  q: Float32Array,
  rows: { data: Float32Array; count: number },
): Promise<Float32Array> {
  return Float32Array.from({ length: rows.count }, (_, r) => {
    let s = 0;
    for (let i = 0; i < q.length; i++) s += Math.abs(q[i]! - rows.data[r * q.length + i]!);
    return -s;
  });
}
