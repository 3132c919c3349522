/** doctor's tfjs probe with @siamese/backend-tfjs simulated: missing, broken, and present. */
import { describe, expect, it } from 'vitest';
import { probeTfjs, TFJS_PACKAGES } from './probe.js';

/** What Node throws for a package that is not installed. */
const notFound = (spec: string) =>
  Object.assign(
    new Error(`Cannot find package '${spec}' imported from /app/node_modules/@siamese/cli/dist`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );

describe('probeTfjs', () => {
  it('reports @siamese/backend-tfjs as not installed, and no platforms, instead of failing', async () => {
    const r = await probeTfjs(() => Promise.reject(notFound('@siamese/backend-tfjs')));
    expect(r.backend).toMatchObject({ package: '@siamese/backend-tfjs', installed: false, ok: false });
    expect(r.backend.error).toMatch(/Cannot find package '@siamese\/backend-tfjs'/);
    expect(r.platforms).toEqual([]);
  });

  it('installed but broken (its own dependency missing) is not "not installed"', async () => {
    const r = await probeTfjs(() => Promise.reject(notFound('@tensorflow/tfjs-core')));
    expect(r.backend).toMatchObject({ installed: true, ok: false });
  });

  it('with it, imports each platform through it: loads, missing, or failing', async () => {
    const imported: string[] = [];
    const r = await probeTfjs(async () => ({
      importPlatform: async (spec: string) => {
        imported.push(spec);
        if (spec === '@tensorflow/tfjs-node-gpu') throw notFound(spec);
        if (spec === '@tensorflow/tfjs-node') throw new Error('tfjs_binding.node can not be found');
      },
    }));
    expect(imported).toEqual([...TFJS_PACKAGES]);
    expect(r.backend).toEqual({ package: '@siamese/backend-tfjs', installed: true, ok: true });
    expect(r.platforms).toEqual([
      {
        package: '@tensorflow/tfjs-node-gpu',
        installed: false,
        ok: false,
        error: expect.stringContaining('Cannot find package'),
      },
      {
        package: '@tensorflow/tfjs-node',
        installed: true,
        ok: false,
        error: 'tfjs_binding.node can not be found',
      },
      { package: '@tensorflow/tfjs-backend-wasm', installed: true, ok: true },
    ]);
  });
});
