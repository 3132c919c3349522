/** How images are turned into the model's input tensor; stored with the model so serving matches training. */

export interface Preprocessing {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Per-channel mean and std applied to pixel values scaled to [0, 1]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** `fill` stretches to the size; `letterbox` keeps the aspect ratio and pads with `padColor`. */
  readonly resize: 'fill' | 'letterbox';
  /** Pad colour in [0, 1] per channel, for `letterbox`. */
  readonly padColor: readonly number[];
}

/** ImageNet statistics: the standard for RGB ResNets. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** For grayscale, the average of ImageNet's channel statistics. */
export const GRAY_MEAN = [0.449] as const;
export const GRAY_STD = [0.226] as const;

export function defaultPreprocessing(input: {
  channels: number;
  height: number;
  width: number;
}): Preprocessing {
  const rgb = input.channels === 3;
  const fill = (v: number) => Array.from({ length: input.channels }, () => v);
  return {
    ...input,
    mean: rgb ? [...IMAGENET_MEAN] : input.channels === 1 ? [...GRAY_MEAN] : fill(0.5),
    std: rgb ? [...IMAGENET_STD] : input.channels === 1 ? [...GRAY_STD] : fill(0.5),
    resize: 'fill',
    padColor: fill(0),
  };
}

/** One line naming the field at fault, or undefined when the preprocessing is usable. */
export function checkPreprocessing(p: Preprocessing): string | undefined {
  for (const k of ['channels', 'height', 'width'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 1)
      return `preprocessing.${k} must be a positive integer, got ${JSON.stringify(p[k])}`;
  }
  for (const k of ['mean', 'std', 'padColor'] as const) {
    const v = p[k];
    if (
      !Array.isArray(v) ||
      v.length !== p.channels ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x))
    ) {
      return `preprocessing.${k} must be ${p.channels} numbers (one per channel), got ${JSON.stringify(v)}`;
    }
  }
  if (p.std.some((s) => s <= 0)) return `preprocessing.std must be positive, got ${JSON.stringify(p.std)}`;
  if (p.resize !== 'fill' && p.resize !== 'letterbox')
    return `preprocessing.resize must be 'fill' or 'letterbox', got ${JSON.stringify(p.resize)}`;
  return undefined;
}
