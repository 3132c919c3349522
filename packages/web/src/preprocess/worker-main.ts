/**
 * The preprocessing worker's body: decodes Blobs (createImageBitmap runs off the main thread here),
 * runs the pipeline on an OffscreenCanvas and transfers the tensor back. Self-contained: the worker
 * is started from this function's text plus the functions it is given, so the package needs no
 * separate worker file that every bundler would have to find. (So the package must not be
 * down-levelled below ES2022 or built with esbuild's keepNames: helpers such as __name would be
 * missing here; the main thread then takes over and says why.)
 */
import type { bitmapToTensor, Steps, TensorSpec } from './pipeline.js';

export interface WorkerRequest {
  readonly id: number;
  readonly image: Blob | ImageBitmap;
  /** For an ImageBitmap: the format it was decoded from ('other' when unknown). */
  readonly format: 'jpeg' | 'webp' | 'other';
  readonly spec: TensorSpec;
}

/**
 * `decode`: not an image the browser can decode; `input`: an image the pipeline refuses (too many
 * pixels); `code`: the worker's own code failed.
 */
export type WorkerFault = 'decode' | 'input' | 'code';

export type WorkerReply =
  | { readonly id: number; readonly tensor: Float32Array }
  | { readonly id: number; readonly error: string; readonly fault: WorkerFault }
  | { readonly ready: true };

export function workerMain(pipeline: typeof bitmapToTensor, steps: Steps): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
    postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  };
  const message = (err: unknown) => (err as Error)?.message ?? String(err);
  scope.onmessage = async (e) => {
    const r = e.data;
    let bitmap: ImageBitmap;
    let format = r.format;
    try {
      if (r.image instanceof Blob) {
        format = steps.sniff(new Uint8Array(await r.image.slice(0, 12).arrayBuffer()));
        bitmap = await createImageBitmap(r.image);
      } else bitmap = r.image;
    } catch (err) {
      scope.postMessage({ id: r.id, error: message(err), fault: 'decode' });
      return;
    }
    try {
      const tensor = pipeline(bitmap, format, r.spec, steps);
      scope.postMessage({ id: r.id, tensor }, [tensor.buffer]);
    } catch (err) {
      const code = err instanceof ReferenceError || err instanceof TypeError || err instanceof SyntaxError;
      scope.postMessage({ id: r.id, error: message(err), fault: code ? 'code' : 'input' });
    } finally {
      bitmap.close();
    }
  };
  scope.postMessage({ ready: true });
}
