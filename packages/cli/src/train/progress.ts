/**
 * Training progress for people: a redrawn bar on a TTY (epoch, step, loss, pairs/s, ETA), plain
 * lines otherwise (logs, CI) — one per epoch and every `every` steps.
 */
import type { TrainEvent } from '@siamese/core';
import type { Output } from '../io.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(r).padStart(2, '0')}s`
      : `${r}s`;
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

export interface ProgressOptions {
  /** Redraw one line in place (a TTY); otherwise print plain lines. */
  readonly tty: boolean;
  /** Plain mode: a line every this many steps. */
  readonly every?: number;
  /** Writes without a newline, for redrawing (TTY mode). */
  readonly write?: (text: string) => void;
}

export function progressPrinter(io: Output, o: ProgressOptions): (e: TrainEvent) => void {
  let epochs = 1;
  let stepsPerEpoch = 1;
  let drawn = false;
  const clear = (): void => {
    if (drawn && o.write) o.write('\r\x1b[2K');
    drawn = false;
  };
  return (e) => {
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        stepsPerEpoch = e.stepsPerEpoch;
        io.out(
          `training on ${e.backend}: ${epochs} epoch${epochs === 1 ? '' : 's'} of ${stepsPerEpoch} steps${e.resumedAt ? `, resumed at step ${e.resumedAt}` : ''}`,
        );
        break;
      case 'step': {
        const inEpoch = e.epochStep;
        const text = `epoch ${e.epoch}/${epochs} ${bar(inEpoch / stepsPerEpoch)} ${inEpoch}/${stepsPerEpoch} loss ${e.loss.toFixed(4)} ${e.pairsPerSecond.toFixed(0)} pairs/s ETA ${formatDuration(e.eta)}`;
        if (o.tty && o.write) {
          o.write(`\r\x1b[2K${text}`);
          drawn = true;
        } else if (e.step % (o.every ?? 50) === 0) {
          io.out(text.replace(/ [█░]+ /, ' '));
        }
        break;
      }
      case 'epoch': {
        clear();
        const v = e.validation;
        const val = v
          ? ` | val ${v.loss !== undefined ? `loss ${v.loss.toFixed(4)} ` : ''}accuracy ${(v.accuracy * 100).toFixed(2)}% AUC ${v.auc.toFixed(4)} EER ${(v.eer * 100).toFixed(2)}%`
          : '';
        io.out(
          `epoch ${e.epoch}/${epochs} train loss ${e.trainLoss.toFixed(4)}${val} (${formatDuration(e.seconds)})`,
        );
        break;
      }
      case 'checkpoint':
        if (e.reason === 'interrupted') {
          clear();
          io.out(`interrupted: checkpoint saved to ${e.path} (resume with --resume)`);
        }
        break;
      case 'stop':
        clear();
        if (e.reason === 'early-stopping')
          io.out(`stopped early after epoch ${e.epoch}: the validation metric stopped improving`);
        break;
    }
  };
}
