/**
 * Why an image failed to decode, told by its kind and never by libvips' words, which vary by format
 * and version ("missing SOS marker" is a truncated JPEG, not a missing file). In order: what the
 * file system says (missing, a folder, unreadable, empty); whether the header gives a size over
 * the pixel limit; whether the file is an image at all (sharp reads its header, or its first bytes
 * are a PNG, JPEG, GIF, WebP or TIFF signature), which makes the failure a corrupt or truncated
 * image; otherwise it is not an image sharp can read. libvips' message is quoted, for detail.
 */
import { open, stat } from 'node:fs/promises';
import type { default as SharpFn } from 'sharp';
import { DatasetError, datasetError, oneLine } from './errors.js';

type SharpModule = typeof SharpFn;

/** The file system's reason a path cannot be read as a file. */
function fsError(file: string, e: unknown): DatasetError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR')
    return datasetError('not-found', 'file does not exist', file, e);
  if (code === 'EACCES' || code === 'EPERM')
    return datasetError('not-found', 'permission denied (the file cannot be read)', file, e);
  return datasetError(
    'not-found',
    `cannot read the file (${oneLine(String((e as Error).message))})`,
    file,
    e,
  );
}

/** Size and first bytes of a readable, non-empty regular file, or the DatasetError that says what it is instead. */
async function readHead(file: string): Promise<{ size: number; head: Uint8Array } | DatasetError> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (e) {
    return fsError(file, e);
  }
  if (info.isDirectory())
    return new DatasetError(`dataset: '${file}' is a folder, not an image file`, 'not-found', file);
  if (!info.isFile()) return datasetError('invalid-image', 'not a regular file, so not an image', file);
  if (info.size === 0) return datasetError('invalid-image', 'empty file (0 bytes), not an image', file);
  try {
    const handle = await open(file, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(new Uint8Array(12), 0, 12, 0);
      return { size: info.size, head: buffer.subarray(0, bytesRead) };
    } finally {
      await handle.close();
    }
  } catch (e) {
    return fsError(file, e);
  }
}

const SIGNATURES: readonly (readonly (number | undefined)[])[] = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF8
  [0x52, 0x49, 0x46, 0x46, undefined, undefined, undefined, undefined, 0x57, 0x45, 0x42, 0x50], // RIFF....WEBP
  [0x49, 0x49, 0x2a, 0x00], // TIFF, little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // TIFF, big-endian
];

/** Whether the first bytes are those of an image format the sources accept. */
function hasImageSignature(head: Uint8Array): boolean {
  return SIGNATURES.some(
    (sig) => sig.length <= head.length && sig.every((b, i) => b === undefined || head[i] === b),
  );
}

/** Turns sharp's failure on `file` into one line that names the file and what to do. */
export async function describeFailure(
  file: string,
  error: unknown,
  pixelLimit: number,
  sharp: SharpModule,
): Promise<DatasetError> {
  const raw = oneLine(String((error as Error)?.message ?? error));
  const read = await readHead(file);
  if (read instanceof DatasetError) return read;
  return classify(file, file, read.size, read.head, error, raw, pixelLimit, sharp);
}

/**
 * The same for an encoded image held in memory (an upload): the messages name no file; the
 * caller says where the bytes came from.
 */
export async function describeBytesFailure(
  bytes: Uint8Array,
  error: unknown,
  pixelLimit: number,
  sharp: SharpModule,
): Promise<DatasetError> {
  const raw = oneLine(String((error as Error)?.message ?? error));
  if (bytes.length === 0)
    return datasetError('invalid-image', 'empty (0 bytes), not an image', undefined, error);
  return classify(bytes, undefined, bytes.length, bytes.subarray(0, 12), error, raw, pixelLimit, sharp);
}

/** Over the pixel limit, a damaged image, or not an image at all: told by the header and the signature. */
async function classify(
  input: string | Uint8Array,
  file: string | undefined,
  size: number,
  head: Uint8Array,
  error: unknown,
  raw: string,
  pixelLimit: number,
  sharp: SharpModule,
): Promise<DatasetError> {
  const header = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  const pixels = (header?.width ?? 0) * (header?.height ?? 0);
  if (pixels > pixelLimit) {
    return datasetError(
      'pixel-limit',
      `${header!.width}x${header!.height} = ${pixels} pixels is over the pixel limit of ${pixelLimit} (option pixelLimit); raise it if the image is genuine`,
      file,
      error,
    );
  }
  if (pixels > 0 || hasImageSignature(head))
    return datasetError('invalid-image', `corrupt or truncated image (${raw})`, file, error);
  return datasetError('invalid-image', `not an image sharp can read (${size} bytes; ${raw})`, file, error);
}
