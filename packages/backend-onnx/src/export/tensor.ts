/** Host tensors as ONNX TensorProtos: dims plus little-endian `raw_data`, whatever the host's byte order. */
import { create } from '@bufbuild/protobuf';
import type { DType, Tensor } from '@siamese/core';
import { type TensorProto, TensorProto_DataType, TensorProtoSchema } from '../proto/onnx_pb.js';

export const ONNX_DTYPE: Readonly<Record<DType, TensorProto_DataType>> = {
  float32: TensorProto_DataType.FLOAT,
  int64: TensorProto_DataType.INT64,
  int32: TensorProto_DataType.INT32,
  uint8: TensorProto_DataType.UINT8,
  bool: TensorProto_DataType.BOOL,
};

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The tensor's values as little-endian bytes (ONNX's `raw_data` byte order); a view on little-endian hosts. */
export function littleEndianBytes(t: Tensor): Uint8Array {
  const d = t.data;
  // Serialization copies the bytes straight away, so a view of the caller's array is safe here.
  if (LITTLE_ENDIAN_HOST || d instanceof Uint8Array)
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(d.byteLength);
  const view = new DataView(out.buffer);
  if (d instanceof Float32Array) for (let i = 0; i < d.length; i++) view.setFloat32(i * 4, d[i]!, true);
  else if (d instanceof Int32Array) for (let i = 0; i < d.length; i++) view.setInt32(i * 4, d[i]!, true);
  else for (let i = 0; i < d.length; i++) view.setBigInt64(i * 8, d[i]!, true);
  return out;
}

export function tensorProto(name: string, t: Tensor): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: t.shape.map((d) => BigInt(d)),
    dataType: ONNX_DTYPE[t.dtype],
    rawData: littleEndianBytes(t),
  });
}
