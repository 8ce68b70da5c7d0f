"""Warnings that point at the user's line, however deep in skclr they are raised."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the line that called into skclr.

    A fixed ``stacklevel`` is right for one call path only: the range test warns from
    ``LRFinder.find`` called by the user, by ``CLRClassifier.fit`` or by ``find_lr``, at different
    depths, and scikeras's ``fit`` may stand between two skclr frames. So the warning goes to the
    caller of the outermost skclr frame: the user's line, or scikit-learn's under
    ``cross_val_score``, as a warning raised in ``fit`` itself would.
    """
    frame, level, outermost = sys._getframe(1), 2, None  # stacklevel 2: this function's caller
    while frame is not None:
        if os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            outermost = level
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=2 if outermost is None else outermost + 1)
