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

/** For the refusal message: the allow-list in brief. */
const ALLOWED =
  'collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter, torch.*Storage, torch dtypes, torch.Size, builtins.set';

const table = new Map<string, PyValue>();
for (const [name, dtype, itemsize] of STORAGES) {
  table.set(`torch.${name}`, new StorageType(`torch.${name}`, dtype, itemsize));
}
for (const name of CONSTANTS) table.set(`torch.${name}`, new TorchConstant(`torch.${name}`));

const define = (name: string, call: (args: readonly PyValue[]) => PyValue): void => {
  table.set(name, new PyCallable(name, call));
};

define('collections.OrderedDict', (args) => {
  // Called with no arguments then filled by SETITEMS; Python 2 pickles pass a list of pairs.
  const d = new Map<PyValue, PyValue>();
  if (args.length === 0) return d;
  const pairs = args[0] as PyValue;
  if (args.length !== 1 || !Array.isArray(pairs)) throw bad('collections.OrderedDict', args);
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2) throw bad('collections.OrderedDict', args);
    d.set(p[0] as PyValue, p[1] as PyValue);
  }
  return d;
});

const rebuildTensor = (name: string, quantized: boolean) => (args: readonly PyValue[]) => {
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
};
define('torch._utils._rebuild_tensor_v2', rebuildTensor('torch._utils._rebuild_tensor_v2', false));
define('torch._utils._rebuild_qtensor', rebuildTensor('torch._utils._rebuild_qtensor', true));

const parameter = (name: string, arity: number) => (args: readonly PyValue[]) => {
  if (args.length !== arity || !(args[0] instanceof TensorRecord)) throw bad(name, args);
  return args[0];
};
define('torch._utils._rebuild_parameter', parameter('torch._utils._rebuild_parameter', 3));
define(
  'torch._utils._rebuild_parameter_with_state',
  parameter('torch._utils._rebuild_parameter_with_state', 4),
);

define('torch.Size', (args) => {
  if (args.length !== 1 || !Array.isArray(args[0])) throw bad('torch.Size', args);
  return Object.freeze(ints('torch.Size', 'size', args[0]).slice()) as PyValue[];
});

define('torch.device', (args) => {
  const [type, index] = args;
  if (typeof type !== 'string' || args.length > 2) throw bad('torch.device', args);
  return index === undefined || index === null ? type : `${type}:${String(index)}`;
});

for (const module of ['builtins', '__builtin__']) {
  for (const name of ['set', 'frozenset']) {
    define(`${module}.${name}`, (args) => {
      if (args.length === 0) return new Set();
      if (args.length !== 1 || !Array.isArray(args[0])) throw bad(`${module}.${name}`, args);
      return new Set(args[0] as PyValue[]);
    });
  }
  // Protocol 2 has no bytes opcode: Python 3 pickles bytearray(b) as bytearray(str, 'latin-1').
  define(`${module}.bytearray`, (args) => {
    const [value, encoding] = args;
    if (args.length === 0) return new Uint8Array(0);
    if (value instanceof Uint8Array && args.length === 1) return value.slice();
    return latin1(`${module}.bytearray`, value ?? null, encoding ?? null);
  });
}
// ... and bytes b as _codecs.encode(str, 'latin1').
define('_codecs.encode', (args) => {
  if (args.length !== 2) throw bad('_codecs.encode', args);
  return latin1('_codecs.encode', args[0] as PyValue, args[1] as PyValue);
});

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
