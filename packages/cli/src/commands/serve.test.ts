import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, copiesFolder, FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `siamese serve ...args` and resolves once it prints the address it listens on. */
function serve(args: readonly string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening {3}(http:\/\/\S+)/m.exec(out);
      if (m) resolve({ child, url: m[1]!, stdout: () => out, exited });
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('siamese serve (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let circle: string;
  let square: string;

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
    circle = (await readFile(join(FIXTURES, 'folder/circle/circle-1.png'))).toString('base64');
    square = (await readFile(join(FIXTURES, 'folder/square/square-1.gif'))).toString('base64');
  });
  afterAll(() => tmp.remove());

  it('SIGTERM: stops accepting, answers the requests in flight, exits 0', async () => {
    // Every job takes at least 600 ms, so requests are still in flight when SIGTERM arrives.
    const s = await serve([model, '--port', '0', '--workers', '1', '--threads', '1', '--max-batch', '2'], {
      SIAMESE_FAILPOINT: 'serve-worker:delay:600',
    });
    expect(s.stdout()).toMatch(/^serving {5}.* \(resnet10_w8, fp32, 64-float embeddings\)$/m);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const inFlight = Array.from({ length: 4 }, (_, i) =>
      post(`${s.url}/v1/compare`, { a: circle, b: i % 2 ? square : circle }).then((r) => r.status),
    );
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill('SIGTERM');
    const signalled = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    // Draining: not ready, and no new work (refused, or the listener is already closed).
    const late = await post(`${s.url}/v1/compare`, { a: circle, b: square }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    expect(await Promise.all(inFlight)).toEqual([200, 200, 200, 200]);
    expect(await s.exited).toEqual({ code: 0, signal: null });
    // Promptly: kept-alive connections are closed, not waited out (fastify keeps them 72 s).
    expect(Date.now() - signalled).toBeLessThan(30_000);
    expect(s.stdout()).toMatch(/^SIGTERM: draining \(no new requests; finishing those in flight\)$/m);
    expect(s.stdout()).toMatch(/^stopped$/m);
  }, 180_000);

  it('serves a gallery written by siamese embed, behind a bearer token', async () => {
    const gallery = await copiesFolder(join(tmp.path, 'gallery'), 1);
    const index = join(tmp.path, 'gallery.safetensors');
    expect((await siameseCli(['embed', model, gallery, '--out', index, '--device', 'cpu'])).code).toBe(0);
    const tokenFile = join(tmp.path, 'token');
    await writeFile(tokenFile, 'a-token-of-enough-length\n');
    const s = await serve([
      model,
      '--port',
      '0',
      '--workers',
      '1',
      '--gallery',
      index,
      '--token-file',
      tokenFile,
    ]);
    try {
      // The lines after 'listening' may reach the pipe in a later chunk.
      await vi.waitFor(
        () => expect(s.stdout()).toMatch(/^gallery {5}.*gallery\.safetensors \(5 enrolments, 5 images\)$/m),
        { timeout: 10_000 },
      );
      const unauthorized = await post(`${s.url}/v1/search`, { image: circle });
      expect(unauthorized.status).toBe(401);
      const r = await fetch(`${s.url}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer a-token-of-enough-length' },
        body: JSON.stringify({ image: circle, k: 2 }),
      });
      const body = await r.text().then(JSON.parse);
      expect(body.matches[0]).toMatchObject({
        rank: 1,
        id: 'circle/circle-1.png',
        label: 'circle',
        same: true,
      });
      expect(body.matches).toHaveLength(2);
    } finally {
      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
    }
  }, 180_000);

  it('bad flags are one line and exit 2', async () => {
    const cases: [string[], string][] = [
      [[model, '--port', '70000'], "siamese serve: --port must be at most 65535, got '70000'"],
      [[model, '--max-batch', '0'], "siamese serve: --max-batch must be a positive integer, got '0'"],
      [[model, '--device', 'tpu'], "siamese serve: --device 'tpu' is not one of auto, cuda, cpu"],
      [
        [model, '--token-file', join(tmp.path, 'missing')],
        `siamese serve: --token-file '${join(tmp.path, 'missing')}': cannot read it (ENOENT)`,
      ],
      [
        [join(tmp.path, 'nope'), '--port', '0'],
        `siamese serve: model: folder '${join(tmp.path, 'nope')}' does not exist`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await siameseCli(['serve', ...args]);
      expect(r.code).toBe(2);
      expect(r.errLines).toEqual([line]);
    }
    const short = join(tmp.path, 'short-token');
    await writeFile(short, 'abc');
    const r = await siameseCli(['serve', model, '--token-file', short]);
    expect(r.errLines).toEqual([
      `siamese serve: --token-file '${short}': the token must be one line of at least 16 characters without spaces`,
    ]);
  }, 180_000);
});
