/**
 * Where a model came from, for OUT/run.json and model.json: the packages that made it and a hash
 * of the split manifest, so a model can be traced to the exact data partition it was trained on.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SPLIT_FILE } from './data.js';

const require = createRequire(import.meta.url);
/** Each package, and the package whose dependency it is (the runtimes belong to the backends). */
const PACKAGES: readonly (readonly [string, string?])[] = [
  ['@siamese/cli'],
  ['@siamese/core'],
  ['@siamese/datasets'],
  ['@siamese/backend-onnx'],
  ['@siamese/backend-tfjs'],
  ['onnxruntime-node', '@siamese/backend-onnx'],
  ['@tensorflow/tfjs-core', '@siamese/backend-tfjs'],
];

function versionOf(name: string, via?: string): string | undefined {
  try {
    const from = via ? createRequire(require.resolve(`${via}/package.json`)) : require;
    return (JSON.parse(readFileSync(from.resolve(`${name}/package.json`), 'utf8')) as { version: string })
      .version;
  } catch {
    return undefined; // not installed (backend-tfjs is optional)
  }
}

/** Versions of the packages that trained the model (those installed), and Node's. */
export async function packageVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const [name, via] of PACKAGES) {
    const v = versionOf(name, via);
    if (v) out[name] = v;
  }
  return out;
}

/** `sha256:<hex>` of OUT/split.json as written. */
export async function splitHash(out: string): Promise<string> {
  const bytes = await readFile(join(out, SPLIT_FILE));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
