/**
 * A restricted unpickler: rebuilds plain Python containers and the few objects an allow-list hands
 * it, and never executes anything. Python's pickle is a small stack machine whose GLOBAL opcode
 * imports any callable and REDUCE calls it; here GLOBAL goes through `findGlobal` (which refuses
 * everything not allowed) and REDUCE/NEWOBJ/BUILD act only on what it returned. Covers the binary
 * protocols 2-5 (torch.save uses 2 unless told otherwise). Every length is checked against the
 * bytes that remain before anything is sliced or allocated, and the machine always moves forward,
 * so it cannot hang. What a pickle of P bytes can cost: each opcode reads its operands from the
 * input and pushes at most one value (a string or bytes no longer than what it read, or a new
 * container), and each item on the stack is moved into a container at most once; the only
 * other work is the allow-list's calls, which may build something as large as their arguments,
 * so their arguments together may hold at most P + MAX_CALL_ITEMS items (otherwise a memoized
 * 1 MB string passed to _codecs.encode again and again, 8 bytes of opcodes a call, would allocate
 * a megabyte per call). Work and memory are therefore at most a small constant times
 * P + MAX_CALL_ITEMS (items of a few to tens of bytes each).
 */
import { weightsError } from '../errors.js';
import { quote } from '../safetensors.js';

/** Thrown by allow-list callbacks; the unpickler rethrows it as a WeightsError naming the file. */
export class PickleError extends Error {
  override name = 'PickleError';
}

/** An object made by an allowed global: a callable, a storage type, a tensor, a dtype... */
export abstract class PyObject {
  /** What this is, for messages: e.g. 'torch.FloatStorage'. */
  abstract readonly kind: string;
  /** BUILD (set state): refused unless the object expects state. */
  setState(_state: PyValue): void {
    throw new PickleError(`BUILD gives state to ${this.kind}, which takes none`);
  }
}

/** A global the allow-list allows to be called (REDUCE, NEWOBJ, INST, OBJ). */
export class PyCallable extends PyObject {
  constructor(
    readonly kind: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {
    super();
  }
}

/**
 * Python values: None is null, int a number (a bigint beyond 2^53), float a number, str a
 * string, bytes a Uint8Array, list an array, tuple a frozen array, dict a Map (insertion order,
 * as Python), set a Set.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyValue, PyValue>
  | Set<PyValue>
  | PyObject;

export interface UnpickleOptions {
  /** The file, for messages. */
  readonly source?: string;
  /** The pickle's name inside the file, for messages. */
  readonly record?: string;
  /** Resolves GLOBAL, STACK_GLOBAL and INST; throws a PickleError for anything not allowed. */
  readonly findGlobal: (module: string, name: string) => PyValue;
  /** Resolves BINPERSID (references to data outside the pickle); throws a PickleError to refuse. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
}

export interface Unpickled {
  readonly value: PyValue;
  /** The byte after STOP: legacy files hold several pickles in a row. */
  readonly end: number;
}

/** Far above what a checkpoint needs: caps on the memo, MARK nesting and stack, whatever the input. */
export const MAX_MEMO = 1 << 22;
export const MAX_MARKS = 4096;
export const MAX_STACK = 1 << 22;
/**
 * The allowed globals' calls may together take at most the pickle's length plus this many
 * argument items (characters of a string, bytes, entries of a list, tuple, dict or set; each
 * argument and call counts one more). A pickle that builds each argument afresh stays far below
 * its length; only one that passes the same large value again and again gets near.
 */
export const MAX_CALL_ITEMS = 1 << 20;
/** LONG4 integers longer than this are not weights metadata. */
const MAX_LONG_BYTES = 256;

