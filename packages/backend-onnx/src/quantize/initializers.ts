/** The quantizer's initializers as TensorProtos: int8, uint8, int32 and float32, little-endian raw_data. */
import { create } from '@bufbuild/protobuf';
import { type TensorProto, TensorProto_DataType, TensorProtoSchema } from '../proto/onnx_pb.js';

type Values = Int8Array | Uint8Array | Int32Array | Float32Array;

const DATA_TYPE = new Map<new (n: number) => Values, TensorProto_DataType>([
  [Int8Array, TensorProto_DataType.INT8],
  [Uint8Array, TensorProto_DataType.UINT8],
  [Int32Array, TensorProto_DataType.INT32],
  [Float32Array, TensorProto_DataType.FLOAT],
]);

export function initializer(name: string, dims: readonly number[], values: Values): TensorProto {
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  // DataView writes little-endian whatever the host's byte order.
  if (values instanceof Int32Array) {
    for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  } else if (values instanceof Float32Array) {
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  } else {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: DATA_TYPE.get(values.constructor as new (n: number) => Values)!,
    rawData: bytes,
  });
}
