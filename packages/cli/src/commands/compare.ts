/** `siamese compare MODEL A B`: the probability that two images show the same identity. */
import { configFor } from '../config/load.js';
import { readImages } from '../infer/images.js';
import { openModel } from '../infer/model.js';
import { deviceLine, thresholdText } from './format.js';
import { inferOptions, inferSettings, jsonOption } from './options.js';
import type { CommandDef } from './types.js';

export const compare: CommandDef = {
  name: 'compare',
  summary: 'the probability that two images show the same identity, and the decision',
  positionals: ['MODEL', 'A', 'B'],
  options: { ...inferOptions, json: jsonOption },
  details:
    "Both images are decoded with the model's own preprocessing (size, channels, mean/std, fill or letterbox). The decision uses the threshold calibrated when the model was trained; a model without one gets no decision.",
  examples: [
    'siamese compare runs/omniglot/model a.png b.png',
    'siamese compare model a.jpg b.jpg --device cpu --json',
  ],
  async run(args, io) {
    const [dir, a, b] = args.positionals as [string, string, string];
    const settings = inferSettings(args, await configFor(args));
    const model = await openModel(dir, settings);
    try {
      const [x1, x2] = await Promise.all([
        readImages([a], model.preprocessing),
        readImages([b], model.preprocessing),
      ]);
      const s = await model.score(x1, x2);
      const probability = s.probability[0]!;
      const threshold = model.threshold ?? null;
      const same = s.same?.[0] ?? null;
      const device = await model.device();
      if (args.values.json) {
        io.out(JSON.stringify({ a, b, probability, logit: s.logit[0]!, threshold, same, device }, null, 2));
        return;
      }
      io.out(`probability ${probability.toFixed(4)} that ${a} and ${b} show the same identity`);
      io.out(
        same === null
          ? 'decision    none: the model has no calibrated threshold (eval reports the EER threshold)'
          : `decision    ${same ? 'same' : 'different'} (threshold ${thresholdText(threshold!)})`,
      );
      io.out(deviceLine(device, model.precision));
    } finally {
      await model.dispose();
    }
  },
};
