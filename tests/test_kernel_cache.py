"""Where compiled kernels are cached, and Ctrl-C held while kernels load (nntoolbox.kernels)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from nntoolbox import cachedir, kernels


def test_numba_cache_dir_setting_comes_first(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    assert kernels.choose_cache_dir() == (True, str(tmp_path / "numba"))


def test_unusable_settings_and_dirs_fall_through_to_a_private_temp_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/proc/no-such-dir")
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no-such-dir")
    monkeypatch.setattr(cachedir.tempfile, "tempdir", str(tmp_path))
    real = cachedir.writable_dir
    monkeypatch.setattr(kernels, "writable_dir", lambda p, private=False: "kernels" not in str(p) and real(p, private))
    cache, directory = kernels.choose_cache_dir()
    assert cache and directory == str(tmp_path / f"nntoolbox-numba-{os.getuid()}")
    assert Path(directory).stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_shared_temp_dir_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # another user could plant machine code here
    assert cachedir.writable_dir(shared)
    assert not cachedir.writable_dir(shared, private=True)


def test_nothing_writable_runs_uncached_with_a_one_line_note(monkeypatch, capsys):
    monkeypatch.setattr(kernels, "writable_dir", lambda p, private=False: False)
    monkeypatch.setattr(kernels, "user_cache_dir", lambda name: None)
    assert kernels._configure_cache() is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NUMBA_CACHE_DIR" in err[0]


def test_sigint_is_held_until_the_block_ends():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with kernels.sigint_deferred():
            signal.raise_signal(signal.SIGINT)
            done.append("after the signal")  # still runs: the interrupt waits
    assert done == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_deferred_keeps_a_custom_handler():
    seen = []
    old = signal.signal(signal.SIGINT, lambda s, f: seen.append(s))
    try:
        with kernels.sigint_deferred():
            signal.raise_signal(signal.SIGINT)
            assert not seen
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, old)
