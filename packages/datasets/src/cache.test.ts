import { describe, expect, it } from 'vitest';
import { ImageCache } from './cache.js';

const img = (bytes: number) => ({ width: bytes, height: 1, channels: 1, data: new Uint8Array(bytes) });

describe('ImageCache', () => {
  it('evicts the least recently used and never exceeds its budget', () => {
    const c = new ImageCache(100);
    c.set('a', img(40));
    c.set('b', img(40));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', img(40)); // evicts b
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    expect([c.bytes, c.size, c.evictions]).toEqual([80, 2, 1]);
    for (let k = 0; k < 50; k++) {
      c.set(`k${k}`, img(7 + (k % 30)));
      expect(c.bytes).toBeLessThanOrEqual(100);
    }
    expect(c.set('huge', img(101))).toBe(false);
    expect(c.has('huge')).toBe(false);
    expect([c.hits, c.misses]).toEqual([1, 0]);
    expect(c.get('zzz')).toBeUndefined();
    expect(c.misses).toBe(1);
  });

  it('a zero budget caches nothing', () => {
    const c = new ImageCache(0);
    expect(c.set('a', img(1))).toBe(false);
    expect(c.bytes).toBe(0);
    expect(() => new ImageCache(-1)).toThrow('dataset: cache: maxBytes must be a finite number >= 0, got -1');
  });
});
