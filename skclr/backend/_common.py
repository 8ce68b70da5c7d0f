"""What every backend module shares."""

from __future__ import annotations

import os
import re


def env_threads() -> int | None:
    """The first positive integer in ``OMP_NUM_THREADS`` ("4", "4,2"), or None if there is none."""
    match = re.search(r"\d+", os.environ.get("OMP_NUM_THREADS", ""))
    return int(match.group()) or None if match else None
