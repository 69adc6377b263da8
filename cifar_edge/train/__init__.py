"""Training: the network (`model`), the recipe's optimiser pieces (`optim`), augmentation
(`augment`), presets (`recipe`), the resumable run (`trainer`) and its report (`report`).

This subpackage needs the `[train]` extra (TensorFlow/Keras, matplotlib); nothing on the device does.
"""

from cifar_edge.train.recipe import PRESETS, TrainConfig, make_config
from cifar_edge.train.trainer import train

__all__ = ["PRESETS", "TrainConfig", "make_config", "train"]
