/** Image files to the model's input: decoded with the model's own preprocessing (datasets' decode). */
import type { Preprocessing, Tensor } from '@siamese/core';

/** Decodes `paths` into one normalized float32 batch [N, C, H, W]. Errors name the file. */
export async function readImages(paths: readonly string[], p: Preprocessing): Promise<Tensor<'float32'>> {
  const { DatasetError, decodeImage, decodeOptionsFor, toPlanarNormalized } = await import(
    '@siamese/datasets'
  );
  const options = decodeOptionsFor(p);
  const size = p.channels * p.height * p.width;
  const data = new Float32Array(paths.length * size);
  await Promise.all(
    paths.map(async (path, i) => {
      try {
        toPlanarNormalized(await decodeImage(path, options), p.mean, p.std, data, i * size);
      } catch (e) {
        // datasets says `dataset: FILE: ...`; here the file is an image the user named.
        if (e instanceof DatasetError) {
          throw new DatasetError(e.message.replace(/^dataset: /, 'image: '), e.code, e.file, { cause: e });
        }
        throw e;
      }
    }),
  );
  return { dtype: 'float32', shape: [paths.length, p.channels, p.height, p.width], data };
}
