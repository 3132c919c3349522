/** A counted task's progress: a bar redrawn on a TTY (stderr), a few plain lines otherwise. */
import type { Output } from '../io.js';

export interface StepProgress {
  (done: number): void;
  /** Clears the bar. */
  done(): void;
}

export function stepProgress(io: Output, label: string, total: number, tty: boolean): StepProgress {
  let drawn = false;
  let lastQuarter = 0;
  const update = (done: number): void => {
    const f = total > 0 ? Math.min(1, done / total) : 1;
    if (tty) {
      const full = Math.round(f * 24);
      process.stderr.write(`\r\x1b[2K${label} ${'█'.repeat(full)}${'░'.repeat(24 - full)} ${done}/${total}`);
      drawn = true;
    } else if (Math.floor(f * 4) > lastQuarter) {
      lastQuarter = Math.floor(f * 4);
      io.out(`${label}: ${done}/${total}`);
    }
  };
  return Object.assign(update, {
    done: () => {
      if (drawn) process.stderr.write('\r\x1b[2K');
      drawn = false;
    },
  });
}
