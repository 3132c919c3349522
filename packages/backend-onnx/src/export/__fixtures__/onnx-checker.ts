/**
 * The official ONNX checker for tests: Debian's python3-onnx, `check_model(full_check=True)`
 * (schema, IR version, opset and strict shape inference). Not a dependency: tests that use it skip
 * with `CHECKER_SKIPPED` where it is missing.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
/** A describe title saying why the checker tests did not run. */
export const CHECKER_SKIPPED = `onnx.checker SKIPPED: '${PYTHON} -c "import onnx"' fails (install Debian's python3-onnx to run it)`;

/** Checks every file in one interpreter (importing onnx takes most of a second); prints `path<TAB>ok|error`. */
const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print(path, 'ok', sep='\\t')
    except Exception as e:
        print(path, ' '.join(str(e).split()), sep='\\t')
`;

/** Writes each model into `dir` and returns the checker's verdict by model name: 'ok' or the error. */
export async function checkModels(
  models: Iterable<readonly [string, Uint8Array]>,
  dir: string,
): Promise<Record<string, string>> {
  const paths = new Map<string, string>();
  for (const [name, bytes] of models) {
    const path = join(dir, `${name}.onnx`);
    await writeFile(path, bytes);
    paths.set(path, name);
  }
  const r = spawnSync(PYTHON, ['-c', CHECK, ...paths.keys()], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`onnx.checker did not run: ${r.stderr}`);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string])
      .map(([path, verdict]) => [paths.get(path), verdict]),
  );
}
