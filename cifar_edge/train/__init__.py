"""Training: the network (`model`), the recipe's optimiser pieces (`optim`), augmentation
(`augment`), the option table and presets (`recipe`), the resumable run (`trainer`) and its report
(`report`).

This subpackage needs the `[train]` extra (TensorFlow/Keras, matplotlib); nothing on the device does.
Only `recipe` is imported here, and it is plain Python, so the CLI can build its options without
TensorFlow; the trainer is `cifar_edge.train.trainer.train`.
"""

from cifar_edge.train.recipe import PRESETS, TrainConfig, make_config

__all__ = ["PRESETS", "TrainConfig", "make_config"]
