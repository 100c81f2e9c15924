"""Give memory freed by Python back to the system.

glibc keeps what ``free`` returns in its arenas for the process to reuse: after a large
temporary (a chunked decode, a sealed piece) the resident size stays at its peak. Measured on
the dashboards' reads during a burst (bench/RESULTS.md, issue #26), ``malloc_trim`` returned
about 150 MB of 530. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable


def _trimmer() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None


_TRIM = _trimmer()


def release_memory() -> None:
    """Return free heap memory to the system (cheap: a few milliseconds)."""
    if _TRIM is not None:
        _TRIM(0)
