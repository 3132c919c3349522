/**
 * usearch (github.com/unum-cloud/usearch), loaded on first use: its package opens a native binary
 * (prebuilt, shipped inside the npm package) when imported, so nothing happens on import of this
 * package. Loaded through its CommonJS entry, which finds the binary from its own folder.
 */
import { createRequire } from 'node:module';
import { GalleryError, type Metric } from './gallery.js';

/** The part of usearch's `Index` this package uses. */
export interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array; distances: Float32Array };
  remove(keys: BigUint64Array): number | number[];
  size(): number;
  dimensions(): number;
  save(path: string): void;
  load(path: string): void;
}

export type Quantization = 'f32' | 'f16';
export const QUANTIZATIONS: readonly Quantization[] = ['f32', 'f16'];

export interface NativeSettings {
  readonly dimension: number;
  readonly metric: Metric;
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  readonly quantization: Quantization;
}

interface UsearchModule {
  Index: new (config: Record<string, unknown>) => NativeIndex;
}

let loaded: UsearchModule | undefined;

/** The usearch version this package is built and measured against. */
export const USEARCH_VERSION = '2.25.3';

function usearch(): UsearchModule {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('usearch') as UsearchModule;
    } catch (e) {
      throw new GalleryError(
        `cannot load usearch (the ANN library): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
        { cause: e },
      );
    }
  }
  return loaded;
}

export function createNative(s: NativeSettings): NativeIndex {
  const { Index } = usearch();
  return new Index({
    dimensions: s.dimension,
    metric: s.metric === 'l2' ? 'l2sq' : 'cos',
    quantization: s.quantization,
    connectivity: s.connectivity,
    expansion_add: s.expansionAdd,
    expansion_search: s.expansionSearch,
    multi: false,
  });
}
