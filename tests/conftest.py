"""Shared test helpers: the parity fixtures made by running the course code in GNU Octave."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

FIXTURES = Path(__file__).parent / "fixtures"
PARITY_CASES = sorted(p.stem for p in FIXTURES.glob("*.mat"))
SHARED = Path(__file__).resolve().parents[2] / "shared"


def load_case(name: str) -> dict:
    d = scipy.io.loadmat(FIXTURES / f"{name}.mat")
    out = {k: v for k, v in d.items() if not k.startswith("__")}
    out["options"] = [v.item() if v.size == 1 else str(v[0]) for v in np.ravel(d["options"])]
    out["options"] = [str(v) if isinstance(v, str) else v for v in out["options"]]
    out["kind"] = str(d["kind"][0])
    out["perms0"] = d["perms0"].astype(np.int64)
    for k in ("batch_size", "epochs", "seed"):
        out[k] = int(d[k].item())
    return out


def struct_field(s: np.ndarray, name: str):
    """A field of a loadmat struct, cell arrays as lists of 2-D arrays."""
    v = s[0, 0][name]
    if v.dtype == object:
        return [np.atleast_2d(np.asarray(c, dtype=float)) for c in v.ravel()]
    return v


def assert_close(actual, expected, what: str, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.size == e.size, f"{what}: size {a.shape} vs {e.shape}"
    a, e = a.reshape(e.shape), e
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


@pytest.fixture(params=PARITY_CASES)
def parity_case(request):
    return request.param, load_case(request.param)


@pytest.fixture
def saved_figures(monkeypatch) -> list:
    """Every Figure nntoolbox.plotting saves, kept (it clears them once saved) so a test can inspect its axes."""
    import nntoolbox.plotting as plotting
    figures, save = [], plotting._save

    def keep(fig, path, dpi, keep=False):
        figures.append(fig)
        return save(fig, path, dpi, keep=True)
    monkeypatch.setattr(plotting, "_save", keep)
    return figures
