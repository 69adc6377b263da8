"""The package's layout, read from its source: imports run one way, and each part of the input
contract and each released file name is written once.

    contract, formats, errors, files, provenance, images, evaluation   (ground floor: no subpackage)
    data                                                               (ground floor + images)
    edge_runtime -> camera_demo                                        (never train, export, TensorFlow)
    train                                                              (never export)
    export                                                             (train only for the custom layers)
    robustness                                                         (corruptions: numpy, OpenCV; scoring: export, lazily)
    cli                                                                (everything, lazily)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cifar_edge"
MODULES = {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
           for path in PACKAGE.rglob("*.py")}
GROUND_FLOOR = {"cifar_edge", "cifar_edge.contract", "cifar_edge.formats", "cifar_edge.errors", "cifar_edge.files",
                "cifar_edge.provenance", "cifar_edge.images", "cifar_edge.evaluation", "cifar_edge.data"}


def imports(module: str) -> set[str]:
    """Every module `module` imports, at its top or inside a function, resolved to module names."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in MODULES}
    return found


def internal(module: str) -> set[str]:
    return {m for m in imports(module) if m in MODULES and m != module}


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if under(m, "cifar_edge.edge_runtime", "cifar_edge.camera_demo")))
def test_device_side_imports_neither_training_nor_export_nor_tensorflow(module):
    bad = {m for m in imports(module) if under(m, "cifar_edge.train", "cifar_edge.export", "tensorflow", "keras", "tf2onnx")}
    assert bad == set()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if under(m, "cifar_edge.export")))
def test_export_imports_training_only_for_the_custom_layers(module):
    assert {m for m in internal(module) if under(m, "cifar_edge.train")} <= {"cifar_edge.train.model"}


@pytest.mark.parametrize("module", sorted(GROUND_FLOOR - {"cifar_edge"}))
def test_ground_floor_imports_no_subpackage(module):
    assert internal(module) <= GROUND_FLOOR


def test_training_never_imports_export():
    for module in (m for m in MODULES if under(m, "cifar_edge.train")):
        assert not any(under(m, "cifar_edge.export") for m in internal(module)), module


def test_no_import_circle():
    graph = {m: {i for i in internal(m) if not MODULES[i].name == "__init__.py"} for m in MODULES}
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for other in sorted(graph[module]):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def literals(value) -> list[str]:
    """The modules whose code (not docstrings or comments) holds the constant `value`."""
    holders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and type(node.value) is type(value) and node.value == value:
                holders.append(module)
                break
    return holders


# The input size, 32, is not checked this way: the smoke preset's widths hold a 32 that is not a size.
@pytest.mark.parametrize("value, where", [
    ("airplane", ["cifar_edge.contract"]), ("truck", ["cifar_edge.contract"]),
    (0.4914, ["cifar_edge.contract"]), (0.2470, ["cifar_edge.contract"]),
    (3072, []),  # a batch row's length: computed from the contract
    ("cifar_edge_int8.tflite", ["cifar_edge.contract"]), ("cifar_edge_int8.onnx", ["cifar_edge.contract"]),
    ("cifar_edge_fp32.onnx", ["cifar_edge.contract"]),
    ("model_int8.tflite", ["cifar_edge.formats"]), ("model_fp32.onnx", ["cifar_edge.formats"]),
])
def test_each_part_of_the_contract_is_written_once(value, where):
    assert literals(value) == where
