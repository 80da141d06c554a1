"""The struct-like network (MATLAB ``nn`` struct) and its flat parameter buffers.

A :class:`Network` is a ``dict`` whose keys are also attributes, so course code
ports line by line: MATLAB ``nn.W{k}`` is ``nn.W[k-1]`` (or ``nn["W"][k-1]``);
cell arrays become zero-based Python lists of 2-D arrays with MATLAB's shapes
(``W[k]`` is ``size[k+1] x size[k]``, ``b[k]`` is a column).

Every trainable array lives in one flat buffer (``nn._params``) and every
per-layer array the user sees (``W[k]``, ``b[k]``, ``Gamma[k]``, ``Beta[k]``) is
a view into it; gradients (``W_grad`` ...) and optimizer state (``vW``, ``rW``,
``sW`` ...) live in buffers with the same layout.  That makes an optimizer
update one loop over a vector, and lets a fused kernel train without copying.
If a user replaces a list entry (``nn.W[0] = A``), :func:`sync_buffers` copies
it back into the buffer before the next fused step.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

# Names of the parameter groups in buffer order within each layer, and the
# MATLAB-style field names of their gradient / optimizer-state views.
PARAM_GROUPS = ("W", "b", "Gamma", "Beta")
GRAD_NAMES = {g: g + "_grad" for g in PARAM_GROUPS}
# optimizer state slots: prefix letter used by the course (vW, rW, sW, ...)
STATE_PREFIXES = ("v", "r", "s")


class Network(dict):
    """A dict with attribute access, standing in for MATLAB's ``nn`` struct."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"network has no field {name!r}; fields: {', '.join(sorted(self.public_fields()))}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.public_fields()))

    def public_fields(self) -> Iterator[str]:
        """Fields a MATLAB user would see (internal ones start with ``_``)."""
        return (k for k in self.keys() if not k.startswith("_"))

    def copy(self) -> "Network":  # noqa: D102 - deep copy keeps views consistent
        return copy_network(self)

    def __repr__(self) -> str:
        return (
            f"Network(size={list(map(int, self.get('size', [])))}, "
            f"active_function={self.get('active_function')!r}, "
            f"output_function={self.get('output_function')!r}, "
            f"optimization_method={self.get('optimization_method')!r}, "
            f"objective_function={self.get('objective_function')!r})"
        )


def layer_shapes(nn: Network) -> list[dict[str, tuple[int, int]]]:
    """Shape of each parameter group per layer (only groups the network has)."""
    sizes = [int(s) for s in nn["size"]]
    per_unit = nn["bn_mode"] == "standard"
    shapes = []
    for k in range(len(sizes) - 1):
        h, w = sizes[k + 1], sizes[k]
        d = {"W": (h, w), "b": (h, 1)}
        if nn["batch_normalization"]:
            # the course keeps one scalar gamma/beta per layer; standard BN one per unit
            d["Gamma"] = (h, 1) if per_unit else (1, 1)
            d["Beta"] = d["Gamma"]
        shapes.append(d)
    return shapes


def build_layout(nn: Network) -> np.ndarray:
    """Offsets table: one row per (layer, group) = (layer, group_id, offset, rows, cols)."""
    rows, off = [], 0
    for k, groups in enumerate(layer_shapes(nn)):
        for g, (h, w) in groups.items():
            rows.append((k, PARAM_GROUPS.index(g), off, h, w))
            off += h * w
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def _views(buf: np.ndarray, layout: np.ndarray, group: int) -> list[np.ndarray]:
    return [buf[o:o + h * w].reshape(h, w) for (_, g, o, h, w) in layout if g == group]


def _expose(nn: Network, field: str, views: list[np.ndarray]) -> None:
    """Set ``nn[field]`` to a list of buffer views and remember them for :func:`sync_buffers`."""
    nn.setdefault("_owned", {})[field] = tuple(views)
    nn[field] = list(views)


def attach_buffers(nn: Network, params: np.ndarray, grads: np.ndarray, state: np.ndarray) -> None:
    """Store the flat buffers on ``nn`` and expose MATLAB-named per-layer views."""
    layout = nn["_layout"]
    nn["_params"], nn["_grads"], nn["_state"] = params, grads, state
    for gid, g in enumerate(PARAM_GROUPS):
        if not np.any(layout[:, 1] == gid):
            continue
        _expose(nn, g, _views(params, layout, gid))
        _expose(nn, GRAD_NAMES[g], _views(grads, layout, gid))
        for slot, prefix in enumerate(nn["_state_slots"]):
            _expose(nn, prefix + g, _views(state[slot], layout, gid))


def attach_stats(nn: Network, stats: np.ndarray) -> None:
    """Batch-norm statistics ``E``/``S``: per-layer column views into one (2, units) buffer."""
    nn["_bnstats"] = stats
    ends = np.cumsum([int(s) for s in nn["size"][1:]])
    starts = np.concatenate(([0], ends[:-1]))
    for row, field in enumerate(("E", "S")):
        _expose(nn, field, [stats[row, a:b].reshape(-1, 1) for a, b in zip(starts, ends)])


def sync_buffers(nn: Network) -> None:
    """Copy any per-layer array the user replaced back into the flat buffers.

    Cheap (an identity check per array); called before fused work so that
    ``nn.W[0] = new_array`` behaves as it would in MATLAB.
    """
    for field, views in nn["_owned"].items():
        lst = nn[field]
        if len(lst) != len(views):
            raise ValueError(f"nn.{field} has {len(lst)} entries, expected {len(views)} (one per layer)")
        if not isinstance(lst, list):
            lst = nn[field] = list(lst)
        for i, view in enumerate(views):
            if lst[i] is view:
                continue  # still our view (possibly changed in place)
            a = np.asarray(lst[i], dtype=view.dtype)
            if a.size != view.size:
                raise ValueError(f"nn.{field}[{i}] has shape {a.shape}, expected {view.shape}")
            view[...] = a.reshape(view.shape)
            lst[i] = view


def copy_network(nn: Network) -> Network:
    """Deep copy whose per-layer arrays are views into its own new buffers."""
    sync_buffers(nn)
    # buffers and their per-layer views are rebuilt below, not copied one array at a time
    skip = {"_params", "_grads", "_state", "_bnstats", "_rng", "_owned", *nn["_owned"]}
    out = Network()
    for k, v in nn.items():
        if k in skip:
            continue
        if isinstance(v, np.ndarray):
            out[k] = v.copy()
        elif isinstance(v, list):
            out[k] = [x.copy() if isinstance(x, np.ndarray) else x for x in v]
        else:
            out[k] = v
    out["_rng"] = _copy_rng(nn.get("_rng"))
    attach_buffers(out, nn["_params"].copy(), nn["_grads"].copy(), nn["_state"].copy())
    if "_bnstats" in nn:
        attach_stats(out, nn["_bnstats"].copy())
    return out


def _copy_rng(rng: np.random.Generator | None) -> np.random.Generator | None:
    if rng is None:
        return None
    new = np.random.Generator(type(rng.bit_generator)())
    new.bit_generator.state = rng.bit_generator.state
    return new


def n_layers(nn: Network) -> int:
    """Number of weight layers (MATLAB ``nn.depth - 1``)."""
    return int(nn["depth"]) - 1
