/**
 * The allow-list: the only Python globals a torch.save'd state_dict may name, and what each one
 * rebuilds to here. Nothing in it runs code: callables build plain values (a dict, a tuple) or
 * lazy tensor records that are checked when materialized. Any other global, however harmless it
 * looks, is refused the moment the pickle names it.
 */
import { quote } from '../safetensors.js';
import { describe, PickleError, PyCallable, PyObject, type PyValue } from './pickle.js';

/** torch's element types that a storage can hold. */
export type TorchDType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'complex64'
  | 'complex128'
  | 'qint8'
  | 'quint8'
  | 'qint32'
  | 'quint4x2'
  | 'quint2x4';

/** A storage class named in a persistent id, e.g. torch.FloatStorage: only says the dtype. */
export class StorageType extends PyObject {
  constructor(
    readonly kind: string,
    readonly dtype: TorchDType,
    readonly itemsize: number,
  ) {
    super();
  }
}

/** A storage the pickle refers to: the record data/<key> of `numel` elements. */
export class Storage extends PyObject {
  readonly kind: string;
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
  ) {
    super();
    this.kind = `storage '${key}' (${type.kind})`;
  }
}

/** A tensor as the pickle describes it: a strided view of a storage, materialized later. */
export class TensorRecord extends PyObject {
  readonly kind = 'a tensor';
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
    /** Quantized tensors are recognized only to be refused by name. */
    readonly quantized = false,
  ) {
    super();
  }
  /** A tensor's Python attributes (old files) never matter to its values. */
  override setState(): void {}
}

/** A constant such as torch.float16 or torch.per_tensor_affine: data, nothing to call. */
export class TorchConstant extends PyObject {
  constructor(readonly kind: string) {
    super();
  }
}

const STORAGES: readonly (readonly [string, TorchDType, number])[] = [
  ['FloatStorage', 'float32', 4],
  ['DoubleStorage', 'float64', 8],
  ['HalfStorage', 'float16', 2],
  ['BFloat16Storage', 'bfloat16', 2],
  ['LongStorage', 'int64', 8],
  ['IntStorage', 'int32', 4],
  ['ShortStorage', 'int16', 2],
  ['CharStorage', 'int8', 1],
  ['ByteStorage', 'uint8', 1],
  ['BoolStorage', 'bool', 1],
  ['ComplexFloatStorage', 'complex64', 8],
  ['ComplexDoubleStorage', 'complex128', 16],
  ['QInt8Storage', 'qint8', 1],
  ['QUInt8Storage', 'quint8', 1],
  ['QInt32Storage', 'qint32', 4],
  ['QUInt4x2Storage', 'quint4x2', 1],
  ['QUInt2x4Storage', 'quint2x4', 1],
  // Only an UntypedStorage saved on its own is pickled so; torch reads it as bytes.
  ['UntypedStorage', 'uint8', 1],
];

/** torch's dtype and qscheme objects: a checkpoint's config may name them (e.g. torch.float16). */
const CONSTANTS = [
  'float32',
  'float',
  'float64',
  'double',
  'float16',
  'half',
  'bfloat16',
  'int64',
  'long',
  'int32',
  'int',
  'int16',
  'short',
  'int8',
  'uint8',
  'bool',
  'complex64',
  'cfloat',
  'complex128',
  'cdouble',
  'qint8',
  'quint8',
  'qint32',
  'per_tensor_affine',
  'per_channel_affine',
  'per_channel_affine_float_qparams',
];

// ---- What the allowed callables do. Each builds plain data (a dict, set, string, bytes, tuple)
// or a lazy TensorRecord, from its arguments only; none reaches anything outside this file. ----

