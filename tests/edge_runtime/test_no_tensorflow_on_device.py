"""The Raspberry Pi install has no TensorFlow or Keras: the device-side code must not import them."""

from __future__ import annotations

import subprocess
import sys

BLOCK_TENSORFLOW = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "jax"):
            raise ImportError(f"{name} is not installed on the device")
sys.meta_path.insert(0, Block())
"""


def run_without_tensorflow(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW + code, *map(str, args)],
                          capture_output=True, text=True)


def test_device_side_packages_import_without_tensorflow():
    result = run_without_tensorflow(
        "try:\n    import keras\nexcept ImportError as exc:\n    print(exc)\n"  # the blocker itself works
        "import cifar_edge.edge_runtime, cifar_edge.camera_demo, cifar_edge.data, cifar_edge.cli\n"
        "import cifar_edge.camera_demo.server, cifar_edge.camera_demo.live_feed  # the --serve page\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tensorflow', 'keras'))))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["keras is not installed on the device", "[]"]


def test_data_info_runs_without_tensorflow(real_archive):
    result = run_without_tensorflow(
        "sys.argv = ['cifar-edge', 'data', 'info', '--data', sys.argv[1]]\n"
        "from cifar_edge.cli import main\nmain()", real_archive)
    assert result.returncode == 0, result.stderr
    assert "50000" in result.stdout and "10000" in result.stdout


def test_eval_runs_without_tensorflow(real_archive):
    """`cifar-edge eval` is the check a Pi owner runs on the Pi."""
    result = run_without_tensorflow(
        "sys.argv = ['cifar-edge', 'eval', '--data', sys.argv[1], '--limit', '50', '--no-progress']\n"
        "from cifar_edge.cli import main\nmain()", real_archive)
    assert result.returncode == 0, result.stderr
    assert "cifar_edge_int8.tflite on 50 test images" in result.stdout


def test_exported_models_run_without_tensorflow(exported, real_archive):
    """The device path end to end: read metadata and classify real test images, TensorFlow blocked."""
    _, out, _ = exported
    result = run_without_tensorflow(
        "from cifar_edge.data import load_cifar10\n"
        "from cifar_edge.edge_runtime import Classifier\n"
        "test = load_cifar10(sys.argv[1], splits=('test',)).test\n"
        "for name in ('model_int8.tflite', 'model_fp32.onnx'):\n"
        "    c = Classifier(sys.argv[2] + '/' + name)\n"
        "    print(name, c.labels[0], c.predict(test.images[:50]).shape)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tensorflow', 'keras'))))", real_archive, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["model_int8.tflite airplane (50,)", "model_fp32.onnx airplane (50,)", "[]"]
