/** `siamese doctor`: what runs here (CPU, CUDA, tfjs platforms, image decoding) and what to do about the rest. */
import { assess, healthy } from '../doctor/advice.js';
import { probe } from '../doctor/probe.js';
import { jsonOption } from './options.js';
import type { CommandDef } from './types.js';

export const doctor: CommandDef = {
  name: 'doctor',
  summary:
    'which devices and libraries work here (onnxruntime CPU/CUDA, CUDA and cuDNN, tfjs, sharp), and fixes',
  options: { json: jsonOption },
  details:
    'Creates a real onnxruntime session on each provider, reads nvidia-smi, looks for the CUDA and cuDNN libraries the dynamic loader can find (onnxruntime-node 1.30 needs CUDA 12.x + cuDNN 9; tfjs-node-gpu needs CUDA 11.2 + cuDNN 8.1, so a tfjs GPU training run and an onnxruntime CUDA run are separate commands), and imports each tfjs platform that is installed. Exits 1 when Node, sharp or CPU inference does not work.',
  examples: ['siamese doctor', 'siamese doctor --json'],
  async run(args, io) {
    const facts = await probe();
    const checks = assess(facts);
    const ok = healthy(checks);
    if (args.values.json) {
      io.out(JSON.stringify({ ok, checks, probe: facts }, null, 2));
      return ok ? 0 : 1;
    }
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      io.out(`${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
      if (c.fix && c.status !== 'ok') io.out(`${' '.repeat(6 + width)}  fix: ${c.fix}`);
    }
    return ok ? 0 : 1;
  },
};
