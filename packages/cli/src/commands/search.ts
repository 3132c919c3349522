/**
 * `siamese search MODEL QUERY --index FILE|GALLERY`: the gallery images most likely to match a
 * query. An embeddings file (siamese embed) is searched exactly: the head scores every item. A
 * gallery index folder (siamese index build) is searched in two stages: the nearest embeddings
 * from the ANN index, re-ranked by the head.
 */
import { stat } from 'node:fs/promises';
import { modelFingerprint } from '@siamese/core';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { readImages } from '../infer/images.js';
import { openModel } from '../infer/model.js';
import { deviceLine, thresholdText } from './format.js';
import { inferOptions, inferSettings, jsonOption } from './options.js';
import { positiveInt, str } from './parse.js';
import type { CommandDef } from './types.js';

export const search: CommandDef = {
  name: 'search',
  summary: 'the top matches of a query image in an embeddings file (embed) or a gallery index (index build)',
  positionals: ['MODEL', 'QUERY'],
  options: {
    index: {
      type: 'string',
      value: 'FILE|GALLERY',
      description:
        'the embeddings file written by siamese embed, or a gallery folder from siamese index build',
    },
    top: { type: 'string', value: 'K', default: '5', description: 'how many matches to print' },
    candidates: {
      type: 'string',
      value: 'N',
      description: 'gallery index: nearest embeddings the head re-ranks (default 10 x --top)',
    },
    'expansion-search': {
      type: 'string',
      value: 'N',
      description: "gallery index: HNSW search breadth for this search (default: the gallery's setting)",
    },
    ...inferOptions,
    json: jsonOption,
  },
  details:
    'The query is embedded once. With an embeddings file every stored embedding is then scored against it by the head alone (no image work), so a gallery of thousands takes milliseconds. With a gallery index the ANN index finds the nearest embeddings (L2, or cosine for a cosine head) and the head re-ranks them: milliseconds for a million items. Scores are match probabilities; with a calibrated threshold each match is marked same or different.',
  examples: [
    'siamese search model query.png --index gallery.safetensors --top 10',
    'siamese search model query.png --index gallery.index --top 10 --candidates 200',
  ],
  async run(args, io) {
    const [dir, query] = args.positionals as [string, string];
    const indexPath = str(args.values.index);
    if (indexPath === undefined)
      throw new UsageError(
        'needs --index FILE (an embeddings file from siamese embed, or a gallery from siamese index build)',
      );
    const top = positiveInt('top', String(args.values.top));
    const candidatesFlag = str(args.values.candidates);
    const candidates = candidatesFlag === undefined ? undefined : positiveInt('candidates', candidatesFlag);
    if (candidates !== undefined && candidates < top)
      throw new UsageError(`--candidates must be at least --top (${top}), got ${candidates}`);
    const ef = str(args.values['expansion-search']);
    const expansionSearch = ef === undefined ? undefined : positiveInt('expansion-search', ef);
    const settings = inferSettings(args, await configFor(args));
    if (!(await stat(indexPath).catch(() => undefined))) {
      throw new UsageError(
        `--index '${indexPath}': no such file or folder (an embeddings file from siamese embed, or a gallery from siamese index build)`,
      );
    }
    const g = await import('@siamese/gallery');
    const asUsage = (e: unknown): never => {
      if (e instanceof g.GalleryError) throw new UsageError(e.message, { cause: e });
      throw e;
    };
    const model = await openModel(dir, settings);
    try {
      const plan = g.searchPlan(model.artifact.config, model.artifact.weights);
      const gallery = await g
        .openGallery(indexPath, {
          metric: plan.metric,
          ...(expansionSearch !== undefined ? { expansionSearch } : {}),
        })
        .catch(asUsage);
      const info = gallery.info();
      const exhaustive = info.kind === 'embeddings-file';
      if (exhaustive && (candidates !== undefined || expansionSearch !== undefined))
        throw new UsageError(
          `--${candidates !== undefined ? 'candidates' : 'expansion-search'} is for a gallery index; an embeddings file is searched exhaustively`,
        );
      try {
        g.checkModel(
          info,
          { fingerprint: modelFingerprint(model.artifact), dimension: model.embeddingSize },
          `index ${indexPath}`,
        );
      } catch (e) {
        asUsage(e);
      }
      const q = await model.embed(await readImages([query], model.preprocessing));
      const started = performance.now();
      const found = await g.searchGallery(gallery, q.data, {
        k: top,
        scorer: g.headScorer(model),
        candidates: exhaustive
          ? Number.POSITIVE_INFINITY
          : (candidates ?? g.DEFAULT_CANDIDATES_PER_MATCH * top),
      });
      const searchMs = performance.now() - started;
      const n = info.size;
      const threshold = model.threshold;
      const matches = found.map((m) => ({
        rank: m.rank,
        probability: m.probability,
        same: threshold ? m.probability >= threshold.probability : null,
        id: m.id,
        ...(m.path !== undefined ? { path: m.path } : {}),
        ...(m.label !== undefined ? { class: m.label } : {}),
      }));
      const device = await model.device();
      if (args.values.json) {
        io.out(
          JSON.stringify(
            {
              query,
              index: indexPath,
              kind: info.kind,
              gallery: n,
              candidates: exhaustive ? n : Math.min(n, candidates ?? g.DEFAULT_CANDIDATES_PER_MATCH * top),
              searchMs,
              threshold: threshold ?? null,
              matches,
              device,
            },
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
      io.out(deviceLine(device, model.precision));
    } finally {
      await model.dispose();
    }
  },
};
