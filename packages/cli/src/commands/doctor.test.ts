import { describe, expect, it } from 'vitest';
import { TFJS_PACKAGES } from '../doctor/probe.js';
import { siameseCli } from '../test/cli.js';

describe('siamese doctor (the built binary)', () => {
  it('reports what runs here as JSON: Node, sharp, onnxruntime CPU, CUDA, tfjs platforms', async () => {
    const r = await siameseCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    const byName = new Map(j.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.get('node')).toMatchObject({ status: 'ok' });
    expect(byName.get('sharp')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^0\.35\.\d+ with libvips \d/),
    });
    expect(byName.get('onnxruntime cpu')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^onnxruntime-node 1\.30\.\d+: a CPU session runs/),
    });
    expect(byName.get('onnxruntime cuda')).toBeDefined();
    expect(j.probe.onnxruntime.cpu).toEqual({ ok: true });
    // tfjs is the cli's optional peer (a dev dependency here): each platform is reported through
    // it, installed or not, with its error.
    expect(j.probe.tfjsBackend).toEqual({ package: '@siamese/backend-tfjs', installed: true, ok: true });
    expect(byName.get('tfjs')).toMatchObject({ status: 'ok' });
    expect(j.probe.tfjs.map((t: { package: string }) => t.package)).toEqual([...TFJS_PACKAGES]);
    for (const t of j.probe.tfjs) {
      if (!t.ok) expect(t.error).toEqual(expect.any(String));
      const name = t.package.replace('@tensorflow/', '').replace('tfjs-backend-wasm', 'tfjs-wasm');
      if (!t.installed) {
        expect(byName.get(name)).toMatchObject({
          status: 'info',
          detail: expect.stringContaining(`${t.package} not installed`),
        });
      }
    }
    expect(byName.get('cuda-libs onnxruntime')).toMatchObject({
      detail: expect.stringContaining('CUDA 12.x + cuDNN 9'),
    });
    expect(byName.get('cuda-libs tfjs-node-gpu')).toMatchObject({
      detail: expect.stringContaining('CUDA 11.2 + cuDNN 8.1'),
    });
  });

  it('prints one line per check, with a fix under each problem', async () => {
    const r = await siameseCli(['doctor']);
    expect(r.code).toBe(0);
    // Importing tfjs-node-gpu and then tfjs-node, where both fail to load, re-registers no kernels.
    expect(r.stderr).not.toMatch(/already registered|has already been set/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok {4}node +\d+\.\d+\.\d+ \(\w+ \w+\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ok {4}onnxruntime cpu +onnxruntime-node 1\.30/));
    for (const [i, line] of lines.entries()) {
      if (/^(no|warn|info) /.test(line)) expect(lines[i + 1]).toMatch(/^ +fix: /);
    }
  });
});
