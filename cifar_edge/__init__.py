"""cifar-edge: train a CIFAR-10 CNN, export it for the edge, and run it on a camera."""

__version__ = "0.1.0"