export const isTuple = (v: PyValue): v is PyValue[] => Array.isArray(v) && Object.isFrozen(v);
const tuple = (items: PyValue[]): PyValue[] => Object.freeze(items) as PyValue[];

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): Unpickled {
  const record = opts.record ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let opAt = 0;
  let op = 0;
  const fail = (detail: string): never => {
    throw weightsError(`${record}, byte ${opAt}: ${detail}`, opts.source);
  };

  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const take = (n: number): number => {
    if (n > bytes.length - pos) {
      fail(`${opName(op)} needs ${n} bytes but only ${bytes.length - pos} remain (truncated?)`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  /** A u64 length, as a number once proven to fit in what remains. */
  const length64 = (): number => {
    const n = view.getBigUint64(take(8), true);
    if (n > BigInt(bytes.length - pos)) {
      fail(`${opName(op)} claims ${n} bytes but only ${bytes.length - pos} remain (truncated?)`);
    }
    return Number(n);
  };
  const push = (v: PyValue): void => {
    if (stack.length >= MAX_STACK) fail(`the stack grows past ${MAX_STACK} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail(`${opName(op)} on an empty stack`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail(`${opName(op)} on an empty stack`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const below = marks.pop();
    if (below === undefined) fail(`${opName(op)} without a MARK`);
    stack = below as PyValue[];
    return items;
  };
  const put = (key: number): void => {
    if (memo.size >= MAX_MEMO && !memo.has(key)) fail(`the memo grows past ${MAX_MEMO} entries`);
    memo.set(key, top());
  };
  const get = (key: number): void => {
    if (!memo.has(key)) fail(`${opName(op)} reads memo entry ${key}, which was never stored`);
    push(memo.get(key) as PyValue);
  };
  const text = (at: number, n: number): string => {
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail(`${opName(op)} holds a string that is not valid UTF-8`);
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`${opName(op)} has no end of line (truncated?)`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const list = (v: PyValue): PyValue[] => {
    if (!Array.isArray(v) || isTuple(v)) fail(`${opName(op)} on ${describe(v)}, not a list`);
    return v as PyValue[];
  };
  const dict = (v: PyValue): Map<PyValue, PyValue> => {
    if (!(v instanceof Map)) fail(`${opName(op)} on ${describe(v)}, not a dict`);
    return v as Map<PyValue, PyValue>;
  };
  const set = (v: PyValue): Set<PyValue> => {
    if (!(v instanceof Set)) fail(`${opName(op)} on ${describe(v)}, not a set`);
    return v as Set<PyValue>;
  };
  const setItems = (d: Map<PyValue, PyValue>, items: PyValue[]): void => {
    if (items.length % 2 !== 0) fail(`${opName(op)} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) d.set(items[i] as PyValue, items[i + 1] as PyValue);
  };
  const callBudget = bytes.length + MAX_CALL_ITEMS;
  let callItems = 0;
  const call = (callable: PyValue, args: PyValue): PyValue => {
    if (!(callable instanceof PyCallable))
      fail(`${opName(op)} calls ${describe(callable)}, which cannot be called`);
    if (!Array.isArray(args)) fail(`${opName(op)} passes ${describe(args)} as arguments, not a tuple`);
    callItems += 1;
    for (const a of args as PyValue[]) callItems += 1 + extent(a);
    if (callItems > callBudget) {
      fail(
        `${opName(op)} calls ${(callable as PyCallable).kind}, bringing the arguments of all calls to ${callItems} items, more than this ${bytes.length}-byte pickle allows (its length plus ${MAX_CALL_ITEMS}), as when it passes one large value again and again`,
      );
    }
    return (callable as PyCallable).call(args as PyValue[]);
  };
  const global = (module: string, name: string): PyValue => opts.findGlobal(module, name);

  try {
    while (pos < bytes.length) {
      opAt = pos;
      op = bytes[pos++] as number;
      switch (op) {
        case 0x80: {
          // PROTO
          const v = bytes[take(1)] as number;
          if (v > 5) fail(`pickle protocol ${v} is newer than 5`);
          break;
        }
        case 0x95: // FRAME: a buffering hint; the frame must lie inside the input.
          length64();
          break;
        case 0x2e: // STOP
          return { value: pop(), end: pos };
        case 0x28: // MARK
          if (marks.length >= MAX_MARKS) fail(`MARKs nest deeper than ${MAX_MARKS}`);
          marks.push(stack);
          stack = [];
          break;
        case 0x30: // POP
          pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          push(top());
          break;
        case 0x4e: // NONE
          push(null);
          break;
        case 0x88: // NEWTRUE
          push(true);
          break;
        case 0x89: // NEWFALSE
          push(false);
          break;
        case 0x4a: // BININT
          push(view.getInt32(take(4), true));
          break;
        case 0x4b: // BININT1
          push(bytes[take(1)] as number);
          break;
        case 0x4d: // BININT2
          push(view.getUint16(take(2), true));
          break;
        case 0x8a: {
          // LONG1
          const n = bytes[take(1)] as number;
          push(long(bytes, take(n), n));
          break;
        }
        case 0x8b: {
          // LONG4
          const n = view.getInt32(take(4), true);
          if (n < 0 || n > MAX_LONG_BYTES) fail(`LONG4 of ${n} bytes (at most ${MAX_LONG_BYTES} read here)`);
          push(long(bytes, take(n), n));
          break;
        }
        case 0x47: // BINFLOAT: big-endian, unlike everything else
          push(view.getFloat64(take(8), false));
          break;
        case 0x8c: {
          // SHORT_BINUNICODE
          const n = bytes[take(1)] as number;
          push(text(take(n), n));
          break;
        }
        case 0x58: {
          // BINUNICODE
          const n = view.getUint32(take(4), true);
          push(text(take(n), n));
          break;
        }
        case 0x8d: {
          // BINUNICODE8
          const n = length64();
          push(text(take(n), n));
          break;
        }
        case 0x55: {
          // SHORT_BINSTRING: a Python 2 str; Python 3 reads it as text.
          const n = bytes[take(1)] as number;
          push(latin1.decode(bytes.subarray(take(n), pos)));
          break;
        }
        case 0x54: {
          // BINSTRING
          const n = view.getInt32(take(4), true);
          if (n < 0) fail(`BINSTRING of negative length ${n}`);
          push(latin1.decode(bytes.subarray(take(n), pos)));
          break;
        }
        case 0x43: {
          // SHORT_BINBYTES
          const n = bytes[take(1)] as number;
          push(bytes.slice(take(n), pos));
          break;
        }
        case 0x42: {
          // BINBYTES
          const n = view.getUint32(take(4), true);
          push(bytes.slice(take(n), pos));
          break;
        }
        case 0x8e: // BINBYTES8
        case 0x96: {
          // BYTEARRAY8
          const n = length64();
          push(bytes.slice(take(n), pos));
          break;
        }
        case 0x7d: // EMPTY_DICT
          push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          push(tuple([]));
          break;
        case 0x8f: // EMPTY_SET
          push(new Set());
          break;
        case 0x74: // TUPLE
          push(tuple(popMark()));
          break;
        case 0x85: // TUPLE1
          push(tuple([pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = pop();
          push(tuple([pop(), b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const b = pop();
          push(tuple([pop(), b, c]));
          break;
        }
        case 0x6c: // LIST
          push(popMark());
          break;
        case 0x64: {
          // DICT
          const d = new Map<PyValue, PyValue>();
          setItems(d, popMark());
          push(d);
          break;
        }
        case 0x91: // FROZENSET
          push(new Set(popMark()));
          break;
        case 0x61: {
          // APPEND
          const v = pop();
          list(top()).push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = popMark();
          const l = list(top());
          for (const v of items) l.push(v);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = pop();
          const k = pop();
          dict(top()).set(k, v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = popMark();
          setItems(dict(top()), items);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = popMark();
          const s = set(top());
          for (const v of items) s.add(v);
          break;
        }
        case 0x71: // BINPUT
          put(bytes[take(1)] as number);
          break;
        case 0x72: // LONG_BINPUT
          put(view.getUint32(take(4), true));
          break;
        case 0x94: // MEMOIZE
          put(memo.size);
          break;
        case 0x68: // BINGET
          get(bytes[take(1)] as number);
          break;
        case 0x6a: // LONG_BINGET
          get(view.getUint32(take(4), true));
          break;
        case 0x63: {
          // GLOBAL: "module\nname\n"
          const module = line();
          push(global(module, line()));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            fail(`STACK_GLOBAL needs two strings, got ${describe(module)} and ${describe(name)}`);
          }
          push(global(module as string, name as string));
          break;
        }
        case 0x69: {
          // INST: "module\nname\n", arguments since MARK
          const module = line();
          const callable = global(module, line());
          push(call(callable, tuple(popMark())));
          break;
        }
        case 0x6f: {
          // OBJ: callable and arguments since MARK
          const items = popMark();
          if (items.length === 0) fail('OBJ without a class');
          push(call(items[0] as PyValue, tuple(items.slice(1))));
          break;
        }
        case 0x52: // REDUCE
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args); for the allowed classes the same as calling them
          const args = pop();
          push(call(pop(), args));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = pop();
          const args = pop();
          if (!(kwargs instanceof Map) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments');
          push(call(pop(), args));
          break;
        }
        case 0x62: {
          // BUILD: a dict's attributes (OrderedDict's _metadata) never matter to the weights.
          const state = pop();
          const obj = top();
          if (obj instanceof PyObject) obj.setState(state);
          else if (!(obj instanceof Map)) fail(`BUILD gives state to ${describe(obj)}`);
          break;
        }
        case 0x51: {
          // BINPERSID
          const pid = pop();
          if (opts.persistentLoad === undefined) fail('the pickle refers to data outside it (BINPERSID)');
          push((opts.persistentLoad as (pid: PyValue) => PyValue)(pid));
          break;
        }
        default:
          fail(`unsupported opcode ${opName(op)}${REFUSED.get(op) ?? ''}`);
      }
    }
  } catch (e) {
    if (e instanceof PickleError) throw weightsError(e.message, opts.source, undefined, e);
    throw e;
  }
  return fail('the pickle ends without STOP (truncated?)');
}

/** How many items a value holds at its top level (what a call may copy or walk). */
function extent(v: PyValue): number {
  if (typeof v === 'string' || v instanceof Uint8Array || Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  return 0;
}

/** Two's-complement little-endian integer of n bytes. */
function long(bytes: Uint8Array, at: number, n: number): number | bigint {
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i] as number);
  if ((bytes[at + n - 1] as number) & 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x80, 'PROTO'],
  [0x95, 'FRAME'],
  [0x2e, 'STOP'],
  [0x28, 'MARK'],
  [0x30, 'POP'],
  [0x31, 'POP_MARK'],
  [0x32, 'DUP'],
  [0x4a, 'BININT'],
  [0x4b, 'BININT1'],
  [0x4d, 'BININT2'],
  [0x8a, 'LONG1'],
  [0x8b, 'LONG4'],
  [0x47, 'BINFLOAT'],
  [0x8c, 'SHORT_BINUNICODE'],
  [0x58, 'BINUNICODE'],
  [0x8d, 'BINUNICODE8'],
  [0x55, 'SHORT_BINSTRING'],
  [0x54, 'BINSTRING'],
  [0x43, 'SHORT_BINBYTES'],
  [0x42, 'BINBYTES'],
  [0x8e, 'BINBYTES8'],
  [0x96, 'BYTEARRAY8'],
  [0x74, 'TUPLE'],
  [0x85, 'TUPLE1'],
  [0x86, 'TUPLE2'],
  [0x87, 'TUPLE3'],
  [0x6c, 'LIST'],
  [0x64, 'DICT'],
  [0x91, 'FROZENSET'],
  [0x61, 'APPEND'],
  [0x65, 'APPENDS'],
  [0x73, 'SETITEM'],
  [0x75, 'SETITEMS'],
  [0x90, 'ADDITEMS'],
  [0x71, 'BINPUT'],
  [0x72, 'LONG_BINPUT'],
  [0x94, 'MEMOIZE'],
  [0x68, 'BINGET'],
  [0x6a, 'LONG_BINGET'],
  [0x63, 'GLOBAL'],
  [0x93, 'STACK_GLOBAL'],
  [0x69, 'INST'],
  [0x6f, 'OBJ'],
  [0x52, 'REDUCE'],
  [0x81, 'NEWOBJ'],
  [0x92, 'NEWOBJ_EX'],
  [0x62, 'BUILD'],
  [0x51, 'BINPERSID'],
]);

/** Opcodes refused on purpose, with why. */
const REFUSED: ReadonlyMap<number, string> = new Map([
  [0x50, ' (PERSID: a text persistent id, which torch.save never writes)'],
  [0x82, ' (EXT1: the extension registry)'],
  [0x83, ' (EXT2: the extension registry)'],
  [0x84, ' (EXT4: the extension registry)'],
  [0x97, ' (NEXT_BUFFER: out-of-band data, which torch.save never writes)'],
  [0x98, ' (READONLY_BUFFER: out-of-band data, which torch.save never writes)'],
]);

function opName(op: number): string {
  const name = NAMES.get(op);
  if (name !== undefined) return name;
  const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `0x${op.toString(16).padStart(2, '0')}${ch}`;
}

/** A value in a message: its kind and, for scalars, the value itself (cut short). */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${v}`;
  if (typeof v === 'string') return `the string ${quote(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `a ${isTuple(v) ? 'tuple' : 'list'} of ${v.length}`;
  if (v instanceof Map) return `a dict of ${v.size}`;
  if (v instanceof Set) return `a set of ${v.size}`;
  return v.kind;
}
