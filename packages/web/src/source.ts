/**
 * What `load` was given, turned into the ONNX bytes and settings of a model: a URL of the manifest
 * `siamese export --web` writes (the encoder and head it names are fetched and checked against their
 * SHA-256), or the URL or bytes of one ONNX cut from `siamese export` (its metadata carries the rest).
 */
import type { Preprocessing, Threshold } from '@siamese/core/portable';
import { checkPreprocessing } from '@siamese/core/portable';
import { oneLine, WebModelError } from './errors.js';
import { parseManifest, type WebModelFile, type WebPrecision } from './manifest.js';
import { readOnnxInfo } from './onnx-metadata.js';

export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

/** The cuts a source holds: a web folder has the encoder and head; a single file is one cut. */
export interface ResolvedModel {
  readonly from: string;
  readonly layout: 'folder' | 'pair' | 'encoder';
  readonly precision: WebPrecision;
  readonly preprocessing: Preprocessing;
  readonly threshold?: Threshold;
  readonly embeddingSize?: number;
  readonly irVersion?: number;
  readonly onnx: { readonly pair?: Uint8Array; readonly encoder?: Uint8Array; readonly head?: Uint8Array };
}

export type Fetcher = (url: string) => Promise<Response>;

export async function resolveSource(
  source: ModelSource,
  fetcher: Fetcher | undefined,
): Promise<ResolvedModel> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return singleCut(bytes, 'the model bytes');
  }
  if (typeof source !== 'string' && !(source instanceof URL))
    throw new WebModelError(
      `load: expected a URL or the bytes of a model (Uint8Array or ArrayBuffer), got ${source === null ? 'null' : typeof source}`,
      'input',
    );
  let url: string;
  try {
    url = new URL(String(source), globalThis.location?.href).href;
  } catch {
    throw new WebModelError(
      `load: '${String(source)}' is not a URL (a relative one needs a page to be relative to)`,
      'input',
    );
  }
  const bytes = await download(url, fetcher);
  if (firstNonSpace(bytes) === 0x7b) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new WebModelError(`${url}: not valid JSON (${oneLine(e)})`, 'format');
    }
    return folder(url, json, fetcher);
  }
  return singleCut(bytes, url);
}

async function folder(url: string, json: unknown, fetcher: Fetcher | undefined): Promise<ResolvedModel> {
  const m = parseManifest(json, url);
  const [encoder, head] = await Promise.all([
    checkedFile(url, m.files.encoder, fetcher),
    checkedFile(url, m.files.head, fetcher),
  ]);
  return {
    from: url,
    layout: 'folder',
    precision: m.precision,
    preprocessing: m.preprocessing,
    ...(m.threshold ? { threshold: m.threshold } : {}),
    embeddingSize: m.embeddingSize,
    irVersion: m.irVersion,
    onnx: { encoder, head },
  };
}

async function checkedFile(
  manifestUrl: string,
  file: WebModelFile,
  fetcher: Fetcher | undefined,
): Promise<Uint8Array> {
  const url = new URL(file.path, manifestUrl);
  const folder = new URL('./', manifestUrl);
  // parseManifest refuses paths that leave the folder; the URL parser gets the last word.
  if (url.origin !== folder.origin || !url.pathname.startsWith(folder.pathname))
    throw new WebModelError(
      `${manifestUrl}: files path '${file.path}' points outside the model folder`,
      'format',
    );
  const bytes = await download(url.href, fetcher);
  if (bytes.length !== file.bytes)
    throw new WebModelError(
      `${url}: ${bytes.length} bytes where the manifest says ${file.bytes} (a partial or stale download; reload the page)`,
      'format',
    );
  // crypto.subtle exists in secure contexts only (https, localhost); elsewhere the size check stands alone.
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    if (hex !== file.sha256)
      throw new WebModelError(
        `${url}: its SHA-256 does not match the manifest (a stale or altered file)`,
        'format',
      );
  }
  return bytes;
}

async function download(url: string, fetcher: Fetcher | undefined): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await (fetcher ?? globalThis.fetch.bind(globalThis))(url);
  } catch (e) {
    throw new WebModelError(`${url}: could not be fetched (${oneLine(e)})`, 'fetch', { cause: e });
  }
  if (!response.ok)
    throw new WebModelError(
      `${url}: the server answered ${response.status} ${response.statusText}`.trimEnd(),
      'fetch',
    );
  return new Uint8Array(await response.arrayBuffer());
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  for (const b of bytes)
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf)
      return b;
  return undefined;
}

function singleCut(bytes: Uint8Array, what: string): ResolvedModel {
  if (bytes.length === 0) throw new WebModelError(`${what}: empty`, 'format');
  const info = readOnnxInfo(bytes, what);
  const has = (name: string) => info.inputs.includes(name);
  const cut =
    info.metadata.cut ??
    (has('x1') ? 'pair' : has('image') ? 'encoder' : has('embeddingA') ? 'head' : undefined);
  if (cut === 'head')
    throw new WebModelError(
      `${what}: a head cut has no image input; load the folder 'siamese export MODEL --web' writes, or a pair or encoder cut`,
      'input',
    );
  if (cut !== 'pair' && cut !== 'encoder')
    throw new WebModelError(
      `${what}: not a model exported by siamese (inputs ${info.inputs.join(', ') || 'none'}; expected x1, x2 or image)`,
      'format',
    );
  const preprocessing = jsonMeta<Preprocessing>(info.metadata, 'preprocessing', what);
  if (!preprocessing)
    throw new WebModelError(
      `${what}: its metadata has no preprocessing; export it with siamese export`,
      'format',
    );
  const problem = checkPreprocessing(preprocessing);
  if (problem) throw new WebModelError(`${what}: metadata ${problem}`, 'format');
  const threshold = jsonMeta<Threshold>(info.metadata, 'threshold', what);
  const irVersion = Number(info.metadata.irVersion);
  return {
    from: what,
    layout: cut,
    precision: info.metadata.quantization ? 'int8' : 'fp32',
    preprocessing,
    ...(threshold ? { threshold } : {}),
    ...(Number.isInteger(irVersion) ? { irVersion } : {}),
    onnx: cut === 'pair' ? { pair: bytes } : { encoder: bytes },
  };
}

function jsonMeta<T>(metadata: Readonly<Record<string, string>>, key: string, what: string): T | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new WebModelError(`${what}: metadata '${key}' is not JSON (${oneLine(e)})`, 'format');
  }
}
