/**
 * The page `siamese export MODEL --web OUT/` writes: drop two images to get the match probability
 * and the decision; enrol a few images under names and search them. Every failure (a model that
 * does not load, a file that is not an image) is shown on the page, never only in the console.
 * `?model=URL` loads another model; `?ep=wasm|webgpu`, `?threads=N` and `?worker=0` set load options.
 */
import { Gallery, type LoadOptions, load, type WebSiamese } from '../src/index.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

function showError(e: unknown): void {
  const el = $('error');
  el.textContent = e instanceof Error ? e.message : String(e);
  el.hidden = false;
}

function clearError(): void {
  $('error').hidden = true;
}

function options(): LoadOptions {
  const ep = params.get('ep');
  const threads = params.get('threads');
  return {
    // onnxruntime-web's files sit in ./ort/ next to this page (siamese export --web copies them).
    wasmPaths: new URL('./ort/', location.href).href,
    ...(ep === 'wasm' || ep === 'webgpu' || ep === 'auto' ? { executionProvider: ep } : {}),
    ...(threads ? { threads: Number(threads) } : {}),
    ...(params.get('worker') === '0' ? { worker: false } : {}),
  };
}

function describe(model: WebSiamese): string {
  const { runtime, preprocess, precision, preprocessing, threshold } = model.info;
  const parts = [
    `${runtime.executionProvider}${runtime.executionProvider === 'wasm' ? ` SIMD, ${runtime.threads} thread${runtime.threads === 1 ? '' : 's'}${runtime.proxy ? ' in a worker' : ''}` : ''}`,
    `${precision}`,
    `${preprocessing.channels === 1 ? 'grayscale' : 'RGB'} ${preprocessing.width}x${preprocessing.height} (${preprocessing.resize})`,
    threshold ? `threshold ${threshold.probability.toFixed(3)}` : 'no threshold',
    `preprocessing on the ${preprocess.where}`,
  ];
  const notes = [
    ...runtime.tried.map((t) => `${t.provider} not used: ${t.error}`),
    ...(runtime.threadsReason ? [`one thread: ${runtime.threadsReason}`] : []),
    ...(preprocess.reason ? [`preprocessing on the main thread: ${preprocess.reason}`] : []),
  ];
  return [parts.join(' · '), ...notes].join('\n');
}

async function main(): Promise<void> {
  const modelUrl = params.get('model') ?? './model/siamese-web.json';
  let model: WebSiamese;
  try {
    model = await load(modelUrl, options());
  } catch (e) {
    $('status').textContent = 'The model could not be loaded.';
    throw e;
  }
  $('status').textContent = 'Ready: drop two images.';
  $('runtime').textContent = describe(model);
  const app = { model, gallery: undefined as Gallery | undefined };
  (window as unknown as { siameseApp: typeof app }).siameseApp = app;

  const slots: Record<'a' | 'b', File | undefined> = { a: undefined, b: undefined };
  // Each new file starts a comparison; only the latest one may write the result.
  let latest = 0;
  const compare = async () => {
    const { a, b } = slots;
    if (!a || !b) return;
    const mine = ++latest;
    const result = $('result');
    result.textContent = 'Comparing…';
    try {
      const s = await model.score(a, b);
      if (mine !== latest) return;
      const verdict = s.same === undefined ? '' : s.same ? ' — same' : ' — different';
      result.textContent = `probability ${s.probability.toFixed(4)}${verdict}`;
      // For scripts and tests: which files this result is for, and its exact numbers.
      Object.assign(result.dataset, {
        pair: `${a.name}|${b.name}`,
        probability: String(s.probability),
        same: String(s.same),
      });
    } catch (e) {
      if (mine !== latest) return;
      result.textContent = '';
      showError(e);
    }
  };
  for (const slot of ['a', 'b'] as const) {
    const label = document.querySelector<HTMLLabelElement>(`.drop[data-slot="${slot}"]`) as HTMLLabelElement;
    const input = $<HTMLInputElement>(`file-${slot}`);
    const take = (file: File | undefined) => {
      if (!file) return;
      clearError();
      slots[slot] = file;
      const img = label.querySelector('img') as HTMLImageElement;
      if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(file);
      img.hidden = false;
      void compare();
    };
    input.addEventListener('change', () => take(input.files?.[0]));
    label.addEventListener('dragover', (e) => {
      e.preventDefault();
      label.classList.add('over');
    });
    label.addEventListener('dragleave', () => label.classList.remove('over'));
    label.addEventListener('drop', (e) => {
      e.preventDefault();
      label.classList.remove('over');
      take(e.dataTransfer?.files[0]);
    });
  }

  $('enrol').addEventListener('submit', (e) => {
    e.preventDefault();
    clearError();
    const name = $<HTMLInputElement>('enrol-name').value.trim();
    const files = [...($<HTMLInputElement>('enrol-file').files ?? [])];
    (async () => {
      for (const [i, file] of files.entries()) {
        const embedding = await model.embed(file);
        app.gallery ??= new Gallery(embedding.length);
        app.gallery.add(files.length === 1 ? name : `${name} #${i + 1}`, embedding);
      }
      $('gallery').replaceChildren(
        ...(app.gallery?.ids ?? []).map((id) =>
          Object.assign(document.createElement('li'), { textContent: id }),
        ),
      );
    })().catch(showError);
  });
  $<HTMLInputElement>('search-file').addEventListener('change', (e) => {
    clearError();
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    (async () => {
      if (!app.gallery?.size) throw new Error('Enrol at least one image before searching.');
      const hits = await model.search(file, app.gallery, { k: 5 });
      $('hits').replaceChildren(
        ...hits.map((h) =>
          Object.assign(document.createElement('li'), {
            textContent: `${h.id}: ${h.probability.toFixed(4)}${h.same === undefined ? '' : h.same ? ' (same)' : ''}`,
          }),
        ),
      );
    })().catch(showError);
  });
}

main().catch(showError);
