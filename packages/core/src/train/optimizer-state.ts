/**
 * Which optimizer slots a checkpoint's state fills in a training step, checked the same way by every
 * backend: unknown slots and wrong shapes are errors; slots of parameters the loss does not reach
 * (the head under a distance loss) are skipped, so a checkpoint that holds them still loads.
 */
import type { OptimizerSlot, TrainingStep } from '../autodiff/training-step.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OptimizerState } from './backend.js';

export function optimizerSlotsToLoad(
  step: Pick<TrainingStep, 'slots' | 'frozen'>,
  state: OptimizerState,
  shapeOf: (param: string) => readonly number[],
): { slot: OptimizerSlot; value: Tensor<'float32'> }[] {
  const known = new Map(step.slots.map((s) => [s.name, s]));
  const frozen = new Set(step.frozen);
  const out: { slot: OptimizerSlot; value: Tensor<'float32'> }[] = [];
  for (const [key, t] of state.slots) {
    const slot = known.get(key);
    if (!slot) {
      if ([...frozen].some((p) => key.startsWith(`${p}.`))) continue;
      throw new Error(`optimizer state has slot '${key}', which this optimizer does not use`);
    }
    const shape = shapeOf(slot.param);
    if (t.dtype !== 'float32' || t.shape.join(',') !== shape.join(','))
      throw new Error(
        `optimizer slot '${key}' must be float32 [${shape.join(',')}], got ${t.dtype} [${t.shape.join(',')}]`,
      );
    out.push({ slot, value: t as Tensor<'float32'> });
  }
  return out;
}
