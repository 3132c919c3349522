import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEmbeddings } from '@siamese/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SiameseServer, startServer } from './server.js';
import { fixture, form, IMAGES, makeModel, SAME, tempDir } from './test-util.js';

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const b64 = (b: Buffer) => b.toString('base64');

describe('siamese serve: every endpoint on a real server', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: SiameseServer;
  let url: string;
  let circle: Buffer;
  let square: Buffer;
  let galleryFile: string;

  beforeAll(async () => {
    tmp = await tempDir();
    const model = await makeModel(join(tmp.path, 'model'));
    galleryFile = join(tmp.path, 'gallery.safetensors');
    server = await startServer({ model, port: 0, workers: 2, threads: 1, gallery: galleryFile });
    url = server.url;
    circle = await fixture(IMAGES.circle);
    square = await fixture(IMAGES.square);
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  it('binds 127.0.0.1 by default', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('compares two uploads (multipart) and two base64 images (JSON) alike', async () => {
    const r = await fetch(`${url}/v1/compare`, { method: 'POST', body: form({ a: circle, b: square }) });
    expect(r.status).toBe(200);
    const m = await r.text().then(JSON.parse);
    expect(m.probability).toBeGreaterThan(0);
    expect(m.probability).toBeLessThan(SAME);
    expect(m.threshold).toEqual({ probability: 0.5, method: 'eer' });
    expect(m.same).toBe(m.probability >= 0.5);
    const j = await (await fetch(`${url}/v1/compare`, json({ a: b64(circle), b: b64(square) })))
      .text()
      .then(JSON.parse);
    expect(j.probability).toBeCloseTo(m.probability, 6);
    // Identical images: exactly the distance head's maximum.
    const same = await (await fetch(`${url}/v1/compare`, json({ a: b64(circle), b: b64(circle) })))
      .text()
      .then(JSON.parse);
    expect(same.probability).toBeCloseTo(SAME, 6);
    expect(same.same).toBe(true);
  });

  it('embeds an image', async () => {
    const r = await fetch(`${url}/v1/embed`, { method: 'POST', body: form({ image: circle }) });
    expect(r.status).toBe(200);
    const e = await r.text().then(JSON.parse);
    expect(e.size).toBe(64);
    expect(e.embedding).toHaveLength(64);
    const j = await (await fetch(`${url}/v1/embed`, json({ image: `data:image/png;base64,${b64(circle)}` })))
      .text()
      .then(JSON.parse);
    e.embedding.forEach((v: number, i: number) => {
      expect(j.embedding[i]).toBeCloseTo(v, 5);
    });
  });

  it('enrols, searches, refuses a duplicate id, removes, and keeps the gallery in its file', async () => {
    const triangle = await fixture(IMAGES.triangle);
    let r = await fetch(`${url}/v1/gallery`, {
      method: 'POST',
      body: form({ image: [circle, await fixture(IMAGES.circle2)] }, { id: 'c1', label: 'circle' }),
    });
    expect(r.status).toBe(201);
    expect(await r.text().then(JSON.parse)).toEqual({ id: 'c1', label: 'circle', images: 2, gallery: 1 });
    r = await fetch(`${url}/v1/gallery`, json({ id: 's1', label: 'square', images: [b64(square)] }));
    expect(r.status).toBe(201);
    r = await fetch(`${url}/v1/gallery`, json({ id: 't1', images: [b64(triangle)] }));
    expect((await r.text().then(JSON.parse)).label).toBeNull();
    r = await fetch(`${url}/v1/gallery`, json({ id: 's1', label: 'square', images: [b64(square)] }));
    expect(r.status).toBe(409);
    expect((await r.text().then(JSON.parse)).error).toMatchObject({ code: 'conflict', field: 'id' });

    const s = await (
      await fetch(`${url}/v1/search`, { method: 'POST', body: form({ image: square }, { k: '2' }) })
    )
      .text()
      .then(JSON.parse);
    expect(s.gallery).toBe(3);
    expect(s.matches).toHaveLength(2);
    expect(s.matches[0]).toMatchObject({ rank: 1, id: 's1', label: 'square', same: true });
    expect(s.matches[0].probability).toBeCloseTo(SAME, 6);
    const c = await (await fetch(`${url}/v1/search`, json({ image: b64(circle) }))).text().then(JSON.parse);
    expect(c.matches.map((m: { id: string }) => m.id)).toHaveLength(3);
    expect(c.matches[0].id).toBe('c1');

    let file = await loadEmbeddings(galleryFile);
    expect(file.embeddings.shape).toEqual([4, 64]);
    expect(file.model).toBe(server.model.fingerprint);
    expect(file.items.map((i) => i.id)).toEqual(['c1', 'c1', 's1', 't1']);

    r = await fetch(`${url}/v1/gallery/c1`, { method: 'DELETE' });
    expect(await r.text().then(JSON.parse)).toEqual({ id: 'c1', removed: 2, gallery: 2 });
    r = await fetch(`${url}/v1/gallery/c1`, { method: 'DELETE' });
    expect(r.status).toBe(404);
    expect((await r.text().then(JSON.parse)).error.message).toBe("id 'c1' is not enrolled");
    file = await loadEmbeddings(galleryFile);
    expect(file.items).toEqual([{ id: 's1', class: 'square' }, { id: 't1' }]);
  });

  it('reports the model, liveness and readiness', async () => {
    const m = await (await fetch(`${url}/v1/model`)).text().then(JSON.parse);
    expect(m).toMatchObject({
      architecture: 'resnet10_w8',
      embeddingSize: 64,
      input: { channels: 1, height: 28, width: 28 },
      threshold: { probability: 0.5, method: 'eer' },
      precision: 'fp32',
      metrics: { rocAuc: 0.75 },
      provider: 'cpu',
      workers: 2,
      threadsPerWorker: 1,
    });
    expect(m.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(m)).not.toContain(tmp.path);
    expect(await (await fetch(`${url}/healthz`)).text().then(JSON.parse)).toEqual({ ok: true });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text().then(JSON.parse)).toEqual({
      ready: true,
      workers: 2,
      warm: 2,
      draining: false,
    });
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = await (await fetch(`${url}/openapi.json`)).text().then(JSON.parse);
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of [
      '/v1/compare',
      '/v1/embed',
      '/v1/search',
      '/v1/gallery',
      '/v1/model',
      '/healthz',
      '/readyz',
      '/metrics',
    ])
      expect(doc.paths).toHaveProperty([p]);
    expect(doc.paths['/v1/gallery/{id}']).toHaveProperty('delete');
    const compare = doc.paths['/v1/compare'].post.requestBody.content;
    expect(Object.keys(compare).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(compare['application/json'].schema.required).toEqual(['a', 'b']);
  });

  it('batches concurrent requests, visible in /metrics', async () => {
    const images = [circle, square, await fixture(IMAGES.ann), await fixture(IMAGES.bob)];
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        fetch(`${url}/v1/compare`, json({ a: b64(images[i % 4]!), b: b64(images[(i + 1) % 4]!) })).then(
          (r) => r.status,
        ),
      ),
    );
    expect(results.every((s) => s === 200)).toBe(true);
    const text = await (await fetch(`${url}/metrics`)).text();
    const sum = Number(/^siamese_batch_requests_sum (\d+)/m.exec(text)?.[1]);
    const count = Number(/^siamese_batch_requests_count (\d+)/m.exec(text)?.[1]);
    // More requests than batches: some batches held several requests.
    expect(sum).toBeGreaterThan(count);
    expect(Number(/^siamese_batch_deduplicated_images_total (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(
      /^siamese_http_requests_total\{route="\/v1\/compare",method="POST",status="200"\} \d+/m,
    );
    expect(text).toMatch(
      /^siamese_http_request_duration_seconds_bucket\{le="0.5",route="\/v1\/compare"\} \d+/m,
    );
    expect(text).toMatch(/^siamese_queue_depth 0$/m);
    expect(text).toMatch(/^siamese_workers_warm 2$/m);
  });

  it('a gallery file outlives the server: a restart searches what was enrolled', async () => {
    const before = await readFile(galleryFile);
    expect(before.length).toBeGreaterThan(0);
  });
});
