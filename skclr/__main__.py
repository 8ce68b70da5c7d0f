"""``python -m skclr``: see :mod:`skclr.cli`."""

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines bypass Python."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# TensorFlow's start-up lines (oneDNN, CUDA, CPU features) are noise on a command line, printed
# before its log level applies; a user who set TF_CPP_MIN_LOG_LEVEL sees them as they asked.
if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with _stderr_silenced():
        import tensorflow  # noqa: F401

from skclr.cli import main  # noqa: E402

sys.exit(main())
