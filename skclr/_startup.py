"""Import Keras (and its backend) with start-up log lines held to ``TF_CPP_MIN_LOG_LEVEL``.

TensorFlow's C++ start-up notices (CUDA stubs, oneDNN, CPU features) are written to file
descriptor 2, bypassing Python. Most of them honour ``TF_CPP_MIN_LOG_LEVEL``, but those logged
through absl before TensorFlow initializes absl's log ("WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR", then ``I0000 ... cudart_stub.cc:31]
Could not find cuda drivers``) ignore it: a user who set ``TF_CPP_MIN_LOG_LEVEL=3`` still sees
them. :func:`import_keras` captures what the import writes to file descriptor 2 and passes on
every line except the log lines below that level, so the level the user set is the level they get.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: TensorFlow's severities in the order TF_CPP_MIN_LOG_LEVEL counts them (0 shows all).
_SEVERITIES = "IWEF"
# absl's "I0000 00:00:1796399451.309733    4567 cudart_stub.cc:31] ..." and TensorFlow's own
# "2024-05-01 12:00:00.123456: I tensorflow/core/util/port.cc:113] ..."
_LOG_LINE = re.compile(
    r"(?:(?P<absl>[IWEF])\d{4} [\d:.]+\s+\d+ |\d{4}-\d\d-\d\d [\d:.]+: (?P<tf>[IWEF]) )\S+:\d+\] "
)
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def min_log_level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it: an integer, anything else 0."""
    try:
        return max(0, int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")))
    except ValueError:
        return 0


def drop_log_lines(text: str, level: int) -> str:
    """``text`` without the log lines (and their continuation lines) below ``level``.

    Lines that are not log lines (a Python warning, a message of another library) are kept.
    """
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if match:
            dropping = _SEVERITIES.index(match["absl"] or match["tf"]) < level
        elif line.rstrip("\r\n") == _ABSL_PREAMBLE:  # a notice about the log line after it
            if level > 0:
                continue
        elif dropping and _starts_a_python_report(line):  # not a continuation of the log message
            dropping = False
        if not dropping:
            kept.append(line)
    return "".join(kept)


def _starts_a_python_report(line: str) -> bool:
    """A Python warning ("file.py:12: UserWarning: ...") or traceback ends a dropped log message."""
    return line.startswith("Traceback (most recent call last)") or re.match(r"\S.*:\d+: \w+(Warning|Error): ", line) is not None


@contextlib.contextmanager
def _log_lines_below(level: int) -> Iterator[None]:
    """Hold what is written to file descriptor 2, then write it back without log lines below ``level``."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (an embedded interpreter): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as held:  # a file, not a pipe: a long message cannot block the import
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = drop_log_lines(held.read().decode(errors="replace"), level)
            if text:
                os.write(2, text.encode())


def import_keras() -> None:
    """Import Keras and its backend, dropping start-up log lines below ``TF_CPP_MIN_LOG_LEVEL``."""
    if "keras" in sys.modules:
        return
    level = min_log_level()
    if level == 0:  # the user asked for every line
        import keras  # noqa: F401

        return
    with _log_lines_below(level):
        import keras  # noqa: F401


def import_quietly(module: str) -> None:
    """Import ``module`` with start-up log lines below ``TF_CPP_MIN_LOG_LEVEL`` dropped (scikeras
    imports TensorFlow where it may, on TensorFlow: skclr's scikeras module)."""
    if module in sys.modules:
        return
    level = min_log_level()
    if level == 0:
        importlib.import_module(module)
        return
    with _log_lines_below(level):
        importlib.import_module(module)
