"""The light on-device runtime (numpy + an interpreter, never TensorFlow): not built yet (a later issue)."""
