/** Mistyped commands and flags, `help` and `--version`: the built binary, one line each. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { siameseCli } from './test/cli.js';

async function oneLine(args: readonly string[], message: string) {
  const r = await siameseCli(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.errLines).toEqual([message]);
}

describe('argument errors (the built binary)', () => {
  it('an unknown flag, with the close one when there is one', async () => {
    await oneLine(
      ['train', '--epoch', '3'],
      'siamese train: unknown option --epoch (did you mean --epochs?)',
    );
    await oneLine(['train', '--dat', 'mnist'], 'siamese train: unknown option --dat (did you mean --data?)');
    await oneLine(['info', '--jsno'], 'siamese info: unknown option --jsno (did you mean --json?)');
    await oneLine(['info', '--frobnicate'], 'siamese info: unknown option --frobnicate');
    await oneLine(['info', '-x'], 'siamese info: unknown option -x');
  });

  it('a negative number is a value: the flag says what it must be', async () => {
    await oneLine(
      ['compare', 'model', 'a.png', 'b.png', '--batch-size', '-1'],
      "siamese compare: --batch-size must be a positive integer, got '-1'",
    );
    await oneLine(
      ['lint', 'mnist', '--max-warnings', '-2'],
      "siamese lint: --max-warnings must be an integer >= 0, got '-2'",
    );
  });

  it('a flag without its value', async () => {
    await oneLine(['train', '--data', 'mnist', '--out'], 'siamese train: --out needs a value (DIR)');
    await oneLine(
      ['train', '--out', '--epochs', '3'],
      'siamese train: --out needs a value (DIR), got the option --epochs',
    );
    await oneLine(['info', '--json=yes'], "siamese info: --json takes no value, got '--json=yes'");
  });

  it('an unknown command', async () => {
    await oneLine(['trian'], "siamese: unknown command 'trian' (did you mean train?)");
    await oneLine(['exprot', 'model'], "siamese: unknown command 'exprot' (did you mean export?)");
    await oneLine(
      ['frobnicate'],
      "siamese: unknown command 'frobnicate' (commands: lint, train, eval, compare, export, import, embed, search, index, score, serve, convert, info, doctor)",
    );
    await oneLine(['--verison'], 'siamese: unknown option --verison (did you mean --version?)');
    await oneLine(
      ['--epochs', '3'],
      'siamese: unknown option --epochs (before a command: --help, --version)',
    );
  });
});

describe('help and version', () => {
  it('--version and -V print the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await siameseCli([flag]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${pkg.version}\n`, '']);
    }
  });

  it('siamese help [COMMAND] prints what --help prints', async () => {
    const [main, help] = await Promise.all([siameseCli(['--help']), siameseCli(['help'])]);
    expect(help).toEqual(main);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: siamese <command>/);
    const [train, helpTrain] = await Promise.all([
      siameseCli(['train', '--help']),
      siameseCli(['help', 'train']),
    ]);
    expect(helpTrain).toEqual(train);
    expect(helpTrain.stdout).toMatch(/^usage: siamese train \[options\]/);
    await oneLine(['help', 'trian'], "siamese help: unknown command 'trian' (did you mean train?)");
    await oneLine(['help', 'train', 'eval'], "siamese help: takes at most [COMMAND] (got 'train' 'eval')");
  });
});
