#!/usr/bin/env node
// backend-tfjs training speed, this build against another (e.g. the build before a change to its
// training path), side by side in one run: each round runs both builds once, alternating which goes
// first (A B, B A, ...), each in its own process on the same model, weights and batch (BCE, Adam).
// Prints median pairs/s of each and the ratio new / reference.
//   git worktree add /tmp/ref <rev> && (cd /tmp/ref && pnpm install && pnpm build)
//   node bench/train-throughput/tfjs-paths.mjs --reference /tmp/ref/packages/backend-tfjs/dist
// A reference build must resolve @siamese/core: inside a checkout with its node_modules, or copied
// into packages/backend-tfjs/ of this one (any ignored folder name).
// A configuration is arch:size:batch:device (device: wasm or js, tfjs's pure-JS CPU backend).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, table } from '../lib/stats.mjs';
import { writeTrainFixture } from './fixture.mjs';

const { values: args } = parseArgs({
  options: {
    reference: { type: 'string' },
    configs: { type: 'string', default: 'resnet18_w16:28:32:wasm,resnet18_w16:28:32:js,resnet18:105:8:wasm' },
    rounds: { type: 'string', default: '5' },
    steps: { type: 'string', default: '2' },
  },
});
if (!args.reference) throw new Error('--reference DIR (a backend-tfjs dist folder) is required');
const here = (f) => new URL(f, import.meta.url).pathname;

function side(dist, common) {
  const argv = [here('./side.mjs'), '--backend', 'tfjs', ...common];
  if (dist) argv.push('--tfjs-dist', resolve(dist));
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const rows = [['configuration', 'reference pairs/s', 'this build pairs/s', 'ratio', 'eval losses']];
for (const spec of args.configs.split(',')) {
  const [arch, sizeText, batchText, device] = spec.split(':');
  const [size, n] = [Number(sizeText), Number(batchText)];
  const dir = mkdtempSync(join(tmpdir(), 'siamese-tfjs-paths-'));
  try {
    const files = await writeTrainFixture(dir, { arch, size, batch: n });
    const common = [
      ...['--weights', files.weights, '--inputs', files.inputs],
      ...['--arch', arch, '--size', String(size), '--device', device],
      ...['--warmup', '1', '--runs', '1', '--steps', args.steps],
    ];
    const ref = [];
    const now = [];
    let losses = '';
    for (let i = 0; i < Number(args.rounds); i++) {
      const order = i % 2 === 0 ? ['ref', 'now'] : ['now', 'ref'];
      for (const which of order) {
        const res = side(which === 'ref' ? args.reference : undefined, common);
        (which === 'ref' ? ref : now).push(res.pairsPerSecond);
        if (i === 0) losses += `${which} ${res.evalLoss.toFixed(5)} `;
      }
      process.stderr.write(
        `${spec} round ${i + 1}: ref ${ref.at(-1).toFixed(2)}, now ${now.at(-1).toFixed(2)}\n`,
      );
    }
    const [a, b] = [median(ref), median(now)];
    rows.push([spec, a.toFixed(2), b.toFixed(2), (b / a).toFixed(3), losses.trim()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  `backend-tfjs training, median pairs/s of ${args.rounds} alternating rounds x ${args.steps} steps (after 1 warm-up step)`,
);
console.log(table(rows));
