"""The network's field names by kind (MATLAB ``nn`` struct fields): what :mod:`nntoolbox.network` stores
and :mod:`nntoolbox.names` keeps registered names away from.  A leaf: it imports nothing of the package."""
from __future__ import annotations

# Names of the parameter groups in buffer order within each layer.
PARAM_GROUPS = ("W", "b", "Gamma", "Beta")
GRAD_NAMES = {g: g + "_grad" for g in PARAM_GROUPS}

# Fields whose value must be a non-negative number / 0-1 flag / bool (course scalars and run flags).
_COUNTERS = {"AdamTime": int, "vecNum": float}
_FLAGS = ("encoder",)
_BOOLS = ("diverged", "interrupted")
_NUMBERS = ("grad_squared", "r")
# Transient fields filled by the training functions (course: nn.a{k}, nn.theta{k}).
_TRANSIENT = ("a", "theta")
# Fields that define the buffer layout: refused when edited (no way to rebuild them meaningfully).
_FIXED = ("size", "depth")
# Fields every network keeps (deleting one is refused), besides every nn_create option.
_REQUIRED = frozenset({*_FIXED, *_COUNTERS, *_FLAGS, *_NUMBERS, "cost", "dtype"})
