/** The committed generated code is exactly what `pnpm gen:proto` makes from proto/onnx.proto. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('src/proto/onnx_pb.ts is up to date with proto/onnx.proto', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'siamese-proto-'));
  try {
    const script = fileURLToPath(new URL('../scripts/gen-proto.sh', import.meta.url));
    const r = spawnSync('bash', [script, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const fresh = await readFile(join(dir, 'onnx_pb.ts'), 'utf8');
    const committed = await readFile(new URL('./proto/onnx_pb.ts', import.meta.url), 'utf8');
    expect(fresh === committed, 'run `pnpm gen:proto` in packages/backend-onnx').toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
