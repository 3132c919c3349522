import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SiameseServer, startServer } from './server.js';
import { fixture, IMAGES, makeModel, tempDir } from './test-util.js';

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Starts a server whose first-generation workers run with SIAMESE_FAILPOINT=spec. */
async function withFailpoint(
  spec: string,
  options: Parameters<typeof startServer>[0],
): Promise<SiameseServer> {
  process.env.SIAMESE_FAILPOINT = spec;
  try {
    return await startServer(options);
  } finally {
    delete process.env.SIAMESE_FAILPOINT;
  }
}

async function until(what: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('siamese serve under load and faults', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let image: string;
  let other: string;
  let server: SiameseServer | undefined;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'));
    image = (await fixture(IMAGES.circle)).toString('base64');
    other = (await fixture(IMAGES.square)).toString('base64');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => tmp?.remove());

  it('a full queue answers 503 with Retry-After at once, never a hang', async () => {
    server = await withFailpoint('serve-worker:delay:300', {
      model,
      port: 0,
      workers: 1,
      threads: 1,
      maxBatch: 1,
      maxQueue: 2,
    });
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(`${server!.url}/v1/embed`, { image: i % 2 ? image : other }).then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          body: await r.text().then(JSON.parse),
          at: Date.now() - started,
        })),
      ),
    );
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(3);
    for (const a of refused) {
      expect(a.retryAfter).toBe('1');
      expect(a.body.error.code).toBe('overloaded');
      // Refused at once: before the accepted requests (300 ms each, one at a time) were done.
      expect(a.at).toBeLessThan(Math.max(...answers.filter((x) => x.status === 200).map((x) => x.at)));
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^siamese_rejected_requests_total\\{reason="queue-full"\\} ${refused.length}$`, 'm'),
    );
  });

  it('close() drains: not ready at once, the request in flight is answered, then the workers stop', async () => {
    server = await withFailpoint('serve-worker:delay:500', { model, port: 0, workers: 1, threads: 1 });
    const s = server;
    const pending = post(`${s.url}/v1/embed`, { image });
    await until(async () => s.pool.busy === 1);
    const closed = s.close();
    expect(s.ready).toBe(false);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).toBe('close');
    await closed;
    expect(s.pool.slots.every((w) => w.state === 'closing' || w.state === 'dead')).toBe(true);
    expect(s.pool.slots[0]!.child.exitCode ?? s.pool.slots[0]!.child.signalCode).not.toBeNull();
    await expect(post(`${s.url}/v1/embed`, { image })).rejects.toThrow();
  });

  it('a request past its deadline is a 504', async () => {
    server = await withFailpoint('serve-worker:delay:1500', {
      model,
      port: 0,
      workers: 1,
      threads: 1,
      timeoutMs: 300,
    });
    const started = Date.now();
    const r = await post(`${server.url}/v1/embed`, { image });
    expect(r.status).toBe(504);
    expect((await r.text().then(JSON.parse)).error).toEqual({
      code: 'deadline',
      message: "the request's deadline passed while a worker ran it",
    });
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it('a worker killed mid-request fails that request fast with 503; a replacement serves the next', async () => {
    server = await withFailpoint('serve-worker:delay:2000', { model, port: 0, workers: 1, threads: 1 });
    const victim = server.pool.slots[0]!.child;
    const started = Date.now();
    const pending = post(`${server.url}/v1/compare`, { a: image, b: other });
    await until(async () => server!.pool.busy === 1);
    victim.kill('SIGKILL');
    const r = await pending;
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    const body = await r.text().then(JSON.parse);
    expect(body.error.code).toBe('worker-crashed');
    expect(body.error.message).toMatch(
      /^the inference worker stopped \(SIGKILL\) while running this request; retry it$/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    await until(async () => (await fetch(`${server!.url}/readyz`)).status === 200);
    expect(server.pool.slots[0]!.child.pid).not.toBe(victim.pid);
    const again = await post(`${server.url}/v1/compare`, { a: image, b: other });
    expect(again.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^siamese_worker_crashes_total 1$/m);
  });

  it('a worker that dies on its own (failpoint) takes only its batch; the other worker keeps serving', async () => {
    server = await withFailpoint('serve-worker:exit:2', {
      model,
      port: 0,
      workers: 2,
      threads: 1,
      maxBatch: 1,
    });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(`${server!.url}/v1/embed`, { image: i % 2 ? image : other }).then((r) => r.status),
      ),
    );
    expect(answers.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    expect(answers.filter((s) => s === 503).length).toBeLessThanOrEqual(2);
    expect(answers.filter((s) => s === 200).length).toBeGreaterThanOrEqual(8);
    await until(async () => server!.ready);
    expect((await post(`${server.url}/v1/embed`, { image })).status).toBe(200);
  });

  it('several workers under sustained concurrent load stay up', async () => {
    server = await startServer({ model, port: 0, workers: 2, threads: 1, maxBatch: 8 });
    const pids = server.pool.slots.map((s) => s.child.pid);
    const images = [
      image,
      other,
      (await fixture(IMAGES.ann)).toString('base64'),
      (await fixture(IMAGES.bob)).toString('base64'),
    ];
    let ok = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 25; i++) {
          const r = await post(`${server!.url}/v1/compare`, {
            a: images[(c + i) % 4],
            b: images[(c + i + 1) % 4],
          });
          if (r.status === 200) ok++;
          await r.arrayBuffer();
        }
      }),
    );
    expect(ok).toBe(200);
    expect(server.pool.slots.map((s) => s.child.pid)).toEqual(pids);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^siamese_worker_crashes_total 0$/m);
  });
});
