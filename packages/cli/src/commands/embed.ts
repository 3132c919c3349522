/** `siamese embed MODEL FOLDER --out FILE`: every image's embedding, for `siamese search`. */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { count, openData, reportWarnings } from '../infer/data.js';
import { embedItems } from '../infer/embed.js';
import { type EmbeddedItem, modelFingerprint, saveEmbeddings } from '../infer/embeddings-file.js';
import { openModel } from '../infer/model.js';
import { bytes, deviceLine } from './format.js';
import { dataOptions, dataSettings, inferOptions, inferSettings, jsonOption } from './options.js';
import { str } from './parse.js';
import type { CommandDef } from './types.js';

export const embed: CommandDef = {
  name: 'embed',
  summary: 'embed every image of a folder or data source into an embeddings file (for search)',
  positionals: ['MODEL', '[FOLDER]'],
  options: {
    out: { type: 'string', value: 'FILE', description: 'the embeddings file to write (safetensors)' },
    ...dataOptions,
    'skip-invalid': {
      type: 'boolean',
      default: false,
      description:
        'decode every image first and leave out unreadable ones (a warning each) instead of stopping',
    },
    ...inferOptions,
    json: jsonOption,
  },
  details:
    "FOLDER is a folder of images (flat, a folder per class, or Omniglot's tree); --data also takes 'mnist' or a CSV of pairs. The file holds an [N, D] float32 tensor 'embeddings' and, in its metadata, each row's file and class and the fingerprint of the model, so search refuses an index made by another model. It is written atomically.",
  examples: [
    'siamese embed model gallery/ --out gallery.safetensors',
    'siamese embed model --data mnist --out mnist.safetensors',
  ],
  async run(args, io) {
    const [dir, folder] = args.positionals as [string, string | undefined];
    const loaded = await configFor(args);
    const out = str(args.values.out);
    if (out === undefined) throw new UsageError('needs --out FILE (the embeddings file to write)');
    if ((await stat(out).catch(() => undefined))?.isDirectory()) {
      throw new UsageError(`--out '${out}' is a folder; name the embeddings file`);
    }
    if (folder !== undefined && args.given.has('data')) {
      throw new UsageError(
        `give FOLDER or --data, not both (got '${folder}' and --data '${str(args.values.data)}')`,
      );
    }
    const data = dataSettings(args, loaded, folder);
    if (data === undefined)
      throw new UsageError('needs FOLDER or --data SOURCE (or data.source in the config file)');
    const settings = inferSettings(args, loaded);

    const model = await openModel(dir, settings);
    try {
      const sel = await openData({
        ...data,
        skipInvalid: Boolean(args.values['skip-invalid']),
        allowFlat: true,
      });
      reportWarnings(sel.warnings, io.err);
      const d = sel.dataset;
      const all = d.items.map((_, i) => i);
      const vectors = await embedItems(model, d, all, settings.batchSize);
      const items: EmbeddedItem[] = d.items.map((it) => ({
        id: it.id,
        ...(it.path !== undefined ? { path: it.path } : {}),
        ...(sel.layout !== 'flat' ? { class: it.className } : {}),
      }));
      await mkdir(dirname(out), { recursive: true });
      await saveEmbeddings(out, {
        embeddings: { dtype: 'float32', shape: [items.length, model.embeddingSize], data: vectors },
        items,
        model: modelFingerprint(model.artifact),
        dataset: d.name,
      });
      const size = (await stat(out)).size;
      const device = await model.device();
      if (args.values.json) {
        io.out(
          JSON.stringify(
            {
              out,
              images: items.length,
              embeddingSize: model.embeddingSize,
              bytes: size,
              data: sel.description,
              device,
            },
            null,
            2,
          ),
        );
        return;
      }
      io.out(`data        ${sel.description}`);
      io.out(
        `wrote ${out} (${count(items.length, 'embedding')} of ${model.embeddingSize} floats, ${bytes(size)})`,
      );
      io.out(deviceLine(device, model.precision));
    } finally {
      await model.dispose();
    }
  },
};
