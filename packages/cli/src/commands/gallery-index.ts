/**
 * `siamese index build|add|remove|info`: a gallery index for search at scale (@siamese/gallery).
 * build embeds a data source into an ANN gallery folder (usearch's HNSW over the embeddings, the
 * embeddings and items beside it); add and remove change one in place (an embeddings file from
 * `siamese embed` too); info describes one. Every write replaces the gallery as one unit.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxSiamese } from '@siamese/backend-onnx';
import { modelFingerprint } from '@siamese/core';
import type { BruteForceGallery, GalleryInfo, GalleryItem, UsearchGallery } from '@siamese/gallery';
import { configFor } from '../config/load.js';
import { UsageError } from '../errors.js';
import { count, openData, reportWarnings } from '../infer/data.js';
import { embedItems } from '../infer/embed.js';
import { openModel } from '../infer/model.js';
import type { Output } from '../io.js';
import { formatDuration } from '../train/progress.js';
import { bytes, deviceLine } from './format.js';
import { dataOptions, dataSettings, inferOptions, inferSettings, jsonOption } from './options.js';
import { oneOfFlag, positiveInt, str } from './parse.js';
import type { CommandDef, ParsedArgs } from './types.js';

const ACTIONS = ['build', 'add', 'remove', 'info'] as const;
type Action = (typeof ACTIONS)[number];

const USAGE: Record<Action, string> = {
  build: 'index build MODEL [FOLDER] --out GALLERY (or --data SOURCE)',
  add: 'index add MODEL GALLERY [FOLDER] (or --data SOURCE)',
  remove: 'index remove GALLERY --id ID ... (or --label NAME ...)',
  info: 'index info GALLERY',
};

/** @siamese/gallery, loaded when a command runs (usearch's binary is loaded on first use there). */
async function loadGallery(): Promise<typeof import('@siamese/gallery')> {
  return import('@siamese/gallery');
}

/** Gallery errors are the user's input (a file, an id, a model): one line, exit 2. */
async function userErrors<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Error && e.name === 'GalleryError') throw new UsageError(e.message, { cause: e });
    throw e;
  }
}

/** Progress lines on stderr: at most one every few seconds, and the last one. */
function progress(io: Output, what: string): (done: number, total: number) => void {
  const started = performance.now();
  let last = -Infinity;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < 5000) return;
    last = now;
    const s = (now - started) / 1000;
    const eta = done > 0 && done < total ? `, ETA ${formatDuration((s / done) * (total - done))}` : '';
    io.err(
      `${what} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${Math.floor((100 * done) / total)}%, ${formatDuration(s)}${eta})`,
    );
  };
}

type DataRequest = NonNullable<ReturnType<typeof dataSettings>>;

/** The data source of build and add, checked before the model is opened. */
async function dataRequest(args: ParsedArgs, folder: string | undefined): Promise<DataRequest> {
  const loaded = await configFor(args);
  if (folder !== undefined && args.given.has('data')) {
    throw new UsageError(
      `give FOLDER or --data, not both (got '${folder}' and --data '${str(args.values.data)}')`,
    );
  }
  const data = dataSettings(args, loaded, folder);
  if (data === undefined)
    throw new UsageError('needs FOLDER or --data SOURCE (or data.source in the config file)');
  return data;
}

/** Embeds the data source in chunks, reporting progress; the items and their embeddings. */
async function embedSource(
  model: OnnxSiamese,
  args: ParsedArgs,
  data: DataRequest,
  io: Output,
  /** Checks the items before any image is embedded. */
  check: (items: readonly GalleryItem[]) => void = () => undefined,
): Promise<{ items: GalleryItem[]; embeddings: Float32Array; description: string; dataset: string }> {
  const settings = inferSettings(args, await configFor(args));
  const sel = await openData({ ...data, skipInvalid: Boolean(args.values['skip-invalid']), allowFlat: true });
  reportWarnings(sel.warnings, io.err);
  const d = sel.dataset;
  const items: GalleryItem[] = d.items.map((it) => ({
    id: it.id,
    ...(sel.layout !== 'flat' ? { label: it.className } : {}),
    ...(it.path !== undefined ? { path: it.path } : {}),
  }));
  check(items);
  const n = d.items.length;
  const dim = model.embeddingSize;
  const embeddings = new Float32Array(n * dim);
  const report = progress(io, 'embedded');
  const step = Math.max(settings.batchSize, 1024);
  for (let start = 0; start < n; start += step) {
    const rows = Array.from({ length: Math.min(step, n - start) }, (_, i) => start + i);
    embeddings.set(await embedItems(model, d, rows, settings.batchSize), start * dim);
    report(start + rows.length, n);
  }
  return { items, embeddings, description: sel.description, dataset: d.name };
}

