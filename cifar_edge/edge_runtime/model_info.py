"""What an exported model says about itself, so a device needs no training code to use it.

Every file `cifar-edge export` writes carries one JSON document under the contract's METADATA_KEY
(`cifar_edge`): class labels, the input contract (`cifar_edge.contract.InputContract`), model version,
format and the SHA-256 of the Keras model it came from.  In a .tflite file it is a named entry of the flatbuffer's `metadata`
table (the standard place for producer metadata, readable with the schema alone); in an .onnx file
it is a `metadata_props` entry, which ONNX Runtime exposes as custom metadata.

This module also answers "is this .tflite really full-integer?" by reading every tensor's type from
the flatbuffer, because a dynamic-range file (float activations) mislabelled int8 is a known trap.
Only the flatbuffer schema shipped with ai-edge-litert is used: no TensorFlow.
"""

from __future__ import annotations

import json

from cifar_edge.contract import METADATA_KEY
from cifar_edge.errors import CifarEdgeError

TFLITE_IDENTIFIER = b"TFL3"


def tflite_schema():
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as exc:
        raise CifarEdgeError("reading .tflite metadata needs the LiteRT package: pip install ai-edge-litert") from exc
    return schema_py_generated


def _tflite_model(data: bytes, name: str):
    schema = tflite_schema()
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise CifarEdgeError(f"{name} is not a TFLite model (no TFL3 identifier)")
    return schema.Model.GetRootAs(data, 0)


def _parse(data: bytes, name: str, read):
    """`read(model)` with any decoding failure turned into one clear error: flatbuffers reads
    lazily, so a truncated file fails at the first out-of-range offset, with assorted exceptions."""
    model = _tflite_model(data, name)
    try:
        return read(model)
    except CifarEdgeError:
        raise
    except Exception as exc:
        raise CifarEdgeError(f"{name} is a corrupt or truncated TFLite model") from exc


def embed_tflite_metadata(model: bytes, info: dict) -> bytes:
    """Returns `model` with `info` stored as JSON under the `cifar_edge` metadata entry (replaced
    if present)."""
    schema = tflite_schema()
    tree = _parse(model, "the converted model", schema.ModelT.InitFromObj)
    payload = schema.BufferT()
    payload.data = list(json.dumps(info, sort_keys=True).encode())
    tree.buffers = list(tree.buffers or []) + [payload]
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_KEY, len(tree.buffers) - 1
    kept = [m for m in (tree.metadata or []) if m.name not in (METADATA_KEY, METADATA_KEY.encode())]
    tree.metadata = kept + [entry]
    return pack_tflite(tree, len(model))


def pack_tflite(tree, size_hint: int) -> bytes:
    """Serialises an edited `ModelT` object tree back to .tflite bytes."""
    import flatbuffers

    builder = flatbuffers.Builder(size_hint + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_tflite_metadata(data: bytes, name: str = "model") -> dict | None:
    """The `cifar_edge` JSON of a .tflite file's bytes, or None when the file has none."""
    def read(model):
        # Touch every subgraph and tensor too, so a truncated file is caught here, not mid-inference.
        tensor_count = sum(model.Subgraphs(s).TensorsLength() for s in range(model.SubgraphsLength()))
        if tensor_count == 0 or model.BuffersLength() == 0:
            raise CifarEdgeError(f"{name} is a corrupt or truncated TFLite model (no tensors)")
        model.Buffers(model.BuffersLength() - 1).DataLength()
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() == METADATA_KEY.encode():
                raw = model.Buffers(entry.Buffer()).DataAsNumpy()
                try:
                    return json.loads(raw.tobytes())
                except (ValueError, AttributeError) as exc:
                    raise CifarEdgeError(f"{name} has unreadable cifar_edge metadata") from exc
        return None

    return _parse(data, name, read)


def tflite_tensor_types(data: bytes, name: str = "model") -> dict[str, list[str]]:
    """Maps each tensor type name (INT8, FLOAT32, ...) to the tensors of that type, all subgraphs."""
    schema = tflite_schema()
    type_names = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}

    def read(model):
        found: dict[str, list[str]] = {}
        for s in range(model.SubgraphsLength()):
            graph = model.Subgraphs(s)
            for t in range(graph.TensorsLength()):
                tensor = graph.Tensors(t)
                found.setdefault(type_names.get(tensor.Type(), str(tensor.Type())), []).append(
                    (tensor.Name() or b"").decode(errors="replace"))
        return found

    return _parse(data, name, read)


def full_integer_violations(data: bytes, name: str = "model") -> list[str]:
    """Tensors that a full-integer model must not have: any float.  INT8 activations and weights,
    INT32 biases and shapes, and the UINT8 camera input are all integer, so they pass."""
    types = tflite_tensor_types(data, name)
    return [f"{kind} {tensor}" for kind, tensors in sorted(types.items())
            if kind.startswith(("FLOAT", "BFLOAT", "COMPLEX")) for tensor in tensors]


def onnx_metadata(session) -> dict | None:
    """The `cifar_edge` JSON of an open ONNX Runtime session's model, or None."""
    meta = session.get_modelmeta().custom_metadata_map
    return json.loads(meta[METADATA_KEY]) if METADATA_KEY in meta else None
