"""Runnable demos (the course's ``test_for_*.m`` scripts); shared plumbing in :mod:`.common`."""
import os
from pathlib import Path

from ..cachedir import user_cache_dir, writable_dir

# Matplotlib (imported by the demos next) warns over three lines when its config dir is not writable
# (a service account without a writable home); give it a writable one first, as it would, but quietly.
if "MPLCONFIGDIR" not in os.environ and not writable_dir(
        Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "matplotlib"):
    _dir = user_cache_dir("matplotlib")
    if _dir is not None:
        os.environ["MPLCONFIGDIR"] = str(_dir)
