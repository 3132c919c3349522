/** Keeps a fixed number of asynchronous jobs in flight ahead of the consumer, started in order. */

/**
 * Runs `make` over `specs` keeping `depth` jobs in flight beyond the one being awaited:
 * while the consumer works on item k, items k+1..k+depth are made. `make` is called in
 * order, synchronously, so nothing that depends on call order depends on timing.
 */
export async function* prefetched<S, T>(
  specs: Iterable<S>,
  make: (spec: S) => Promise<T>,
  depth: number,
): AsyncGenerator<T, void, undefined> {
  const it = specs[Symbol.iterator]();
  const queue: Promise<T>[] = [];
  let done = false;
  const fill = (target: number) => {
    while (!done && queue.length < target) {
      const r = it.next();
      if (r.done) {
        done = true;
        break;
      }
      const p = make(r.value);
      p.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      queue.push(p);
    }
  };
  try {
    fill(Math.max(1, depth));
    while (queue.length > 0) {
      const p = queue.shift() as Promise<T>;
      fill(depth);
      yield await p;
    }
  } finally {
    it.return?.();
  }
}
