/**
 * Op conformance cases: inputs, attrs and expected outputs computed by PyTorch
 * (tools/reference/conformance.py), one JSON file per op family under `packages/core/conformance/`.
 * Every backend runs every case and compares its outputs with `closeEnough`.
 */
import { readFile } from 'node:fs/promises';
import { isOpName, type OpName } from '../ops/table.js';
import type { ConformanceTensor, Tolerance } from './types.js';

export const CONFORMANCE_FAMILIES = [
  'conv',
  'norm',
  'pool',
  'elementwise',
  'linear',
  'layout',
  'distance',
  'reduce',
  'loss',
  'grad',
  'identity',
] as const;
export type ConformanceFamily = (typeof CONFORMANCE_FAMILIES)[number];

export type { ConformanceTensor, Tolerance } from './types.js';

export interface ConformanceCase {
  readonly op: OpName;
  /** Unique per op. */
  readonly name: string;
  /** 'train' only for batchNorm (batch statistics, buffer update) and dropout with p = 0. */
  readonly mode: 'eval' | 'train';
  /** Every attribute written out, as the op's `attrs()` returns them. */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** One per node input in the op's order (a variadic input: one per tensor); null = omitted optional input. */
  readonly inputs: readonly (ConformanceTensor | null)[];
  readonly outputs: readonly ConformanceTensor[];
  /** batchNorm in train mode: the running statistics after the update. */
  readonly buffers?: { readonly runningMean: ConformanceTensor; readonly runningVar: ConformanceTensor };
  readonly tolerance: Tolerance;
}

export interface ConformanceFile {
  readonly generator: string;
  /** torch.__version__ of the generating run. */
  readonly torch: string;
  readonly cases: readonly ConformanceCase[];
}

/** `packages/core/conformance/`: two levels up from both `src/conformance/` and `dist/conformance/`. */
const DIR = new URL('../../conformance/', import.meta.url);

export async function loadConformanceFile(family: ConformanceFamily): Promise<ConformanceFile> {
  const file = JSON.parse(await readFile(new URL(`${family}.json`, DIR), 'utf8')) as ConformanceFile;
  for (const c of file.cases) {
    // The rest of the format is checked by conformance.test.ts; a bad op name would only surface as a missing lowering.
    if (!isOpName(c.op))
      throw new Error(`conformance/${family}.json: case '${c.name}' has unknown op '${String(c.op)}'`);
  }
  return file;
}

/** Every case of every family, in family order. */
export async function loadConformanceCases(): Promise<ConformanceCase[]> {
  const files = await Promise.all(CONFORMANCE_FAMILIES.map(loadConformanceFile));
  return files.flatMap((f) => f.cases);
}

/** `op/name`, for test titles and messages. */
export function caseId(c: Pick<ConformanceCase, 'op' | 'name'>): string {
  return `${c.op}/${c.name}`;
}

export interface Mismatch {
  /** Flat index and its position in the expected shape. */
  readonly index: number;
  readonly at: readonly number[];
  readonly actual: number;
  readonly expected: number;
  /** |actual - expected| (Infinity for NaN) and the allowance atol + rtol * |expected|. */
  readonly error: number;
  readonly allowed: number;
}

export interface Comparison {
  readonly ok: boolean;
  /** The element closest to (or furthest past) its allowance; undefined when lengths differ or it is empty. */
  readonly worst: Mismatch | undefined;
  /** One line for a failing test; says why. */
  readonly message: string;
}

function position(index: number, shape: readonly number[]): number[] {
  const at: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] ?? 1;
    at.unshift(index % d);
    index = Math.floor(index / d);
  }
  return at;
}

export function closeEnough(
  actual: ArrayLike<number>,
  expected: ConformanceTensor,
  tol: Tolerance,
): Comparison {
  const want = expected.data;
  if (actual.length !== want.length) {
    return {
      ok: false,
      worst: undefined,
      message: `got ${actual.length} values, expected ${want.length} (shape [${expected.shape.join(',')}])`,
    };
  }
  let worst: Mismatch | undefined;
  let worstRatio = -1;
  for (let i = 0; i < want.length; i++) {
    const a = actual[i] as number;
    const e = want[i] as number;
    // NaN never passes; with zero tolerance, an exact match has ratio 0 rather than 0/0.
    const error = a === e ? 0 : Number.isNaN(a) || Number.isNaN(e) ? Infinity : Math.abs(a - e);
    const allowed = tol.atol + tol.rtol * Math.abs(e);
    const ratio = error === 0 ? 0 : error / allowed;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: i, at: position(i, expected.shape), actual: a, expected: e, error, allowed };
    }
  }
  const ok = worst === undefined || worst.error <= worst.allowed;
  const where = worst
    ? `[${worst.at.join(',')}]: actual ${worst.actual}, expected ${worst.expected}, error ${worst.error.toExponential(2)}`
    : '';
  const message = worst
    ? `${ok ? 'within' : 'outside'} tolerance (atol ${tol.atol}, rtol ${tol.rtol}); worst at ${where} vs allowed ${worst.allowed.toExponential(2)}`
    : 'empty tensor';
  return { ok, worst, message };
}

export {
  loadOptimizerTrajectories,
  type OptimizerTrajectories,
  optimizerUpdateGraph,
} from './optimizers.js';
export {
  loadParityFixture,
  PARITY_MODELS,
  type ParityExpected,
  type ParityFixture,
  type ParityInputs,
  type ParityModel,
} from './parity.js';
