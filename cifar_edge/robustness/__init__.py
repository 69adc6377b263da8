"""Robustness to corrupted inputs: CIFAR-10-C-style corruptions and camera conditions (see
`cifar_edge.robustness.corruptions`), for scoring exported models on corrupted test sets."""

from cifar_edge.robustness.corruptions import CAMERA, CIFAR10_C, CORRUPTIONS, Corruption, corrupt

__all__ = ["CAMERA", "CIFAR10_C", "CORRUPTIONS", "Corruption", "corrupt"]
