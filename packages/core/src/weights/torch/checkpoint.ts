/**
 * PyTorch checkpoints (torch.save, PyTorch >= 1.6): a ZIP archive holding `<name>/data.pkl`, the
 * pickled object whose tensors refer by persistent id ('storage', torch.FloatStorage, key,
 * location, numel) to raw little-endian records `<name>/data/<key>`. Read safely: the pickle goes
 * through a restricted unpickler that builds only containers and tensors from an allow-list and
 * never runs code, so a hostile file is refused, by the name of what it tried to import.
 *
 * What a file of F bytes can cost: the archive's entries may not overlap (zip.ts), so the
 * records read and CRC-checked add up to at most F bytes, each read once (and copied at most once,
 * where a record is not aligned for its element type); the unpickler's memory and work are a
 * small multiple of data.pkl's length plus MAX_CALL_ITEMS (pickle.ts); storages are never decoded as a whole, only the
 * elements each tensor reads (storage.ts); and the tensors returned hold at most F + MAX_EXPANSION
 * elements together, each of 4 bytes (8 for int64, 1 for uint8 and bool).
 */
import fsp from 'node:fs/promises';
import type { DType } from '../../ir/types.js';
import { allocate, type Tensor } from '../../tensor/tensor.js';
import { weightsError } from '../errors.js';
import { quote } from '../safetensors.js';
import { findTorchGlobal, Storage, StorageType, TensorRecord } from './globals.js';
import { describe, isTuple, PickleError, type PyValue, unpickle } from './pickle.js';
import { CORE_DTYPE, checkView, gather, type Stored, storageElements } from './storage.js';
import { looksLikeZip, readZip, type ZipArchive } from './zip.js';

export interface TorchCheckpoint {
  /** The state_dict's tensors in file order; float16, bfloat16 and float64 read as float32. */
  readonly tensors: Map<string, Tensor>;
  /** Where the state_dict was found: undefined at the top level, else the top-level key. */
  readonly key: StateDictKey | undefined;
  /** Per torch dtype converted to float32 (e.g. 'float16'), how many tensors were. */
  readonly converted: ReadonlyMap<string, number>;
}

export type StateDictKey = 'state_dict' | 'model_state_dict' | 'model';

export interface TorchReadOptions {
  /** A file name to put in error messages. */
  readonly source?: string;
  /**
   * How many elements beyond the file's size in bytes the tensors read may hold together
   * (default MAX_EXPANSION). Raise it only for a file you trust that is made mostly of
   * overlapping views, such as the strided-pool ResNet fixtures.
   */
  readonly maxExpansion?: number;
}

/** Where a wrapped checkpoint keeps its state_dict, in order of preference. */
const KEYS: readonly StateDictKey[] = ['state_dict', 'model_state_dict', 'model'];

/**
 * Views that overlap (stride 0, say) can make a small file expand to huge tensors. The tensors
 * read from a file may hold, together, at most as many elements as the file has bytes plus this:
 * a real checkpoint never expands beyond its own bytes (every element is stored in at least one
 * byte; only shared storages, such as tied weights, are read twice), except for small stride-0
 * buffers. So a tiny file yields at most 2^24 elements: 64 MiB of float32 or 128 MiB of int64.
 */
export const MAX_EXPANSION = 2 ** 24;

/** The pickled magic number that starts a legacy (pre-1.6) torch.save file. */
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/**
 * Reads the state_dict of a torch.save file; every problem is a WeightsError naming `source`.
 * The state_dict is the top-level object if it is a dict of tensors (string keys, at least one
 * tensor, no nested dicts), else the first of its 'state_dict', 'model_state_dict', 'model'
 * entries (in that order) that is one. Entries of it that are not tensors are skipped.
 */
