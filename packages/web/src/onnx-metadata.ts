/**
 * Reads what `siamese export` writes into an ONNX file without parsing its weights: the graph's input
 * and output names and `metadata_props` (cut, preprocessing, threshold, IR version). A few dozen lines
 * of protobuf wire format instead of a protobuf runtime in the page's bundle.
 */
import { WebModelError } from './errors.js';

export interface OnnxInfo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const VALUE_INFO_NAME = 1;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

interface Field {
  readonly number: number;
  /** The bytes of a length-delimited field; undefined for other wire types. */
  readonly bytes?: Uint8Array;
}

/** The top-level fields of one protobuf message, in order. Throws on bytes that are not protobuf. */
function* fields(buf: Uint8Array, what: string): Generator<Field> {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw truncated(what);
      const b = buf[pos++] as number;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new WebModelError(`${what}: not an ONNX model (a malformed varint)`, 'format');
  };
  while (pos < buf.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wire = key & 7;
    if (number === 0) throw new WebModelError(`${what}: not an ONNX model (field number 0)`, 'format');
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (pos + length > buf.length) throw truncated(what);
      yield { number, bytes: buf.subarray(pos, pos + length) };
      pos += length;
      continue;
    } else throw new WebModelError(`${what}: not an ONNX model (wire type ${wire})`, 'format');
    if (pos > buf.length) throw truncated(what);
    yield { number };
  }
}

function truncated(what: string): WebModelError {
  return new WebModelError(`${what}: the ONNX file is truncated`, 'format');
}

const text = new TextDecoder();

function stringField(message: Uint8Array, number: number, what: string): string | undefined {
  for (const f of fields(message, what)) if (f.number === number && f.bytes) return text.decode(f.bytes);
  return undefined;
}

/** The input/output names and metadata of an ONNX model's bytes; `what` names the file in errors. */
export function readOnnxInfo(bytes: Uint8Array, what: string): OnnxInfo {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const metadata: Record<string, string> = {};
  let graph = false;
  for (const f of fields(bytes, what)) {
    if (!f.bytes) continue;
    if (f.number === MODEL_GRAPH) {
      graph = true;
      for (const g of fields(f.bytes, what)) {
        if (!g.bytes || (g.number !== GRAPH_INPUT && g.number !== GRAPH_OUTPUT)) continue;
        const name = stringField(g.bytes, VALUE_INFO_NAME, what) ?? '';
        (g.number === GRAPH_INPUT ? inputs : outputs).push(name);
      }
    } else if (f.number === MODEL_METADATA_PROPS) {
      const key = stringField(f.bytes, ENTRY_KEY, what);
      if (key !== undefined) metadata[key] = stringField(f.bytes, ENTRY_VALUE, what) ?? '';
    }
  }
  if (!graph) throw new WebModelError(`${what}: not an ONNX model (no graph)`, 'format');
  return { inputs, outputs, metadata };
}
