/** `siamese search MODEL QUERY --index FILE`: the gallery images most likely to match a query. */
import { sigmoid } from '@siamese/core';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { headLogits } from '../infer/embed.js';
import { loadEmbeddings, modelFingerprint } from '../infer/embeddings-file.js';
import { readImages } from '../infer/images.js';
import { openModel } from '../infer/model.js';
import { deviceLine, thresholdText } from './format.js';
import { inferOptions, inferSettings, jsonOption } from './options.js';
import { positiveInt, str } from './parse.js';
import type { CommandDef } from './types.js';

export const search: CommandDef = {
  name: 'search',
  summary: 'the top matches of a query image in an embeddings file (from embed)',
  positionals: ['MODEL', 'QUERY'],
  options: {
    index: { type: 'string', value: 'FILE', description: 'the embeddings file written by siamese embed' },
    top: { type: 'string', value: 'K', default: '5', description: 'how many matches to print' },
    ...inferOptions,
    json: jsonOption,
  },
  details:
    'The query is embedded once; every stored embedding is then scored against it by the head alone (no image work), so a gallery of thousands takes milliseconds. Scores are match probabilities; with a calibrated threshold each match is marked same or different.',
  examples: ['siamese search model query.png --index gallery.safetensors --top 10'],
  async run(args, io) {
    const [dir, query] = args.positionals as [string, string];
    const indexFile = str(args.values.index);
    if (indexFile === undefined)
      throw new UsageError('needs --index FILE (an embeddings file from siamese embed)');
    const top = positiveInt('top', String(args.values.top));
    const settings = inferSettings(args, await configFor(args));
    const index = await loadEmbeddings(indexFile);
    const model = await openModel(dir, settings);
    try {
      const d = model.embeddingSize;
      const n = index.items.length;
      if (index.embeddings.shape[1] !== d) {
        throw new UsageError(
          `index ${indexFile} holds ${index.embeddings.shape[1]}-float embeddings but the model makes ${d}: it was embedded by another model`,
        );
      }
      if (index.model !== modelFingerprint(model.artifact)) {
        throw new UsageError(
          `index ${indexFile} was embedded by another model (or other weights); run siamese embed with this model again`,
        );
      }
      const q = await model.embed(await readImages([query], model.preprocessing));
      // Row n of the table is the query: head(query, item) for every item.
      const table = new Float32Array((n + 1) * d);
      table.set(index.embeddings.data);
      table.set(q.data, n * d);
      const logits = await headLogits(
        model,
        table,
        new Int32Array(n).fill(n),
        Int32Array.from({ length: n }, (_, i) => i),
      );
      const order = Array.from({ length: n }, (_, i) => i)
        .sort((x, y) => logits[y]! - logits[x]!)
        .slice(0, top);
      const threshold = model.threshold;
      const matches = order.map((i, rank) => {
        const probability = sigmoid(logits[i]!);
        const item = index.items[i]!;
        return {
          rank: rank + 1,
          probability,
          same: threshold ? probability >= threshold.probability : null,
          id: item.id,
          ...(item.path !== undefined ? { path: item.path } : {}),
          ...(item.class !== undefined ? { class: item.class } : {}),
        };
      });
      const device = await model.device();
      if (args.values.json) {
        io.out(
          JSON.stringify(
            { query, index: indexFile, gallery: n, threshold: threshold ?? null, matches, device },
            null,
            2,
          ),
        );
        return;
      }
      io.out(
        `top ${matches.length} of ${n.toLocaleString('en-US')} for ${query} (${threshold ? `threshold ${thresholdText(threshold)}` : 'no calibrated threshold: no decisions'})`,
      );
      for (const m of matches) {
        const decision = m.same === null ? '' : m.same ? '  same' : '  diff';
        const cls = m.class !== undefined ? `  [${m.class}]` : '';
        io.out(
          `${String(m.rank).padStart(4)}  ${m.probability.toFixed(4)}${decision}  ${m.path ?? m.id}${cls}`,
        );
      }
      io.out(deviceLine(device));
    } finally {
      await model.dispose();
    }
  },
};
