/**
 * torchvision's ResNet family as an IR encoder (the `fc` classifier removed): BasicBlock,
 * Bottleneck, groups / width-per-group (ResNeXt, wide ResNet), replace-stride-with-dilation and
 * zero-init-residual. Parameter names equal torchvision's state_dict keys.
 */
import type { GraphBuilder } from '../ir/builder.js';
import { GraphBuilder as Builder } from '../ir/builder.js';
import type { Graph, Value } from '../ir/types.js';
import { batchNorm2d, conv, conv1x1, conv3x3, relu } from './layers.js';

export type BlockKind = 'basic' | 'bottleneck';

export interface ResNetConfig {
  readonly block: BlockKind;
  /** Blocks per stage (four stages). */
  readonly layers: readonly [number, number, number, number];
  readonly groups?: number;
  /** torchvision's width_per_group (base_width): 64 by default; 128 gives wide ResNet-50-2. */
  readonly widthPerGroup?: number;
  /** Replace the stride of stages 2..4 with dilation (torchvision's replace_stride_with_dilation). */
  readonly replaceStrideWithDilation?: readonly [boolean, boolean, boolean];
  /** Initialize the last BatchNorm of each residual branch to zero. */
  readonly zeroInitResidual?: boolean;
  /** Image channels: 3 for RGB, 1 for grayscale. */
  readonly inChannels?: number;
  /** Channels of the stem and first stage (64 in torchvision); stages use 1x, 2x, 4x, 8x of it. */
  readonly baseWidth?: number;
}

export const EXPANSION: Readonly<Record<BlockKind, number>> = { basic: 1, bottleneck: 4 };

/** Resolved options with torchvision's defaults. */
export function resolveResNet(c: ResNetConfig): Required<ResNetConfig> {
  const r: Required<ResNetConfig> = {
    block: c.block,
    layers: c.layers,
    groups: c.groups ?? 1,
    widthPerGroup: c.widthPerGroup ?? 64,
    replaceStrideWithDilation: c.replaceStrideWithDilation ?? [false, false, false],
    zeroInitResidual: c.zeroInitResidual ?? false,
    inChannels: c.inChannels ?? 3,
    baseWidth: c.baseWidth ?? 64,
  };
  if (!['basic', 'bottleneck'].includes(r.block))
    throw new Error(`resnet: block must be 'basic' or 'bottleneck', got '${r.block}'`);
  if (r.layers.length !== 4 || !r.layers.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(`resnet: layers must be four positive integers, got [${r.layers.join(',')}]`);
  }
  if (r.block === 'basic' && (r.groups !== 1 || r.widthPerGroup !== 64)) {
    throw new Error('resnet: BasicBlock only supports groups=1 and widthPerGroup=64 (as in torchvision)');
  }
  if (r.block === 'basic' && r.replaceStrideWithDilation.some(Boolean)) {
    throw new Error('resnet: dilation > 1 is not supported in BasicBlock (as in torchvision)');
  }
  for (const [k, v] of Object.entries({
    groups: r.groups,
    widthPerGroup: r.widthPerGroup,
    inChannels: r.inChannels,
    baseWidth: r.baseWidth,
  })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`resnet: ${k} must be a positive integer, got ${v}`);
  }
  return r;
}

/** Width of the encoder's output embedding. */
export function resnetEmbeddingSize(c: ResNetConfig): number {
  const r = resolveResNet(c);
  return r.baseWidth * 8 * EXPANSION[r.block];
}

interface BlockArgs {
  readonly inplanes: number;
  readonly planes: number;
  readonly stride: number;
  readonly downsample: boolean;
  readonly groups: number;
  readonly widthPerGroup: number;
  readonly dilation: number;
  readonly zeroInit: boolean;
}

function downsample(b: GraphBuilder, x: Value, a: BlockArgs, outC: number): Value {
  return b.scope('downsample', () => {
    const y = conv1x1(b, '0', x, a.inplanes, outC, a.stride);
    return batchNorm2d(b, '1', y, outC);
  });
}

function basicBlock(b: GraphBuilder, x: Value, a: BlockArgs): Value {
  let out = conv3x3(b, 'conv1', x, a.inplanes, a.planes, a.stride);
  out = relu(b, batchNorm2d(b, 'bn1', out, a.planes));
  out = conv3x3(b, 'conv2', out, a.planes, a.planes);
  out = batchNorm2d(b, 'bn2', out, a.planes, a.zeroInit);
  const identity = a.downsample ? downsample(b, x, a, a.planes) : x;
  return relu(b, b.op('add', [out, identity], {}, 'add'));
}