export function readTorchCheckpoint(bytes: Uint8Array, opts: TorchReadOptions = {}): TorchCheckpoint {
  const src = opts.source;
  const fail = (detail: string, tensor?: string): never => {
    throw weightsError(detail, src, tensor);
  };
  const expansion = opts.maxExpansion ?? MAX_EXPANSION;
  if (!Number.isSafeInteger(expansion) || expansion < 0) {
    throw new RangeError(`maxExpansion must be a non-negative integer, not ${expansion}`);
  }
  if (bytes.length === 0) fail('the file is empty');
  if (!looksLikeZip(bytes)) {
    if (bytes[0] !== 0x80) {
      const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      fail(`is neither a torch.save archive (zip) nor a pickle (it starts with bytes ${head})`);
    }
    if (indexOf(bytes.subarray(0, 32), LEGACY_MAGIC) >= 0) {
      fail("was saved in PyTorch's legacy format; re-save it with torch.save in PyTorch >= 1.6");
    }
    // A bare pickle: still run it through the restricted unpickler, so a hostile one is named.
    const bare = new PickleError(
      'is a bare pickle, not a torch.save archive (zip); save the state_dict with torch.save in PyTorch >= 1.6',
    );
    unpickle(bytes, {
      source: src,
      findGlobal: findTorchGlobal,
      persistentLoad: () => {
        throw bare;
      },
    });
    fail(bare.message);
  }

  const zip = readZip(bytes, src);
  const names = [...zip.entries.keys()];
  if (names.some((n) => /^[^/]+\/(constants\.pkl$|code\/)/.test(n))) {
    fail('is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save');
  }
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    fail(
      pickles.length === 0
        ? 'is a zip archive but not a torch.save checkpoint (no <name>/data.pkl record)'
        : `has ${pickles.length} data.pkl records (${pickles.map(quote).join(', ')}); torch.save writes one`,
    );
  }
  const record = pickles[0] as string;
  const prefix = record.slice(0, -'data.pkl'.length);
  checkByteOrder(zip, `${prefix}byteorder`, fail);

  const storages = new Map<string, Storage>();
  const { value } = unpickle(zip.read(record), {
    source: src,
    record,
    findGlobal: findTorchGlobal,
    persistentLoad: (pid) => loadStorage(pid, zip, prefix, storages),
  });

  const { dict, key } = findStateDict(value, fail);
  return materialize(dict, key, zip, prefix, { fileBytes: bytes.length, expansion }, fail);
}

/** Reads and parses a torch.save file (errors name the path). */
export async function loadTorchCheckpoint(
  path: string,
  opts: Omit<TorchReadOptions, 'source'> = {},
): Promise<TorchCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
    const why =
      code === 'ENOENT'
        ? 'file does not exist'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : `cannot read: ${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ')}`;
    throw weightsError(why, path, undefined, e);
  }
  return readTorchCheckpoint(bytes, { ...opts, source: path });
}

type Fail = (detail: string, tensor?: string) => never;

/** torch >= 2.1 records the saving machine's byte order; older files are little-endian. */
function checkByteOrder(zip: ZipArchive, name: string, fail: Fail): void {
  if (!zip.entries.has(name)) return;
  const order = new TextDecoder('latin1').decode(zip.read(name)).trim();
  if (order === 'big') {
    fail("was saved on a big-endian machine (byteorder 'big'); re-save it on a little-endian one");
  }
  if (order !== 'little') fail(`has an unknown byteorder record ${quote(order.slice(0, 40))}`);
}

/** BINPERSID: ('storage', storage type, key, location, numel), checked against its record. */
function loadStorage(pid: PyValue, zip: ZipArchive, prefix: string, storages: Map<string, Storage>): Storage {
  if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') {
    throw new PickleError(
      `unknown persistent id ${describe(pid)} (expected ('storage', type, key, location, numel))`,
    );
  }
  const [, type, key, location, numel] = pid;
  if (!(type instanceof StorageType)) throw new PickleError(`a storage of type ${describe(type ?? null)}`);
  if (typeof key !== 'string' || typeof location !== 'string') {
    throw new PickleError(`a storage with key ${describe(key ?? null)} at ${describe(location ?? null)}`);
  }
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    throw new PickleError(`storage ${quote(key)} has ${describe(numel ?? null)} elements`);
  }
  const seen = storages.get(key);
  if (seen !== undefined) {
    if (seen.type !== type || seen.numel !== numel) {
      throw new PickleError(`storage ${quote(key)} is named twice with different types or sizes`);
    }
    return seen;
  }
  const name = `${prefix}data/${key}`;
  const entry = zip.entries.get(name);
  if (entry === undefined) throw new PickleError(`storage ${quote(key)} has no record ${quote(name)}`);
  const bytes = numel * type.itemsize;
  if (entry.size !== bytes) {
    throw new PickleError(
      `storage ${quote(key)} holds ${numel} ${type.dtype} elements (${bytes} bytes) but its record ${quote(name)} has ${entry.size} bytes`,
    );
  }
  const storage = new Storage(type, key, numel);
  storages.set(key, storage);
  return storage;
}

