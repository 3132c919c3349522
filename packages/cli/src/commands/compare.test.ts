import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, makeModel, siameseCli, tempDir } from '../test/cli.js';

const SAME = 1 / (1 + Math.exp(-2)); // the distance head's score for identical images

describe('siamese compare (the built binary)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let model: string;
  let bare: string;
  const circle = join(FIXTURES, 'folder/circle/circle-1.png');
  const square = join(FIXTURES, 'folder/square/square-1.gif');

  beforeAll(async () => {
    tmp = await tempDir();
    model = await makeModel(join(tmp.path, 'model'), { head: 'distance' });
    bare = await makeModel(join(tmp.path, 'bare'), { threshold: null });
  });
  afterAll(() => tmp.remove());

  it('prints the match probability, the decision at the calibrated threshold and the device', async () => {
    const r = await siameseCli(['compare', model, circle, circle, '--device', 'cpu', '--threads', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      `probability ${SAME.toFixed(4)} that ${circle} and ${circle} show the same identity`,
    );
    expect(lines[1]).toBe('decision    same (threshold 0.5000, calibrated at the equal error rate)');
    expect(lines[2]).toMatch(/^device {6}onnxruntime cpu \(requested cpu\)$/);
  });

  it('prints JSON, and a lower probability for different images', async () => {
    const r = await siameseCli(['compare', model, circle, square, '--device', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.probability).toBeLessThan(SAME);
    expect(j.probability).toBeCloseTo(1 / (1 + Math.exp(-j.logit)), 6);
    expect(j.threshold).toEqual({ probability: 0.5, method: 'eer' });
    expect(j.same).toBe(j.probability >= 0.5);
    expect(j.device).toMatchObject({ requested: 'cpu', provider: 'cpu' });
  });

  it('says when the model has no calibrated threshold', async () => {
    const r = await siameseCli(['compare', bare, circle, square, '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('decision    none: the model has no calibrated threshold');
    const j = JSON.parse(
      (await siameseCli(['compare', bare, circle, square, '--device', 'cpu', '--json'])).stdout,
    );
    expect(j.same).toBeNull();
    expect(j.threshold).toBeNull();
  });
});
