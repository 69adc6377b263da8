"""The camera demo: frames from a webcam, video, image folder or Raspberry Pi camera, classified
live by an exported model (`sources` reads frames as RGB, `app` runs the loop).

Runs on the device install (numpy, OpenCV, an interpreter); never imports TensorFlow.
"""

from cifar_edge.camera_demo.app import run_camera
from cifar_edge.camera_demo.sources import open_source

__all__ = ["open_source", "run_camera"]
