/**
 * model.py and loss.py from the IR: the inference graph becomes `SiameseNet(nn.Module)` (its module
 * tree at the IR's parameter paths, `reset_parameters` from the IR's initializers, `embed` from the
 * shared branch, `forward` from the nodes) and the training graph's nodes past the model become
 * `siamese_loss(outputs, labels)`.
 */
import { formatShape, type Graph, type Initializer, type Param } from '@siamese/core';
import { EmitContext } from './context.js';
import { block } from './format.js';
import { type Branch, emitNode, Names, sharedBranches } from './graph.js';
import { float, num, reach, str } from './python.js';

function initLine(p: Param): string {
  const target = reach('self', p.name);
  const i: Initializer = p.init;
  switch (i.kind) {
    case 'zeros':
      return `init.zeros_(${target})`;
    case 'ones':
      return `init.ones_(${target})`;
    case 'constant':
      return `init.constant_(${target}, ${float(i.value)})`;
    case 'kaimingNormal':
      return `init.kaiming_normal_(${target}, mode=${str(i.mode === 'fanOut' ? 'fan_out' : 'fan_in')}, nonlinearity=${str(i.nonlinearity)})`;
    case 'uniform':
      return `init.uniform_(${target}, ${float(-i.bound)}, ${float(i.bound)})`;
    case 'normal':
      return `init.normal_(${target}, 0.0, ${float(i.std)})`;
  }
}

/** Variable hint for a value: the graph output's name when it is one, else the value's name. */
function hintFor(graph: Graph, value: string, strip = ''): string {
  const out = graph.outputs.find((o) => o.value === value);
  if (out) return out.name;
  const local = value.startsWith(strip) ? value.slice(strip.length) : value;
  return local.replace(/:/g, '_');
}

/** The common leading scope of a branch's node names after its tag (`encoder.`), dropped from its variables. */
function commonScope(b: Branch): string {
  const local = b.nodes.map((n) => n.name.slice(b.tag.length + 1));
  const first = local[0]!.split('.')[0]!;
  return local.every((l) => l.startsWith(`${first}.`)) ? `${b.tag}/${first}.` : `${b.tag}/`;
}

function methodFor(ctx: EmitContext, graph: Graph, b: Branch): string[] {
  const names = new Names();
  const strip = commonScope(b);
  const args = b.externals.map((v, i) => names.bind(v, b.externals.length === 1 ? 'x' : `x${i}`));
  const body = b.nodes.map((n) =>
    emitNode(ctx, graph, n, names, hintFor({ ...graph, outputs: [] }, n.outputs[0]!, strip)),
  );
  const results = b.results.map((v) => names.get(v)!);
  return [
    '',
    `def embed(self, ${args.join(', ')}):`,
    `    """One branch of the shared encoder (the graph's '${b.tag}/' nodes, written once)."""`,
    ...body.map((l) => `    ${l}`),
    `    return ${results.join(', ')}`,
  ];
}

export interface ModelSource {
  readonly source: string;
  /** The class name in model.py. */
  readonly className: string;
}

function signature(graph: Graph): string[] {
  const io = (vs: readonly { name: string; shape: readonly (number | string)[] }[]) =>
    vs.map((v) => `${v.name} ${formatShape(v.shape)}`).join(', ');
  const outs = graph.outputs.map((o) => ({ name: o.name, shape: graph.values[o.value]?.shape ?? [] }));
  return [`Inputs: ${io(graph.inputs)}.`, `Returns a dict: ${io(outs)}.`];
}

