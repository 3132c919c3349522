#!/usr/bin/env bash
# Regenerates src/proto/onnx_pb.ts from proto/onnx.proto (ONNX 1.12's schema, copied from Debian's
# python3-onnx, the version whose checker the tests run). buf and protoc-gen-es are pinned
# devDependencies, so the output is byte-identical on every machine. Optional $1: another output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-src/proto}"
export PATH="$PWD/node_modules/.bin:$PATH"
buf generate proto --template "{
  \"version\": \"v2\",
  \"plugins\": [
    { \"local\": \"protoc-gen-es\", \"out\": \"$out\", \"opt\": [\"target=ts\", \"import_extension=js\"] }
  ]
}"
