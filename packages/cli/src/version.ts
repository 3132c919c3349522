/** The installed CLI's version, read from its own package.json (exported as `./package.json`). */
import { createRequire } from 'node:module';

export function cliVersion(): string {
  // Resolved through the package's own name, so it is the package.json that ships with this code.
  const pkg = createRequire(import.meta.url)('@siamese/cli/package.json') as { version?: unknown };
  return String(pkg.version);
}