/** model.py: the module generated from the inference graph. */
export function modelSource(graph: Graph, header: string, irVersion: number): ModelSource {
  const params = new Map(graph.params.map((p) => [p.name, p]));
  const ctx = new EmitContext(params, `graph '${graph.name}'`, true);
  const names = new Names();
  for (const v of graph.inputs) names.bind(v.name, v.name);
  const branches = sharedBranches(graph);
  const forward: string[] = [];
  const methods: string[] = [];
  const inBranch = new Map<string, Branch>();
  for (const b of branches ?? []) for (const n of b.nodes) inBranch.set(n.name, b);
  const called = new Set<string>();
  for (const n of graph.nodes) {
    const b = inBranch.get(n.name);
    if (b) {
      if (called.has(b.tag)) continue;
      called.add(b.tag);
      if (called.size === 1) methods.push(...methodFor(ctx, graph, b));
      const args = b.externals.map((v) => {
        const name = names.get(v);
        if (name === undefined) throw new Error(`branch '${b.tag}' reads '${v}' before it is defined`);
        return name;
      });
      const outs = b.results.map((v) => names.bind(v, hintFor(graph, v)));
      forward.push(`${outs.join(', ')} = self.embed(${args.join(', ')})`);
      continue;
    }
    forward.push(emitNode(ctx, graph, n, names, hintFor(graph, n.outputs[0]!)));
  }
  const missing = graph.params.filter((p) => !ctx.covers(p.name)).map((p) => p.name);
  if (missing.length > 0) {
    // Parameters no node reads still belong in the state_dict (the IR's names are the contract).
    for (const name of missing) ctx.param(name);
  }
  const returned = graph.outputs.map((o) => `${str(o.name)}: ${names.get(o.value)}`).join(', ');
  const inputs = graph.inputs.map((v) => names.get(v.name)!);
  const usesMath = [...forward, ...methods].some((l) => l.includes('math.'));
  const className = 'SiameseNet';
  const lines = [
    ...header.split('\n'),
    `"""The Siamese network of graph '${graph.name}' as a torch.nn.Module, generated from the IR.`,
    '',
    "Its state_dict keys are the IR's parameter names: torchvision's ResNet names under ``encoder.``,",
    'the head under ``head.`` (nn.Sequential indices), so weights move between this module, torchvision',
    'and siamese model folders without a mapping table.',
    '"""',
    '',
    ...(usesMath ? ['import math', ''] : []),
    'import torch',
    'from torch import nn',
    'from torch.nn import functional as F',
    'from torch.nn import init',
    '',
    `IR_VERSION = ${num(irVersion)}`,
    `GRAPH = ${str(graph.name)}`,
    '',
    '',
    'class Tree(nn.Module):',
    '    """A container of named children (``layer1``, ``0``); ``tree[0]`` is the child named "0"."""',
    '',
    '    def __getitem__(self, index):',
    '        return self._modules[str(index)]',
    '',
    '',
    `class ${className}(nn.Module):`,
    `    """Generated from the graph's nodes.`,
    '',
    ...signature(graph).map((l) => `    ${l}`),
    `    """`,
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...block(ctx.initLines(), 8),
    '        self.reset_parameters()',
    '',
    '    @torch.no_grad()',
    '    def reset_parameters(self):',
    `        """The IR's initializers where the modules' own differ (as torchvision re-initializes)."""`,
    ...block(graph.params.filter((p) => !ctx.constructorGives(p)).map(initLine), 8),
    ...block(methods, 4),
    '',
    `    def forward(self, ${inputs.join(', ')}):`,
    ...block(forward, 8),
    ...block([`return {${returned}}`], 8),
    '',
  ];
  return { source: lines.join('\n'), className };
}

/**
 * loss.py: the training graph's nodes that the inference graph does not have, as a function of the
 * model's outputs and the training graph's other inputs (the labels).
 */
export function lossSource(training: Graph, inference: Graph, header: string): string {
  const modelNodes = new Set(inference.nodes.map((n) => n.name));
  const nodes = training.nodes.filter((n) => !modelNodes.has(n.name));
  const produced = new Map(inference.outputs.map((o) => [o.value, o.name]));
  const modelInputs = new Set(inference.inputs.map((v) => v.name));
  const ctx = new EmitContext(
    new Map(training.params.map((p) => [p.name, p])),
    `the loss of graph '${training.name}'`,
    false,
  );
  const names = new Names();
  const extra = training.inputs.filter((v) => !modelInputs.has(v.name));
  for (const v of extra) names.bind(v.name, v.name);
  const reads: string[] = [];
  const own = new Set(nodes.flatMap((n) => n.outputs));
  for (const n of nodes) {
    for (const v of n.inputs) {
      if (!v || own.has(v) || names.get(v) !== undefined || ctx.paramOf(v)) continue;
      const output = produced.get(v);
      if (output === undefined) {
        throw new Error(`the loss reads '${v}', which the model (graph '${inference.name}') does not output`);
      }
      reads.push(`${names.bind(v, output)} = outputs[${str(output)}]`);
    }
  }
  const body = nodes.map((n) => emitNode(ctx, training, n, names, n.outputs[0]!));
  const loss = training.outputs.find((o) => o.name === 'loss');
  if (!loss) throw new Error(`graph '${training.name}' has no 'loss' output`);
  const args = ['outputs', ...extra.map((v) => names.get(v.name)!)];
  const usesMath = body.some((l) => l.includes('math.'));
  return [
    ...header.split('\n'),
    `"""The loss of graph '${training.name}', generated from the IR's nodes after the model's."""`,
    '',
    ...(usesMath ? ['import math', ''] : []),
    ...(body.some((l) => l.includes('torch.')) ? ['import torch'] : []),
    'from torch.nn import functional as F',
    '',
    `LOSS = ${str(String((training.meta.loss as { kind?: string } | undefined)?.kind ?? training.name))}`,
    `INPUTS = (${extra.map((v) => str(v.name)).join(', ')}${extra.length === 1 ? ',' : ''})`,
    '',
    '',
    `def siamese_loss(${args.join(', ')}):`,
    `    """A scalar from the model's outputs (a dict) and ${extra.map((v) => v.name).join(', ')}."""`,
    ...block(reads, 4),
    ...block(body, 4),
    `    return ${names.get(loss.value)}`,
    '',
  ].join('\n');
}