async function sizeOnDisk(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await sizeOnDisk(join(path, e));
  return total;
}

function infoLines(path: string, info: GalleryInfo, size: number): string[] {
  const lines = [
    `gallery     ${path} (${info.kind === 'usearch' ? 'ANN index folder' : 'embeddings file, searched exactly'}, ${bytes(size)})`,
    `items       ${info.size.toLocaleString('en-US')}${info.dataset ? ` from ${info.dataset}` : ''}`,
    `embeddings  ${info.dimension} floats, compared by ${info.metric === 'l2' ? 'L2 distance' : 'cosine similarity'}`,
    `model       ${info.model}`,
  ];
  if (info.ann) {
    const a = info.ann;
    lines.push(
      `ann         ${a.library} ${a.index}: connectivity ${a.connectivity}, expansion add ${a.expansionAdd} / search ${a.expansionSearch}, ${a.quantization}`,
    );
  }
  return lines;
}

function annSettings(args: ParsedArgs) {
  const v = args.values;
  return {
    connectivity: positiveInt('connectivity', String(v.connectivity)),
    expansionAdd: positiveInt('expansion-add', String(v['expansion-add'])),
    expansionSearch: positiveInt('expansion-search', String(v['expansion-search'])),
    quantization: oneOfFlag('quantization', String(v.quantization), ['f32', 'f16'] as const),
  };
}

async function checkOut(out: string | undefined): Promise<string> {
  if (out === undefined) throw new UsageError('needs --out GALLERY (the gallery folder to write)');
  const s = await stat(out).catch(() => undefined);
  if (s && !s.isDirectory())
    throw new UsageError(
      `--out '${out}' is a file; a gallery index is a folder (name a new or existing one)`,
    );
  return out;
}

async function build(args: ParsedArgs, io: Output): Promise<void> {
  const [, dir, folder, extra] = args.positionals as [
    string,
    string | undefined,
    string | undefined,
    string?,
  ];
  if (dir === undefined || extra !== undefined) throw new UsageError(`usage: siamese ${USAGE.build}`);
  const out = await checkOut(str(args.values.out));
  const ann = annSettings(args);
  const data = await dataRequest(args, folder);
  const g = await loadGallery();
  const model = await openModel(dir, inferSettings(args, await configFor(args)));
  try {
    const plan = g.searchPlan(model.artifact.config, model.artifact.weights);
    const source = await embedSource(model, args, data, io);
    const started = performance.now();
    const gallery = g.UsearchGallery.create({
      model: modelFingerprint(model.artifact),
      dimension: model.embeddingSize,
      metric: plan.metric,
      dataset: source.dataset,
      ...ann,
    });
    await userErrors(() =>
      gallery.add(source.items, source.embeddings, { onProgress: progress(io, 'indexed') }),
    );
    await gallery.save(out);
    const seconds = (performance.now() - started) / 1000;
    const size = await sizeOnDisk(out);
    const device = await model.device();
    if (args.values.json) {
      io.out(
        JSON.stringify(
          {
            out,
            ...gallery.info(),
            bytes: size,
            plan,
            data: source.description,
            indexSeconds: seconds,
            device,
          },
          null,
          2,
        ),
      );
      return;
    }
    io.out(`data        ${source.description}`);
    io.out(
      `wrote ${out} (${count(source.items.length, 'item')}, ${model.embeddingSize} floats each, ${bytes(size)}; indexed in ${formatDuration(seconds)})`,
    );
    io.out(`search      ${plan.reason}`);
    io.out(deviceLine(device, model.precision));
  } finally {
    await model.dispose();
  }
}