/** collections.OrderedDict: called with no arguments then filled by SETITEMS; Python 2 pickles pass a list of pairs. */
export function orderedDict(args: readonly PyValue[]): PyValue {
  const d = new Map<PyValue, PyValue>();
  if (args.length === 0) return d;
  const pairs = args[0] as PyValue;
  if (args.length !== 1 || !Array.isArray(pairs)) throw bad('collections.OrderedDict', args);
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2) throw bad('collections.OrderedDict', args);
    d.set(p[0] as PyValue, p[1] as PyValue);
  }
  return d;
}

function tensorRecord(name: string, quantized: boolean, args: readonly PyValue[]): TensorRecord {
  const [storage, offset, size, stride] = args;
  const arity = quantized ? [7] : [6, 7]; // torch >= 2.0 may add a metadata dict
  if (!arity.includes(args.length)) throw bad(name, args);
  if (!(storage instanceof Storage))
    throw new PickleError(`${name} expects a storage, got ${describe(storage ?? null)}`);
  return new TensorRecord(
    storage,
    int(name, 'storage offset', offset ?? null),
    ints(name, 'size', size ?? null),
    ints(name, 'stride', stride ?? null),
    quantized,
  );
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
export function rebuildTensorV2(args: readonly PyValue[]): PyValue {
  return tensorRecord('torch._utils._rebuild_tensor_v2', false, args);
}

/** torch._utils._rebuild_qtensor: recognized only so that the tensor is refused by name. */
export function rebuildQTensor(args: readonly PyValue[]): PyValue {
  return tensorRecord('torch._utils._rebuild_qtensor', true, args);
}

function parameter(name: string, arity: number, args: readonly PyValue[]): PyValue {
  if (args.length !== arity || !(args[0] instanceof TensorRecord)) throw bad(name, args);
  return args[0];
}

/** torch._utils._rebuild_parameter(tensor, requires_grad, hooks): the tensor. */
export function rebuildParameter(args: readonly PyValue[]): PyValue {
  return parameter('torch._utils._rebuild_parameter', 3, args);
}

/** torch._utils._rebuild_parameter_with_state(tensor, requires_grad, hooks, state): the tensor. */
export function rebuildParameterWithState(args: readonly PyValue[]): PyValue {
  return parameter('torch._utils._rebuild_parameter_with_state', 4, args);
}

/** torch.Size(tuple): the tuple of ints. */
export function torchSize(args: readonly PyValue[]): PyValue {
  if (args.length !== 1 || !Array.isArray(args[0])) throw bad('torch.Size', args);
  return Object.freeze(ints('torch.Size', 'size', args[0]).slice()) as PyValue[];
}

/** torch.device(type[, index]): a string such as 'cuda:0'. */
export function torchDevice(args: readonly PyValue[]): PyValue {
  const [type, index] = args;
  if (typeof type !== 'string' || args.length > 2) throw bad('torch.device', args);
  return index === undefined || index === null ? type : `${type}:${String(index)}`;
}

/** builtins.set / frozenset([list]): a Set. */
export function pySet(args: readonly PyValue[]): PyValue {
  if (args.length === 0) return new Set();
  if (args.length !== 1 || !Array.isArray(args[0])) throw bad('set', args);
  return new Set(args[0] as PyValue[]);
}

/** builtins.bytearray: protocol 2 has no bytes opcode, so Python 3 pickles bytearray(b) as bytearray(str, 'latin-1'). */
export function pyBytearray(args: readonly PyValue[]): PyValue {
  const [value, encoding] = args;
  if (args.length === 0) return new Uint8Array(0);
  if (value instanceof Uint8Array && args.length === 1) return value.slice();
  return latin1('bytearray', value ?? null, encoding ?? null);
}

/** _codecs.encode(str, 'latin1'): how protocol 2 spells the bytes b. */
export function codecsEncode(args: readonly PyValue[]): PyValue {
  if (args.length !== 2) throw bad('_codecs.encode', args);
  return latin1('_codecs.encode', args[0] as PyValue, args[1] as PyValue);
}

// ---- The table. ----

const table = new Map<string, PyValue>();
const callables: readonly (readonly [string, (args: readonly PyValue[]) => PyValue])[] = [
  ['collections.OrderedDict', orderedDict],
  ['torch._utils._rebuild_tensor_v2', rebuildTensorV2],
  ['torch._utils._rebuild_qtensor', rebuildQTensor],
  ['torch._utils._rebuild_parameter', rebuildParameter],
  ['torch._utils._rebuild_parameter_with_state', rebuildParameterWithState],
  ['torch.Size', torchSize],
  ['torch.device', torchDevice],
  // Python 3 pickles name builtins, Python 2 ones __builtin__.
  ...['builtins', '__builtin__'].flatMap((m) => [
    [`${m}.set`, pySet] as const,
    [`${m}.frozenset`, pySet] as const,
    [`${m}.bytearray`, pyBytearray] as const,
  ]),
  ['_codecs.encode', codecsEncode],
];
for (const [name, call] of callables) table.set(name, new PyCallable(name, call));
for (const [name, dtype, itemsize] of STORAGES) {
  table.set(`torch.${name}`, new StorageType(`torch.${name}`, dtype, itemsize));
}
for (const name of CONSTANTS) table.set(`torch.${name}`, new TorchConstant(`torch.${name}`));

/**
 * Every global a pickle may name, and what it resolves to: a PyCallable running one of the
 * builders above, a StorageType, or a TorchConstant. Nothing else.
 */
export const ALLOWED_GLOBALS: ReadonlyMap<string, PyValue> = table;

/**
 * The allow-list as one line, generated from the table: names grouped by module, and modules
 * with the same names merged, e.g. `{builtins,__builtin__}.{set,frozenset,bytearray}`.
 */
export function summarizeGlobals(names: Iterable<string>): string {
  const byModule = new Map<string, string[]>();
  for (const full of names) {
    const dot = full.lastIndexOf('.');
    const module = full.slice(0, dot);
    byModule.set(module, [...(byModule.get(module) ?? []), full.slice(dot + 1)]);
  }
  const byNames = new Map<string, string[]>();
  for (const [module, list] of byModule) {
    const key = list.join(',');
    byNames.set(key, [...(byNames.get(key) ?? []), module]);
  }
  const braces = (xs: readonly string[]): string =>
    xs.length === 1 ? (xs[0] as string) : `{${xs.join(',')}}`;
  return [...byNames].map(([list, modules]) => `${braces(modules)}.${braces(list.split(','))}`).join(', ');
}

const ALLOWED = summarizeGlobals(table.keys());

/** Resolves a GLOBAL against the allow-list; anything else is refused at once, by name. */
export function findTorchGlobal(module: string, name: string): PyValue {
  const full = `${module}.${name}`;
  const found = table.get(full);
  if (found !== undefined) return found;
  throw new PickleError(
    `refusing to load: the pickle names the global ${quote(full)}, which a state_dict never needs (allowed: ${ALLOWED}). If this is a checkpoint you trust, re-save only the weights: torch.save(model.state_dict(), path)`,
  );
}

function latin1(what: string, value: PyValue, encoding: PyValue): Uint8Array {
  if (typeof value !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw bad(what, [value, encoding]);
  }
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff) throw new PickleError(`${what}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

function int(what: string, label: string, v: PyValue): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new PickleError(`${what}: the ${label} is ${describe(v)}, not an integer`);
  }
  return v;
}

function ints(what: string, label: string, v: PyValue): number[] {
  if (!Array.isArray(v)) throw new PickleError(`${what}: the ${label} is ${describe(v)}, not a tuple`);
  return v.map((x) => int(what, label, x));
}

function bad(what: string, args: readonly PyValue[]): PickleError {
  const shown = args.slice(0, 4).map(describe).join(', ');
  return new PickleError(
    `${what} called with unexpected arguments (${shown}${args.length > 4 ? ', …' : ''})`,
  );
}
