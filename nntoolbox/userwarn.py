"""Messages for the user: warnings that point at the user's line, not at the toolbox's, and the
first line of an exception quoted in an error message.

``warnings.warn``'s ``stacklevel`` counts frames, which differ between the paths
reaching one warning (``nn.x = v`` vs ``nn["x"] = v`` vs ``nn_create``); Python
3.12's ``skip_file_prefixes`` does this, but we support 3.10+.
"""
from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first frame outside the nntoolbox package (the user's call)."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def first_line(e: BaseException, limit: int = 200) -> str:
    """The first line of ``e``'s message, at most ``limit`` characters (a student's exception or Numba's
    typing report quoted in one line of ours)."""
    return (str(e).strip().splitlines() or [""])[0][:limit]
