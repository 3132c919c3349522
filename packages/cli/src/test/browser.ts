/**
 * A real browser for the web page's tests and benchmark: Debian's Chromium (or CHROME_PATH), headless,
 * driven by puppeteer-core, loading a static folder from 127.0.0.1 (sirv), with or without the
 * cross-origin isolation headers that wasm threads need.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser } from 'puppeteer-core';
import sirv from 'sirv';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser binary, or undefined (the browser tests then say they were skipped). */
export function chromiumPath(): string | undefined {
  const env = process.env.CHROME_PATH;
  if (env) return env;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Where a browser must be there (CI sets SIAMESE_REQUIRE_BROWSER=1 once it has installed one), a
 * missing one fails the test file instead of skipping it; elsewhere the skip is announced.
 */
export function requireBrowser(path: string | undefined, what: string): void {
  if (path) return;
  const message = `${what}: no Chromium (install Debian's chromium or set CHROME_PATH)`;
  if (process.env.SIAMESE_REQUIRE_BROWSER === '1')
    throw new Error(`${message}, and SIAMESE_REQUIRE_BROWSER=1`);
  console.warn(`${message}: browser tests skipped`);
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("no Chromium: install Debian's chromium or set CHROME_PATH");
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox; a closed network (CI) must
    // not see Chromium try Google's services at start.
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 (a secure context, like https); `isolated` adds COOP and COEP. */
export async function serveStatic(dir: string, o: { isolated?: boolean } = {}): Promise<StaticServer> {
  const isolated = o.isolated ?? true;
  const files = sirv(dir, {
    dev: true,
    setHeaders(res) {
      if (isolated) {
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      }
    },
  });
  const server = createServer((req, res) =>
    files(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