type AnyGallery = UsearchGallery | BruteForceGallery;

async function openChecked(path: string, model?: OnnxSiamese): Promise<AnyGallery> {
  const g = await loadGallery();
  const metric = model ? g.searchPlan(model.artifact.config, model.artifact.weights).metric : undefined;
  const gallery = await userErrors(() => g.openGallery(path, metric ? { metric } : {}));
  if (model) {
    const info = gallery.info();
    await userErrors(async () =>
      g.checkModel(
        info,
        { fingerprint: modelFingerprint(model.artifact), dimension: model.embeddingSize },
        path,
      ),
    );
  }
  return gallery;
}

async function add(args: ParsedArgs, io: Output): Promise<void> {
  const [, dir, path, folder] = args.positionals as [string, string | undefined, string | undefined, string?];
  if (dir === undefined || path === undefined) throw new UsageError(`usage: siamese ${USAGE.add}`);
  const data = await dataRequest(args, folder);
  const model = await openModel(dir, inferSettings(args, await configFor(args)));
  try {
    const gallery = await openChecked(path, model);
    const before = gallery.info().size;
    const source = await embedSource(model, args, data, io, (items) => {
      const known = new Set(gallery.items().map((it) => it.id));
      const twice = items.find((it) => known.has(it.id));
      if (twice) throw new UsageError(`item id '${twice.id}' is already in the gallery; remove it first`);
    });
    await userErrors(() =>
      gallery.add(source.items, source.embeddings, { onProgress: progress(io, 'indexed') }),
    );
    await gallery.save(path);
    const info = gallery.info();
    if (args.values.json) {
      io.out(JSON.stringify({ gallery: path, added: source.items.length, before, ...info }, null, 2));
      return;
    }
    io.out(`data        ${source.description}`);
    io.out(
      `added ${count(source.items.length, 'item')} to ${path}: ${info.size.toLocaleString('en-US')} now (was ${before.toLocaleString('en-US')})`,
    );
  } finally {
    await model.dispose();
  }
}

async function remove(args: ParsedArgs, io: Output): Promise<void> {
  const [, path, extra] = args.positionals as [string, string | undefined, string?];
  if (path === undefined || extra !== undefined) throw new UsageError(`usage: siamese ${USAGE.remove}`);
  const ids = (args.values.id as string[] | undefined) ?? [];
  const labels = new Set((args.values.label as string[] | undefined) ?? []);
  if (ids.length === 0 && labels.size === 0)
    throw new UsageError('needs --id ID or --label NAME (repeatable)');
  const gallery = await openChecked(path);
  const known = new Set(gallery.items().map((it) => it.id));
  const present = new Set(gallery.items().map((it) => it.label));
  const missing = ids.filter((id) => !known.has(id));
  const byLabel = gallery
    .items()
    .filter((it) => it.label !== undefined && labels.has(it.label))
    .map((it) => it.id);
  const before = gallery.info().size;
  const removed = await gallery.remove([...new Set([...ids, ...byLabel])]);
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((id) => `'${id}'`);
    io.err(
      `warning: ${count(missing.length, 'id')} not in the gallery: ${shown.join(', ')}${missing.length > 5 ? ', ...' : ''}`,
    );
  }
  const absent = [...labels].filter((l) => !present.has(l));
  if (absent.length > 0) io.err(`warning: no items with label ${absent.map((l) => `'${l}'`).join(', ')}`);
  if (removed > 0) await gallery.save(path);
  const size = gallery.info().size;
  if (args.values.json) {
    io.out(JSON.stringify({ gallery: path, removed, before, size, missing }, null, 2));
    return;
  }
  io.out(
    `removed ${count(removed, 'item')} from ${path}: ${size.toLocaleString('en-US')} left${removed === 0 ? ' (unchanged)' : ''}`,
  );
}

