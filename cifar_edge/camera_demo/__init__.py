"""The webcam demo for a Raspberry Pi (OpenCV + edge_runtime, never TensorFlow): not built yet (a later issue)."""
