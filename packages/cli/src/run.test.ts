import { describe, expect, it } from 'vitest';
import type { Output } from './io.js';
import { run } from './run.js';

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('siamese info', () => {
  it('prints the summary of the original ResNet-50 model', async () => {
    const io = capture();
    expect(
      await run(['info', '--arch', 'resnet50', '--channels', '3', '--size', '224', '--combine', 'diff'], io),
    ).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('parameters  25,605,183');
    expect(text).toMatch(/multiply-adds 8\.2\d\d G/);
  });

  it('prints JSON', async () => {
    const io = capture();
    expect(await run(['info', '--arch', 'resnet18', '--size', '105x90', '--json'], io)).toBe(0);
    const j = JSON.parse(io.stdout.join('\n'));
    expect(j.input).toEqual({ channels: 1, height: 105, width: 90 });
    expect(j.parameters).toBe(11_170_240 + 512 * 1023 + 1023 + 1024);
  });

  it('reports bad flags in one line with exit code 2', async () => {
    for (const [argv, message] of [
      [['info', '--arch', 'resnet19'], /--arch 'resnet19' is not a known architecture/],
      [['info', '--size', 'big'], /--size must be N or HxW/],
      [['info', '--combine', 'sum'], /--combine 'sum' is not one of/],
      [['info', '--bogus'], /^siamese info: unknown option --bogus$/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ] as const) {
      const io = capture();
      expect(await run([...argv], io)).toBe(2);
      expect(io.stderr).toHaveLength(1);
      expect(io.stderr[0]).toMatch(message);
    }
  });
});

describe('arguments', () => {
  it('checks the number of positionals against the declaration', async () => {
    for (const [argv, message] of [
      [['compare', 'model', 'a.png'], "siamese compare: needs MODEL A B (got 'model' 'a.png')"],
      [['compare', 'm', 'a', 'b', 'c'], "siamese compare: takes at most MODEL A B (got 'm' 'a' 'b' 'c')"],
      [['info', 'a', 'b'], "siamese info: takes at most [MODEL] (got 'a' 'b')"],
      [['doctor', 'x'], "siamese doctor: takes no arguments (got 'x')"],
    ] as const) {
      const io = capture();
      expect(await run([...argv], io)).toBe(2);
      expect(io.stderr).toEqual([message]);
    }
  });

  it('lists every command in the help', async () => {
    const io = capture();
    expect(await run(['--help'], io)).toBe(0);
    for (const c of ['eval', 'compare', 'export', 'embed', 'search', 'info', 'doctor']) {
      expect(io.stdout[0]).toMatch(new RegExp(`\\n  ${c} +\\S`));
    }
  });
});
