/** JSON form of a graph, with an `irVersion` field; reading it back validates structure and shapes. */
import { GraphError } from './errors.js';
import { type Graph, IR_VERSION } from './types.js';
import { verify } from './verify.js';

export interface GraphJSON extends Graph {
  readonly irVersion: number;
}

export function toJSON(graph: Graph): GraphJSON {
  return { irVersion: IR_VERSION, ...structuredClone(graph) };
}

export function serialize(graph: Graph): string {
  return JSON.stringify(toJSON(graph));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a graph from its JSON form (string or parsed object) and verifies it. */
export function deserialize(json: string | unknown): Graph {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (e) {
      throw new GraphError(`graph JSON does not parse: ${(e as Error).message}`);
    }
  }
  if (!isRecord(raw)) throw new GraphError('graph JSON must be an object');
  if (raw.irVersion !== IR_VERSION) {
    throw new GraphError(
      `graph JSON has irVersion ${JSON.stringify(raw.irVersion)}; this version of @siamese/core reads ${IR_VERSION}`,
    );
  }
  for (const key of ['inputs', 'params', 'nodes', 'outputs'] as const) {
    if (!Array.isArray(raw[key])) throw new GraphError(`graph JSON field '${key}' must be an array`);
  }
  if (typeof raw.name !== 'string') throw new GraphError(`graph JSON field 'name' must be a string`);
  if (!isRecord(raw.values)) throw new GraphError(`graph JSON field 'values' must be an object`);
  const graph = {
    name: raw.name,
    inputs: raw.inputs,
    params: raw.params,
    nodes: raw.nodes,
    values: raw.values,
    outputs: raw.outputs,
    meta: isRecord(raw.meta) ? raw.meta : {},
  } as unknown as Graph;
  verify(graph);
  return graph;
}
