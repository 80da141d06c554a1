"""The rules for names a student registers: optimizers, activations and hyper-parameters.

Option values are looked up case-insensitively (``'adam'`` is ``'Adam'``), a
network is a MATLAB struct (``nn.<Name>Time``, ``nn.<hyper>``), and every
hyper-parameter becomes both an ``nn_create`` option and a network field.  So
a registered name must be a MATLAB field name (``namelengthmax`` 31 with its
suffix), and must not collide, ignoring case, with a registered name or with a
field or option of the network; otherwise a registration could silently
replace a built-in or break every ``nn_create`` in the process (issue 21
items 4, 8, 9).
"""
from __future__ import annotations

import re

from .fields import _BOOLS, _REQUIRED, _TRANSIENT, GRAD_NAMES, PARAM_GROUPS
from .options import NAMES, OPTIONS

MATLAB_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
NAMELENGTHMAX = 31  # MATLAB's longest field name
# Fields a network holds besides its options and the ones in network.py (nn_train's, nntoolbox.io's)
_OTHER_FIELDS = ("E", "S", "history", "best_epoch", "input_mean", "input_std", "dropout_seed", "dropout_step")


# Optimizer state slot prefixes registered so far ('v' gives the fields vW, vb ...), added by register_optimizer
SLOTS: set[str] = set()


def network_fields() -> set[str]:
    """Every field name a network has or may have (optimizer state ``vW`` ... included), and every
    ``nn_create`` option, lower-cased."""
    names = {*OPTIONS, *_REQUIRED, *_TRANSIENT, *_BOOLS, *PARAM_GROUPS, *GRAD_NAMES.values(), *_OTHER_FIELDS,
             *(s + g for s in SLOTS for g in PARAM_GROUPS)}
    return {n.lower() for n in names}


def registered_names() -> dict[str, str]:
    """Every registered optimizer and activation name, lower-cased -> as registered."""
    return {n.lower(): n for names in NAMES.values() for n in names}


def check_registered_name(where: str, name: object, suffix: str = "", builtin: bool = False) -> str:
    """``name`` if it may be registered (see the module docstring), else ``TypeError``/``ValueError``
    starting with ``where`` (e.g. ``"register_optimizer('adam')"``).  The course's built-ins predate
    the rule on fields ('Adam' and the option 'adam'): ``builtin`` skips it."""
    if not isinstance(name, str):
        raise TypeError(f"{where}: the name must be a string; got {type(name).__name__}")
    if not MATLAB_FIELD.match(name) or len(name + suffix) > NAMELENGTHMAX:
        field = f" (nn.<name>{suffix} is a field)" if suffix else ""
        raise ValueError(f"{where}: the name must be a MATLAB field name: a letter, then letters, digits or "
                         f"'_', no spaces, at most {NAMELENGTHMAX - len(suffix)} characters{field}; got {name[:60]!r}")
    taken = registered_names().get(name.lower())
    if taken is not None:
        raise ValueError(f"{where}: {taken!r} is already registered (names are matched ignoring case); "
                         "choose another name")
    if not builtin and name.lower() in network_fields():
        raise ValueError(f"{where}: {name!r} is the name of a network field or nn_create option; choose another name")
    return name


def check_hyper_name(where: str, key: object, slots: tuple[str, ...], shared: set[str]) -> str:
    """A hyper-parameter name: a lower-case identifier that is not a network field, an ``nn_create``
    option (but the ``shared`` ones, e.g. ``momentum``) or a state slot prefix (registered or the
    optimizer's own ``slots``)."""
    if not isinstance(key, str) or not MATLAB_FIELD.match(key) or key != key.lower() or len(key) > NAMELENGTHMAX:
        raise ValueError(f"{where}: hyper-parameter names must be lower-case MATLAB field names such as "
                         f"'rho' (at most {NAMELENGTHMAX} characters); got {str(key)[:60]!r}")
    if key in OPTIONS and key not in shared:
        raise ValueError(f"{where}: hyper-parameter {key!r} would replace the nn_create option of that name; "
                         f"choose another name (shared ones: {sorted(shared)})")
    if key not in shared and (key in network_fields() or key in SLOTS or key in slots):
        raise ValueError(f"{where}: hyper-parameter {key!r} is the name of a network field or optimizer state "
                         "slot (it would become nn." + key + "); choose another name")
    return key
