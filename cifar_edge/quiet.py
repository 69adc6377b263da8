"""Keeps TensorFlow's start-up lines off the screen, for the CLI and the benchmark scripts alike.

While Keras is imported, TensorFlow's C++ start-up writes the oneDNN notice, `cudart_stub` and `failed
call to cuInit` lines to file descriptor 2 before any log level applies, so TF_CPP_MIN_LOG_LEVEL alone
does not hide them (checked with TensorFlow 2.21: `TF_CPP_MIN_LOG_LEVEL=3 python -c "import keras"` still
prints them).  Whoever sets TF_CPP_MIN_LOG_LEVEL decides: 0 shows everything.
"""

from __future__ import annotations

import os
import sys


def import_keras_quietly() -> None:
    """Imports Keras with file descriptor 2 pointed at /dev/null.  An import error is dropped here (a Pi
    install has no Keras); code that needs Keras meets it again at its own import, with stderr back."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import keras  # noqa: F401
            except ImportError:
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def hide_tensorflow_start_up() -> None:
    """Unless TF_CPP_MIN_LOG_LEVEL is already set: imports Keras quietly now, and keeps TensorFlow's
    later log lines down to fatal ones."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import_keras_quietly()
