/** This package's version, read from its own package.json. */
import { createRequire } from 'node:module';

export function serveVersion(): string {
  const pkg = createRequire(import.meta.url)('@siamese/serve/package.json') as { version?: unknown };
  return String(pkg.version);
}
