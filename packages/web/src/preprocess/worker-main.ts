/**
 * The preprocessing worker's body: decodes Blobs (createImageBitmap runs off the main thread here),
 * runs the pipeline on an OffscreenCanvas and transfers the tensor back. Self-contained: the worker
 * is started from this function's text plus the functions it is given, so the package needs no
 * separate worker file that every bundler would have to find.
 */
import type { bitmapToTensor, Steps, TensorSpec } from './pipeline.js';

export interface WorkerRequest {
  readonly id: number;
  readonly image: Blob | ImageBitmap;
  /** For an ImageBitmap: the format it was decoded from ('other' when unknown). */
  readonly format: 'jpeg' | 'webp' | 'other';
  readonly spec: TensorSpec;
}

export type WorkerReply =
  | { readonly id: number; readonly tensor: Float32Array }
  | { readonly id: number; readonly error: string; readonly decode: boolean }
  | { readonly ready: true };

export function workerMain(pipeline: typeof bitmapToTensor, steps: Steps): void {
  const scope = self as unknown as {
    onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
    postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  };
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
      scope.postMessage({ id: r.id, error: (err as Error)?.message ?? String(err), decode: true });
      return;
    }
    try {
      const tensor = pipeline(bitmap, format, r.spec, steps);
      bitmap.close();
      scope.postMessage({ id: r.id, tensor }, [tensor.buffer]);
    } catch (err) {
      scope.postMessage({ id: r.id, error: (err as Error)?.message ?? String(err), decode: false });
    }
  };
  scope.postMessage({ ready: true });
}
