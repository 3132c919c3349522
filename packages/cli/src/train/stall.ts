/**
 * The one line `train` prints (and the report repeats) when validation AUC stays near chance: what
 * happened, and what to change, for the loss and learning rate this run used.
 */
import { isIdentityLoss, type TrainEvent } from '@siamese/core';
import type { TrainSettings } from './settings.js';

export function stallMessage(
  e: Extract<TrainEvent, { type: 'stall' }>,
  s: Pick<TrainSettings, 'loss' | 'lr'>,
): string {
  const what = `validation AUC has stayed below ${e.below} for ${e.epochs} epochs (${e.auc.toFixed(3)} after epoch ${e.epoch}): the model is not learning to tell these images apart`;
  const lower = `a lower learning rate (--lr ${+(s.lr / 3).toPrecision(2)})`;
  const advice = isIdentityLoss({ kind: s.loss.kind })
    ? `try ${lower}, a smaller margin (--margin), or pretrained encoder weights`
    : `pair losses often stall on images with strong nuisance (colour, background) and few images per class: train with an identity loss (--loss cosface), start from pretrained encoder weights, or try ${lower}`;
  return `${what}; ${advice}`;
}
