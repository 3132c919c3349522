/** conv2d → nn.Conv2d at the weight's module path (torchvision's `layer1.0.conv1`), else F.conv2d. */
import type { Conv2dAttrs } from '@siamese/core';
import { ints, num } from './python.js';
import type { Emit } from './types.js';

export const conv2d: Emit<Conv2dAttrs> = ({ ctx, node, input, inputTypes, attrs: a }) => {
  const [outC, inPerGroup, kh, kw] = inputTypes[1]!.shape as number[];
  const bias = node.inputs[2] || undefined;
  // torch's defaults are left out, as torchvision writes its layers.
  const options = [
    a.stride.some((s) => s !== 1) ? `stride=${ints(a.stride, true)}` : '',
    a.padding.some((p) => p !== 0) ? `padding=${ints(a.padding, true)}` : '',
    a.dilation.some((d) => d !== 1) ? `dilation=${ints(a.dilation, true)}` : '',
    a.groups !== 1 ? `groups=${num(a.groups)}` : '',
  ]
    .filter(Boolean)
    .map((o) => `, ${o}`)
    .join('');
  const path = ctx.ownerPath([
    [node.inputs[1], 'weight'],
    [bias, 'bias'],
  ]);
  if (path === undefined) {
    return `F.conv2d(${input(0)}, ${input(1)}, ${bias ? input(2) : 'None'}${options})`;
  }
  const kernel = ints([kh!, kw!], true);
  const owned = [node.inputs[1]!, ...(bias ? [bias] : [])];
  const m = ctx.module(
    path,
    `nn.Conv2d(${num(inPerGroup! * a.groups)}, ${num(outC!)}, ${kernel}${options}${bias ? '' : ', bias=False'})`,
    owned,
  );
  return `${m}(${input(0)})`;
};
