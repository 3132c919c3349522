/**
 * The package in a real browser for its own tests: src/index.ts bundled by esbuild exactly as a
 * user's bundler would see it (platform browser, onnxruntime-web left to load from ./ort/), a page
 * that exposes it as `window.web`, a static server on 127.0.0.1 with cross-origin isolation, and
 * headless Chromium (Debian's chromium or CHROME_PATH).
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sirv from 'sirv';

/** onnxruntime-web's entry points and files, as build-page.mjs (the package's test script runs it first) wrote them. */
export const ORT: { entries: Record<string, string>; files: string[] } = JSON.parse(
  readFileSync(join(import.meta.dirname, '../dist/page/ort-files.json'), 'utf8'),
);

/** Bundles `entry` for the browser; onnxruntime-web is left to load from ./ort/. */
export async function bundle(entry: string, outfile: string): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'ort-outside',
        setup(b) {
          b.onResolve({ filter: /^onnxruntime-web(\/.*)?$/ }, (args) => ({
            path: `./ort/${ORT.entries[args.path] ?? 'missing.mjs'}`,
            external: true,
          }));
        },
      },
    ],
  });
  return Object.values(result.metafile.outputs).reduce((s, o) => s + (o.entryPoint ? o.bytes : 0), 0);
}

/**
 * Where a browser must be there (CI sets SIAMESE_REQUIRE_BROWSER=1 once it has installed one), a
 * missing one fails the test file instead of skipping it; elsewhere the skip is announced.
 */
export function requireBrowser(path: string | undefined): void {
  if (path) return;
  const message = "no Chromium (install Debian's chromium or set CHROME_PATH)";
  if (process.env.SIAMESE_REQUIRE_BROWSER === '1')
    throw new Error(`${message}, and SIAMESE_REQUIRE_BROWSER=1`);
  console.warn(`${message}: browser tests skipped`);
}

export function chromiumPath(): string | undefined {
  return (
    process.env.CHROME_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))
  );
}

export interface TestSite {
  readonly url: string;
  readonly dir: string;
  /** Writes a file the page can fetch at `url + name`. */
  put(name: string, bytes: Uint8Array | string): Promise<void>;
  open(path?: string): Promise<Page>;
  /** The end of what Chromium printed (its GPU process's complaints among it) and the pages' console. */
  log(): string;
  close(): Promise<void>;
}

/**
 * `work`, or after `ms` an error that says what the page was doing (`window.phase`) and what
 * Chromium printed: a hang in CI must say where it hung.
 */
export async function within<T>(ms: number, site: TestSite, page: Page, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const phase = await Promise.race([
        page.evaluate(() => String((window as unknown as { phase?: string }).phase)),
        new Promise<string>((r) => setTimeout(() => r('(the page does not answer)'), 5000)),
      ]).catch((e: Error) => `(the page does not answer: ${e.message})`);
      reject(
        new Error(
          `still waiting after ${ms / 1000} s, at ${phase}; Chromium and the page said:\n${site.log()}`,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Chromium flags that give headless Chromium a WebGPU adapter without a GPU: SwiftShader, Vulkan
 * on the CPU. Slow, but it runs onnxruntime-web's WebGPU execution provider for real. On a busy
 * machine one shader compile can outlast the GPU watchdog, which would kill the GPU process.
 */
export const SOFTWARE_WEBGPU = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-gpu-watchdog',
];

/** A closed network (CI): Chromium must not try to reach Google's services at start. */
const OFFLINE = [
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * A folder with the bundled package as ./web.js, onnxruntime-web (wasm and WebGPU builds) in
 * ./ort/, served and opened in Chromium started with `flags`.
 */
export async function testSite(flags: readonly string[] = []): Promise<TestSite> {
  const dir = await mkdtemp(join(tmpdir(), 'siamese-web-test-'));
  await bundle(join(import.meta.dirname, 'index.ts'), join(dir, 'web.js'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module">import * as web from "./web.js"; window.web = web; window.ready = true;</script>',
  );
  const ort = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  await mkdir(join(dir, 'ort'));
  for (const f of ORT.files) await copyFile(join(ort, f), join(dir, 'ort', f));
  const files = sirv(dir, {
    dev: true,
    setHeaders(res) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    },
  });
  const server = createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium');
  const browser: Browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...OFFLINE, ...flags],
  });
  const lines: string[] = [];
  const note = (line: string) => {
    lines.push(line.trimEnd());
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  browser.process()?.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) note(`chromium: ${line}`);
  });
  return {
    url,
    dir,
    put: (name, bytes) => writeFile(join(dir, name), bytes),
    log: () => lines.join('\n').slice(-8000),
    async open(path = '') {
      const page = await browser.newPage();
      page.on('console', (m) => note(`page ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => note(`page error: ${e instanceof Error ? e.message : String(e)}`));
      await page.goto(url + path);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, {
        polling: 50,
      });
      return page;
    },
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