async function info(args: ParsedArgs, io: Output): Promise<void> {
  const [, path, extra] = args.positionals as [string, string | undefined, string?];
  if (path === undefined || extra !== undefined) throw new UsageError(`usage: siamese ${USAGE.info}`);
  const gallery = await openChecked(path);
  const i = gallery.info();
  const size = await sizeOnDisk(path);
  const labels = new Set(
    gallery
      .items()
      .map((it) => it.label)
      .filter((l) => l !== undefined),
  ).size;
  if (args.values.json) {
    io.out(JSON.stringify({ gallery: path, ...i, labels, bytes: size }, null, 2));
    return;
  }
  for (const line of infoLines(path, i, size)) io.out(line);
  io.out(`labels      ${labels.toLocaleString('en-US')}`);
}

export const galleryIndex: CommandDef = {
  name: 'index',
  summary: 'build, grow, shrink and describe a gallery index for search at scale (ANN + the head)',
  positionals: ['build|add|remove|info', 'MODEL|GALLERY', '[GALLERY|FOLDER]', '[FOLDER]'],
  options: {
    out: { type: 'string', value: 'GALLERY', description: 'build: the gallery folder to write' },
    ...dataOptions,
    'skip-invalid': {
      type: 'boolean',
      default: false,
      description: 'build, add: leave out unreadable images (a warning each) instead of stopping',
    },
    id: { type: 'string', value: 'ID', multiple: true, description: 'remove: an item id (repeatable)' },
    label: {
      type: 'string',
      value: 'NAME',
      multiple: true,
      description: 'remove: every item of this label (class) (repeatable)',
    },
    connectivity: {
      type: 'string',
      value: 'M',
      default: '16',
      description: 'build: HNSW edges per node (more: better recall, more memory)',
    },
    'expansion-add': {
      type: 'string',
      value: 'N',
      default: '64',
      description: 'build: HNSW candidate list while inserting (more: better graph, slower build)',
    },
    'expansion-search': {
      type: 'string',
      value: 'N',
      default: '128',
      description: 'build: HNSW candidate list while searching (search --expansion-search overrides it)',
    },
    quantization: {
      type: 'string',
      value: 'f32|f16',
      default: 'f32',
      description: 'build: how the graph stores vectors (f16: half the memory; re-ranking always uses f32)',
    },
    ...inferOptions,
    json: jsonOption,
  },
  details: `${Object.values(USAGE)
    .map((u) => `siamese ${u}`)
    .join(
      '; ',
    )}. build embeds every image of FOLDER or --data (progress on stderr) into a new gallery folder: an HNSW graph (usearch) over the embeddings, by L2 distance, or by cosine for a cosine head; the float32 embeddings and the items (id, class as label, file) beside it. search --index GALLERY then finds candidates in the graph and re-ranks them with the model's head. add embeds more images into an existing gallery (a folder, or an embeddings file from siamese embed); remove drops items by id or label; info describes a gallery. A gallery made by another model (another embedding size or other weights) is refused. Writes replace the gallery as one unit: a reader sees the old one or the new one.`,
  examples: [
    'siamese index build model gallery/ --out gallery.index',
    'siamese index build model --data mnist --out mnist.index --quantization f16',
    'siamese index add model gallery.index new-people/',
    'siamese index remove gallery.index --id ann/ann-1.png --label bob',
    'siamese index info gallery.index',
  ],
  async run(args, io) {
    const action = args.positionals[0]!;
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown action '${action}' (actions: ${ACTIONS.join(', ')})`);
    }
    const a = action as Action;
    for (const flag of [
      'out',
      'connectivity',
      'expansion-add',
      'expansion-search',
      'quantization',
    ] as const) {
      if (a !== 'build' && args.given.has(flag)) throw new UsageError(`--${flag} is for index build only`);
    }
    for (const flag of ['id', 'label'] as const) {
      if (a !== 'remove' && args.given.has(flag)) throw new UsageError(`--${flag} is for index remove only`);
    }
    if ((a === 'remove' || a === 'info') && (args.given.has('data') || args.given.has('split')))
      throw new UsageError(`--data and --split are for index build and add`);
    switch (a) {
      case 'build':
        return build(args, io);
      case 'add':
        return add(args, io);
      case 'remove':
        return remove(args, io);
      case 'info':
        return info(args, io);
    }
  },
};
