/**
 * `siamese convert`: a PyTorch checkpoint to safetensors, for users who want only the conversion.
 * Read by core's restricted reader (tensors and plain containers, never the pickle's code), written
 * atomically with the state_dict's own names.
 */
import { basename, resolve } from 'node:path';
import { loadTorchCheckpoint, saveWeights } from '@siamese/core';
import { UsageError } from '../errors.js';
import { str } from './parse.js';
import type { CommandDef } from './types.js';

export const convert: CommandDef = {
  name: 'convert',
  summary: 'convert a PyTorch checkpoint (.pth) to safetensors, without running its code',
  positionals: ['FILE.pth'],
  details:
    "Reads torch.save's zip format with a restricted reader that rebuilds only tensors and plain\n" +
    "containers and refuses anything else (it never runs the pickle's code). The state_dict is the file\n" +
    "itself or the one under 'state_dict', 'model_state_dict' or 'model'; names are kept as they are.\n" +
    'float16, bfloat16 and float64 tensors become float32. The result loads with `siamese train --init`.',
  options: {
    out: { type: 'string', value: 'FILE', description: 'the safetensors file to write (required)' },
  },
  examples: ['siamese convert resnet18.pth --out resnet18.safetensors'],
  async run(args, io) {
    const input = args.positionals[0]!;
    const out = str(args.values.out);
    if (!out) throw new UsageError('--out is required: the safetensors file to write');
    if (resolve(out) === resolve(input)) throw new UsageError(`--out '${out}' is the input file itself`);
    const c = await loadTorchCheckpoint(input);
    if (c.tensors.size === 0) throw new UsageError(`'${input}' holds no tensors`);
    await saveWeights(out, c.tensors, { format: 'pt', source: basename(input) });
    const values = [...c.tensors.values()].reduce((n, t) => n + t.data.length, 0);
    const converted = [...c.converted].map(([dtype, n]) => `${n} ${dtype} converted to float32`);
    const where = c.key === undefined ? '' : `the state_dict under '${c.key}', `;
    io.out(
      `converted ${where}${c.tensors.size} tensors (${values.toLocaleString('en-US')} values${converted.length > 0 ? `; ${converted.join(', ')}` : ''}) to ${out}`,
    );
    return 0;
  },
};
