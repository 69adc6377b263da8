"""The camera demo: frames from a webcam, video, image folder or Raspberry Pi camera, classified
live by an exported model (`sources` reads frames as RGB, `app` runs the loop, `server` and `live_feed`
make it a web page with --serve).

Runs on the device install (numpy, OpenCV, an interpreter); never imports TensorFlow.
"""

from cifar_edge.camera_demo.app import ServeOptions, run_camera
from cifar_edge.camera_demo.sources import open_source

__all__ = ["ServeOptions", "open_source", "run_camera"]