function bottleneck(b: GraphBuilder, x: Value, a: BlockArgs): Value {
  const width = Math.floor(a.planes * (a.widthPerGroup / 64)) * a.groups;
  const outC = a.planes * EXPANSION.bottleneck;
  let out = conv1x1(b, 'conv1', x, a.inplanes, width);
  out = relu(b, batchNorm2d(b, 'bn1', out, width));
  out = conv3x3(b, 'conv2', out, width, width, a.stride, a.groups, a.dilation);
  out = relu(b, batchNorm2d(b, 'bn2', out, width));
  out = conv1x1(b, 'conv3', out, width, outC);
  out = batchNorm2d(b, 'bn3', out, outC, a.zeroInit);
  const identity = a.downsample ? downsample(b, x, a, outC) : x;
  return relu(b, b.op('add', [out, identity], {}, 'add'));
}

/**
 * Adds the encoder's nodes to `b` at the current scope and returns the embedding [N, D]
 * (global-average-pooled, flattened).
 */
export function resnetEncoder(b: GraphBuilder, x: Value, config: ResNetConfig): Value {
  const c = resolveResNet(config);
  const block = c.block === 'basic' ? basicBlock : bottleneck;
  const exp = EXPANSION[c.block];
  let inplanes = c.baseWidth;
  let dilation = 1;
  let y = conv(b, 'conv1', x, c.inChannels, inplanes, 7, { stride: 2, padding: 3 });
  y = relu(b, batchNorm2d(b, 'bn1', y, inplanes));
  y = b.op('maxPool2d', [y], { kernel: 3, stride: 2, padding: 1 }, 'maxpool');
  for (let stage = 0; stage < 4; stage++) {
    const planes = c.baseWidth * 2 ** stage;
    let stride = stage === 0 ? 1 : 2;
    const previousDilation = dilation;
    if (stage > 0 && c.replaceStrideWithDilation[stage - 1]) {
      dilation *= stride;
      stride = 1;
    }
    y = b.scope(`layer${stage + 1}`, () => {
      let h = y;
      for (let i = 0; i < c.layers[stage]!; i++) {
        const args: BlockArgs = {
          inplanes,
          planes,
          stride: i === 0 ? stride : 1,
          downsample: i === 0 && (stride !== 1 || inplanes !== planes * exp),
          groups: c.groups,
          widthPerGroup: c.widthPerGroup,
          dilation: i === 0 ? previousDilation : dilation,
          zeroInit: c.zeroInitResidual,
        };
        h = b.scope(i, () => block(b, h, args));
        inplanes = planes * exp;
      }
      return h;
    });
  }
  y = b.op('globalAvgPool', [y], {}, 'avgpool');
  return b.op('flatten', [y], { axis: 1 }, 'flatten');
}

export const RESNET_PRESETS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
  resnext50_32x4d: { block: 'bottleneck', layers: [3, 4, 6, 3], groups: 32, widthPerGroup: 4 },
  resnext101_32x8d: { block: 'bottleneck', layers: [3, 4, 23, 3], groups: 32, widthPerGroup: 8 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 128 },
  wide_resnet101_2: { block: 'bottleneck', layers: [3, 4, 23, 3], widthPerGroup: 128 },
  /** Small widths for tests and CPU demos: ResNet-18 topology at 1/4 and 1/8 of the channels. */
  resnet18_w16: { block: 'basic', layers: [2, 2, 2, 2], baseWidth: 16 },
  resnet10_w8: { block: 'basic', layers: [1, 1, 1, 1], baseWidth: 8 },
} as const satisfies Record<string, ResNetConfig>;

export type ResNetPreset = keyof typeof RESNET_PRESETS;

export function isResNetPreset(name: string): name is ResNetPreset {
  return Object.hasOwn(RESNET_PRESETS, name);
}

/** A preset by name, with overrides (e.g. `{ inChannels: 1 }` for grayscale). */
export function resnetPreset(name: string, overrides: Partial<ResNetConfig> = {}): ResNetConfig {
  if (!isResNetPreset(name)) {
    throw new Error(`unknown architecture '${name}' (known: ${Object.keys(RESNET_PRESETS).join(', ')})`);
  }
  return { ...RESNET_PRESETS[name], ...overrides };
}

export interface EncoderGraphOptions {
  readonly height: number;
  readonly width: number;
  /** Graph name; defaults to 'resnet'. */
  readonly name?: string;
}

/** A stand-alone encoder graph: input `x` [N, C, H, W] -> output `embedding` [N, D]. */
export function resnet(config: ResNetConfig, o: EncoderGraphOptions): Graph {
  const c = resolveResNet(config);
  const b = new Builder(o.name ?? 'resnet');
  const x = b.input('x', 'float32', ['N', c.inChannels, o.height, o.width]);
  b.output('embedding', resnetEncoder(b, x, c));
  b.setMeta('encoder', { kind: 'resnet', ...c });
  return b.build();
}
