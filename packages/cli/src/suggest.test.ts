import { describe, expect, it } from 'vitest';
import { closest } from './suggest.js';

describe('closest', () => {
  const flags = ['data', 'epochs', 'encoder-lr-factor', 'batch-size', 'lr', 'out', 'resume', 'json'];

  it('takes a name the word starts or ends', () => {
    expect(closest('epoch', flags)).toBe('epochs');
    expect(closest('dat', flags)).toBe('data');
    expect(closest('datas', flags)).toBe('data');
  });

  it('takes a typo or two, swapped letters counting as one', () => {
    expect(closest('trian', ['train', 'eval'])).toBe('train');
    expect(closest('bacth-size', flags)).toBe('batch-size');
    expect(closest('resme', flags)).toBe('resume');
  });

  it('says nothing when nothing is close, or two are equally close', () => {
    expect(closest('frobnicate', flags)).toBeUndefined();
    expect(closest('e', flags)).toBeUndefined();
    expect(closest('en', ['encoder', 'endpoint'])).toBeUndefined();
    expect(closest('cat', ['bat', 'hat'])).toBeUndefined();
  });
});
