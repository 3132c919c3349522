/**
 * Where a model came from, for OUT/run.json and model.json: the packages that made it and a hash
 * of the split manifest, so a model can be traced to the exact data partition it was trained on.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SPLIT_FILE } from './data.js';

const require = createRequire(import.meta.url);
const PACKAGES = [
  '@siamese/cli',
  '@siamese/core',
  '@siamese/datasets',
  '@siamese/backend-onnx',
  '@siamese/backend-tfjs',
  'onnxruntime-node',
  '@tensorflow/tfjs-core',
];

/** Versions of the packages that trained the model (those installed), and Node's. */
export async function packageVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const name of PACKAGES) {
    try {
      const path = require.resolve(`${name}/package.json`);
      out[name] = (JSON.parse(await readFile(path, 'utf8')) as { version: string }).version;
    } catch {
      // Not installed (backend-tfjs is optional), or a package without ./package.json exported.
    }
  }
  return out;
}

/** `sha256:<hex>` of OUT/split.json as written. */
export async function splitHash(out: string): Promise<string> {
  const bytes = await readFile(join(out, SPLIT_FILE));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
