"""The released model (see MODEL_CARD.md), installed as the package data `cifar_edge.models`.

Made by `cifar-edge release EXPORT_DIR`; `cifar_edge.edge_runtime.released` finds it.
"""
