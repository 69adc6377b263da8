"""Export of trained models to TFLite (float and int8) and ONNX: not built yet (a later issue)."""
