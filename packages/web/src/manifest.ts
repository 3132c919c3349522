/**
 * The web model manifest (`siamese-web.json`) that `siamese export MODEL --web OUT/` writes next to
 * the model's ONNX files: what the browser needs to run the model as it was trained (preprocessing,
 * the threshold of the precision that runs, the files with their sizes and checksums).
 */
import { checkPreprocessing, type Preprocessing, type Threshold } from '@siamese/core/portable';
import { WebModelError } from './errors.js';

export const WEB_MANIFEST_FORMAT = 'siamese-web-model';
export const WEB_MANIFEST_VERSION = 1;
/** The manifest's file name in an exported web folder's `model/`. */
export const WEB_MANIFEST_FILE = 'siamese-web.json';

export type WebPrecision = 'fp32' | 'int8';

export interface WebModelFile {
  /** Relative to the manifest's URL. */
  readonly path: string;
  readonly bytes: number;
  /** Hex SHA-256 of the file: a partial or stale download is refused, not run. */
  readonly sha256: string;
}

export interface WebManifest {
  readonly format: typeof WEB_MANIFEST_FORMAT;
  readonly version: typeof WEB_MANIFEST_VERSION;
  /** core's graph IR version the model was exported from. */
  readonly irVersion: number;
  /** The encoder's precision: int8 models of `siamese export --quantize int8` keep a fp32 head. */
  readonly precision: WebPrecision;
  readonly preprocessing: Preprocessing;
  /** The decision threshold for this precision; absent when the model was never calibrated. */
  readonly threshold?: Threshold;
  readonly embeddingSize: number;
  readonly files: { readonly encoder: WebModelFile; readonly head: WebModelFile };
  /** What wrote it, e.g. `@siamese/cli 0.3.0`. */
  readonly createdBy?: string;
}

const SAFE_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

function fail(where: string, problem: string): never {
  throw new WebModelError(`${where}: ${problem}`, 'format');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkFile(v: unknown, where: string, field: string): WebModelFile {
  if (!isRecord(v)) fail(where, `files.${field} must be an object with path, bytes and sha256`);
  const { path, bytes, sha256 } = v;
  // Plain names below the folder only: no '..', no scheme or leading '/', no '\\', '%' or spaces,
  // which URL parsing would turn into a way out of the folder.
  if (typeof path !== 'string' || !SAFE_PATH.test(path) || path.split('/').some((part) => /^\.+$/.test(part)))
    fail(
      where,
      `files.${field}.path must be a relative path inside the model folder, got ${JSON.stringify(path)}`,
    );
  if (!Number.isInteger(bytes) || (bytes as number) < 1)
    fail(where, `files.${field}.bytes must be a positive integer, got ${JSON.stringify(bytes)}`);
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
    fail(where, `files.${field}.sha256 must be 64 hex digits, got ${JSON.stringify(sha256)}`);
  return { path, bytes: bytes as number, sha256 };
}

/** Checks a parsed manifest field by field; `where` (its URL) starts every error. */
export function parseManifest(json: unknown, where: string): WebManifest {
  if (!isRecord(json)) fail(where, 'a web model manifest must be a JSON object');
  if (json.format !== WEB_MANIFEST_FORMAT)
    fail(where, `format must be '${WEB_MANIFEST_FORMAT}', got ${JSON.stringify(json.format)}`);
  if (json.version !== WEB_MANIFEST_VERSION)
    fail(
      where,
      `version ${JSON.stringify(json.version)} is not supported (this @siamese/web reads version ${WEB_MANIFEST_VERSION}); export the model again or update @siamese/web`,
    );
  if (!Number.isInteger(json.irVersion))
    fail(where, `irVersion must be an integer, got ${JSON.stringify(json.irVersion)}`);
  if (json.precision !== 'fp32' && json.precision !== 'int8')
    fail(where, `precision must be 'fp32' or 'int8', got ${JSON.stringify(json.precision)}`);
  if (!isRecord(json.preprocessing)) fail(where, 'preprocessing must be an object');
  const preprocessing = json.preprocessing as unknown as Preprocessing;
  const problem = checkPreprocessing(preprocessing);
  if (problem) fail(where, problem);
  if (preprocessing.channels !== 1 && preprocessing.channels !== 3)
    fail(where, `preprocessing.channels must be 1 or 3 for images, got ${preprocessing.channels}`);
  let threshold: Threshold | undefined;
  if (json.threshold !== undefined) {
    const t = json.threshold;
    if (!isRecord(t) || typeof t.probability !== 'number' || !(t.probability >= 0 && t.probability <= 1))
      fail(
        where,
        `threshold.probability must be a number in [0, 1], got ${JSON.stringify(isRecord(t) ? t.probability : t)}`,
      );
    threshold = t as unknown as Threshold;
  }
  if (!Number.isInteger(json.embeddingSize) || (json.embeddingSize as number) < 1)
    fail(where, `embeddingSize must be a positive integer, got ${JSON.stringify(json.embeddingSize)}`);
  if (!isRecord(json.files)) fail(where, 'files must be an object with encoder and head');
  const files = {
    encoder: checkFile(json.files.encoder, where, 'encoder'),
    head: checkFile(json.files.head, where, 'head'),
  };
  return {
    format: WEB_MANIFEST_FORMAT,
    version: WEB_MANIFEST_VERSION,
    irVersion: json.irVersion as number,
    precision: json.precision,
    preprocessing,
    ...(threshold ? { threshold } : {}),
    embeddingSize: json.embeddingSize as number,
    files,
    ...(typeof json.createdBy === 'string' ? { createdBy: json.createdBy } : {}),
  };
}