/** A dict of tensors: string keys, at least one tensor, and no nested dicts (those are wrappers). */
function isStateDict(v: PyValue): v is Map<string, PyValue> {
  if (!(v instanceof Map)) return false;
  let tensors = 0;
  for (const [k, x] of v) {
    if (typeof k !== 'string' || x instanceof Map) return false;
    if (x instanceof TensorRecord) tensors++;
  }
  return tensors > 0;
}

function findStateDict(
  value: PyValue,
  fail: Fail,
): { dict: Map<string, PyValue>; key: StateDictKey | undefined } {
  if (isStateDict(value)) return { dict: value, key: undefined };
  if (!(value instanceof Map)) {
    fail(`holds ${describe(value)}, not a state_dict (a dict of tensors)`);
  }
  const top = value as Map<PyValue, PyValue>;
  for (const key of KEYS) {
    const inner = top.get(key);
    if (inner !== undefined && isStateDict(inner)) return { dict: inner, key };
  }
  const keys = [...top.keys()].slice(0, 12).map((k) => (typeof k === 'string' ? quote(k) : describe(k)));
  return fail(
    `no state_dict found: the top-level dict has keys ${keys.join(', ') || '(none)'}${top.size > 12 ? ', …' : ''}, and neither it nor its ${KEYS.map((k) => `'${k}'`).join('/')} entry is a dict of tensors`,
  );
}

function materialize(
  dict: Map<string, PyValue>,
  key: StateDictKey | undefined,
  zip: ZipArchive,
  prefix: string,
  limit: { fileBytes: number; expansion: number },
  fail: Fail,
): TorchCheckpoint {
  const stored = new Map<Storage, Stored>();
  const converted = new Map<string, number>();
  const tensors = new Map<string, Tensor>();
  const { fileBytes, expansion } = limit;
  const budget = fileBytes + expansion;
  let total = 0;
  for (const [name, value] of dict) {
    if (!(value instanceof TensorRecord)) continue; // e.g. an _extra_state, or a stray number
    const t = quote(name);
    const { storage } = value;
    const from = storage.type.dtype;
    if (value.quantized) fail(`tensor ${t} is quantized (${from}); dequantize it before saving`, name);
    const dtype = CORE_DTYPE.get(from);
    if (dtype === undefined) {
      fail(
        `tensor ${t} is ${from}, which has no core dtype (supported: float32; float16, bfloat16, float64 read as float32; int64, int32, uint8, bool)`,
        name,
      );
    }
    const n = checkView(value);
    if (typeof n === 'string') return fail(`tensor ${t} ${n}`, name);
    total += n;
    if (total > budget) {
      fail(
        `tensor ${t} of shape [${value.size.join(',')}] brings the elements read to ${total}, more than this ${fileBytes}-byte file allows (its size in bytes plus ${expansion} elements)`,
        name,
      );
    }
    // Each storage's record is read (CRC-checked) once, and only if some tensor reads from it.
    let data = stored.get(storage);
    if (data === undefined && n > 0) {
      const raw = zip.read(`${prefix}data/${storage.key}`);
      data = storageElements(from, storage.type.itemsize, raw, storage.numel);
      stored.set(storage, data);
    }
    let out: Tensor;
    try {
      out = allocate(dtype as DType, value.size);
    } catch (e) {
      return fail(`tensor ${t} of ${n} elements is too large to allocate (${String(e)})`, name);
    }
    if (data !== undefined) gather(data, value, out.data);
    tensors.set(name, out);
    if (from !== dtype) converted.set(from, (converted.get(from) ?? 0) + 1);
  }
  return { tensors, key, converted };
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
