import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveWeights } from '../weights/file.js';
import { EMBEDDINGS_FORMAT, loadEmbeddings, saveEmbeddings } from './file.js';

describe('embeddings files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'siamese-embeddings-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips embeddings, items, model and dataset', async () => {
    const path = join(dir, 'g.safetensors');
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    await saveEmbeddings(path, {
      embeddings: { dtype: 'float32', shape: [2, 3], data },
      items: [
        { id: 'a', class: 'x' },
        { id: 'b', path: '/p/b.png' },
      ],
      model: 'f'.repeat(64),
      dataset: 'gallery',
    });
    const back = await loadEmbeddings(path);
    expect(back.embeddings.shape).toEqual([2, 3]);
    expect(Array.from(back.embeddings.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.items).toEqual([
      { id: 'a', class: 'x' },
      { id: 'b', path: '/p/b.png' },
    ]);
    expect([back.model, back.dataset]).toEqual(['f'.repeat(64), 'gallery']);
  });

  it('refuses a rows/items mismatch when writing, and other safetensors files when reading', async () => {
    await expect(
      saveEmbeddings(join(dir, 'bad.safetensors'), {
        embeddings: { dtype: 'float32', shape: [2, 1], data: new Float32Array(2) },
        items: [{ id: 'a' }],
        model: '',
        dataset: '',
      }),
    ).rejects.toThrow('do not match 1 items');
    const weights = join(dir, 'weights.safetensors');
    await saveWeights(weights, [['w', { dtype: 'float32', shape: [1], data: new Float32Array(1) }]]);
    await expect(loadEmbeddings(weights)).rejects.toThrow(
      `index: ${weights}: not an embeddings file from 'siamese embed'`,
    );
    const text = join(dir, 'text.safetensors');
    await writeFile(text, 'hello');
    await expect(loadEmbeddings(text)).rejects.toThrow(/^index: /);
    expect(EMBEDDINGS_FORMAT).toBe('siamese-embeddings');
  });
});
