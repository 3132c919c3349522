/** A readable text form of a graph, stable enough for snapshot tests. */
import { formatType } from './shape.js';
import type { Graph, Initializer } from './types.js';

function formatInit(init: Initializer): string {
  switch (init.kind) {
    case 'kaimingNormal':
      return `kaimingNormal(${init.mode}, ${init.nonlinearity})`;
    case 'uniform':
      return `uniform(±${init.bound.toPrecision(6)})`;
    case 'normal':
      return `normal(std=${init.std})`;
    case 'constant':
      return `constant(${init.value})`;
    default:
      return init.kind;
  }
}

function formatAttr(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(',')}]` : String(v);
}

export function printGraph(graph: Graph): string {
  const lines: string[] = [];
  const ins = graph.inputs.map((v) => `${v.name}: ${formatType(v)}`).join(', ');
  lines.push(`graph ${graph.name}(${ins}) {`);
  for (const p of graph.params) {
    const flag = p.kind === 'buffer' ? 'buffer' : p.trainable ? 'param' : 'param frozen';
    lines.push(`  ${flag} ${p.name}: ${formatType(p)} = ${formatInit(p.init)}`);
  }
  for (const n of graph.nodes) {
    const attrs = Object.entries(n.attrs)
      .map(([k, v]) => `${k}=${formatAttr(v)}`)
      .join(', ');
    const outs = n.outputs.map((o) => `%${o}: ${formatType(graph.values[o]!)}`).join(', ');
    const args = n.inputs.map((i) => (i ? `%${i}` : '_')).join(', ');
    lines.push(`  ${outs} = ${n.op}(${args})${attrs ? ` {${attrs}}` : ''}`);
  }
  lines.push(`  return ${graph.outputs.map((o) => `${o.name}=%${o.value}`).join(', ')}`);
  lines.push('}');
  return lines.join('\n');
}
