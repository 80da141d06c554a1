"""The network value (MATLAB ``nn`` struct) and the flat buffers behind it.

A :class:`Network` behaves like MATLAB's struct: ``nn.W[k]`` (MATLAB
``nn.W{k+1}``), ``nn["learning_rate"]``, ``nn.cost`` ...; cell arrays are
zero-based lists of 2-D arrays with MATLAB's shapes (``W[k]`` is
``size[k+1] x size[k]``, ``b[k]`` a column).  And like a MATLAB value:

* every ``nn_*`` function returns a new network and leaves its argument alone,
  so ``storedNN = nn`` keeps what it stored;
* ``copy.copy``, ``copy.deepcopy``, ``pickle`` and joblib give whole,
  independent networks;
* every field edit either works or is refused: ``nn.W[0] = A`` checks the
  shape ("nonconformant") and copies into the buffer; changing
  ``optimization_method``, ``batch_normalization``, ``dtype`` ... rebuilds what
  the new setting needs, as ``nn_create`` would (see :meth:`Network.__setitem__`).

Every trainable array lives in one flat buffer and every per-layer array the
user sees (``W[k]``, ``b[k]``, ``Gamma[k]``, ``Beta[k]``) is a view into it;
gradients (``W_grad`` ...) and optimizer state (``vW``, ``rW``, ``sW`` ...) live
in buffers with the same layout, batch-norm statistics (``E``, ``S``) in one
``(2, units)`` buffer.  :class:`Buffers` owns that layout and its invariants;
the kernels receive only buffers that :meth:`Network.checked_buffers` has
matched against the network's fields, so no Python-level edit can make a
kernel touch memory it does not own.
"""
from __future__ import annotations

import copy as _copy
import difflib
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Sequence

import numpy as np

from .fields import _REQUIRED, GRAD_NAMES, PARAM_GROUPS
from .options import METHOD_SLOTS, NAMES, OPTIONS, option_key
from .record import Record

# Field values a copy shares (immutable; a Record is read as its array, see nntoolbox.record).
_SHARED_TYPES = frozenset({str, int, float, bool, tuple, type(None), Record})
# a bit generator is made from a ready SeedSequence, then given the stored state: seeding from an int
# hashes it first (~10 us of each nn_train call)
_ANY_SEED = np.random.SeedSequence(0)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------- buffers
class Buffers:
    """The flat buffers of one network and the layout that maps them to layers.

    ``layout`` has one row ``(layer, group, offset, rows, cols)`` per parameter
    array; ``params`` and ``grads`` are 1-D of the layout's total length;
    ``state`` is ``(len(slots), n)`` (one row per optimizer state slot, named by
    its MATLAB prefix: ``v`` -> ``vW``, ``vb`` ...); ``stats`` is the
    ``(2, units)`` batch-norm ``E``/``S`` buffer, or None without batch norm.
    ``signature`` records what the layout was built for, so that a network can
    tell cheaply whether its fields still describe these buffers.
    """

    __slots__ = ("layout", "params", "grads", "state", "stats", "slots", "signature")

    def __init__(self, layout: np.ndarray, params: np.ndarray, grads: np.ndarray, state: np.ndarray,
                 stats: np.ndarray | None, slots: tuple[str, ...], signature: tuple) -> None:
        self.layout, self.params, self.grads, self.state = layout, params, grads, state
        self.stats, self.slots, self.signature = stats, slots, signature
        ends = np.cumsum(layout[:, 3] * layout[:, 4])
        if layout.flags.writeable or not np.array_equal(layout[:, 2], np.concatenate(([0], ends[:-1]))):
            raise RuntimeError("internal error: a buffer layout must be read-only and contiguous")
        self.verify()

    @classmethod
    def allocate(cls, sizes: Sequence[int], bn: bool, per_unit: bool, method: str, slots: tuple[str, ...],
                 dtype: np.dtype) -> "Buffers":
        """Zero-filled buffers for a network of ``sizes`` (Gamma/Beta when ``bn``), with one state row
        per slot of optimizer ``method``."""
        rows, off = [], 0
        for k in range(len(sizes) - 1):
            h, w = sizes[k + 1], sizes[k]
            shapes = [(h, w), (h, 1)]
            if bn:  # the course keeps one scalar gamma/beta per layer; standard BN one per unit
                shapes += [(h, 1) if per_unit else (1, 1)] * 2
            for g, (r, c) in enumerate(shapes):
                rows.append((k, g, off, r, c))
                off += r * c
        layout = _readonly(np.array(rows, dtype=np.int64).reshape(-1, 5))
        stats = np.zeros((2, sum(sizes[1:])), dtype=dtype) if bn else None
        return cls(layout, np.zeros(off, dtype), np.zeros(off, dtype), np.zeros((len(slots), off), dtype),
                   stats, tuple(slots), signature(sizes, bn, per_unit, method, dtype))

    def verify(self) -> None:
        """Check the buffers against the layout (shapes, dtypes, contiguity); RuntimeError if broken.

        Cheap (a few comparisons): every kernel entry calls it.  The layout itself is read-only and
        checked once, when the buffers are made."""
        n, dt, stats = self.params.shape[0], self.params.dtype, self.stats
        ok = (self.params.shape == self.grads.shape and self.state.shape == (len(self.slots), n)
              and n == self.layout_end and dt == self.signature[4]  # not dt.name: a Python property, 2 us
              and self.grads.dtype == dt and self.state.dtype == dt
              and self.params.flags.c_contiguous and self.grads.flags.c_contiguous and self.state.flags.c_contiguous
              and self.params.flags.writeable and self.grads.flags.writeable and self.state.flags.writeable
              and (stats is None if not self.signature[1] else
                   (stats is not None and stats.shape == (2, self.units) and stats.dtype == dt
                    and stats.flags.c_contiguous and stats.flags.writeable)))
        if not ok:
            raise RuntimeError("internal error: the network's buffers do not match their layout")

    @property
    def layout_end(self) -> int:
        last = self.layout[-1]
        return int(last[2] + last[3] * last[4])

    @property
    def units(self) -> int:
        return sum(self.signature[0][1:])

    def copy(self) -> "Buffers":
        out = Buffers.__new__(Buffers)
        out.layout, out.slots, out.signature = self.layout, self.slots, self.signature  # immutable
        out.params, out.grads, out.state = self.params.copy(), self.grads.copy(), self.state.copy()
        out.stats = None if self.stats is None else self.stats.copy()
        return out

    def astype(self, dtype: np.dtype) -> "Buffers":
        sig = self.signature[:-1] + (np.dtype(dtype).name,)
        return Buffers(self.layout, self.params.astype(dtype), self.grads.astype(dtype), self.state.astype(dtype),
                       None if self.stats is None else self.stats.astype(dtype), self.slots, sig)

    def views(self, buf: np.ndarray, group: int) -> list[np.ndarray]:
        """Per-layer 2-D views of ``buf`` (params, grads or a state row) for one parameter group."""
        return [buf[o:o + h * w].reshape(h, w) for (_, g, o, h, w) in self.layout if g == group]

    def stat_views(self, row: int, sizes: Sequence[int]) -> list[np.ndarray]:
        ends = np.cumsum(sizes[1:])
        starts = np.concatenate(([0], ends[:-1]))
        return [self.stats[row, a:b].reshape(-1, 1) for a, b in zip(starts, ends)]

    def groups(self) -> tuple[str, ...]:
        return tuple(PARAM_GROUPS[g] for g in sorted(set(self.layout[:, 1].tolist())))

    def aliases(self, a: np.ndarray) -> bool:
        """Whether ``a`` may be a view into one of these buffers (bounds check: cheap, conservative)."""
        return any(b is not None and np.may_share_memory(a, b) for b in (self.params, self.grads, self.state,
                                                                           self.stats))


def signature(sizes: Sequence[int], bn: bool, per_unit: bool, method: str, dtype: Any) -> tuple:
    """What a layout depends on: layer sizes, batch norm and its mode, the optimizer (its name stands for
    its state slots: a name is registered once), dtype."""
    return (tuple(int(s) for s in sizes), bool(bn), bool(bn and per_unit), str(method), np.dtype(dtype).name)


# ------------------------------------------------------------------------- layer lists
class LayerList(list):
    """A MATLAB cell array of per-layer arrays (``nn.W``) whose entries are views into a buffer.

    ``nn.W[k] = A`` copies ``A`` into the buffer after checking its shape (no
    silent reshape); in-place edits (``nn.W[k][0, 0] = 1``, ``nn.W[k] *= 2``)
    work as usual; the number of layers cannot change.  When ``A`` is itself a
    view into the network (``nn.W[0], nn.W[1] = nn.W[1], nn.W[0]``), the network
    first moves to new buffers, so the arrays still to be assigned keep their
    values (arrays taken from ``nn`` before such an assignment no longer write into it).
    """

    __slots__ = ("_name", "_owner")

    def __init__(self, name: str, views: Sequence[np.ndarray], owner: "Network | None" = None) -> None:
        super().__init__(views)
        self._name = name
        self._owner = None if owner is None else weakref.ref(owner)

    def __setitem__(self, k: Any, value: Any) -> None:
        if isinstance(k, slice):
            n = len(list.__getitem__(self, k))
            values = list(value) if not isinstance(value, np.ndarray) else [value]
            if len(values) != n:
                raise ValueError(f"nn.{self._name}[{k.start}:{k.stop}] has {n} layers; got {len(values)} arrays")
            self._detach_from(values)
            for t, v in zip(list.__getitem__(self, k), values):
                assign_into(t, v, f"nn.{self._name}[...]")
            return
        try:
            target = list.__getitem__(self, k)
        except TypeError:
            raise TypeError(f"nn.{self._name} indices must be integers; got {type(k).__name__}") from None
        except IndexError:
            raise IndexError(f"nn.{self._name}[{k}]: the network has {len(self)} layers "
                             f"(MATLAB nn.{self._name}{{k}} is nn.{self._name}[k-1])") from None
        if value is not target and self._detach_from([value]):
            target = list.__getitem__(self, k)
        assign_into(target, value, f"nn.{self._name}[{k}]")

    def _detach_from(self, values: list) -> bool:
        """Move the owning network to new buffers when a value to assign is a view into its buffers, so
        that writing one layer cannot change a value still to be written (a swap); True if it moved."""
        nn = None if self._owner is None else self._owner()
        if nn is None or not any(isinstance(v, np.ndarray) and nn._buf.aliases(v) for v in values):
            return False
        nn._detach_buffers()
        return True

    def _fixed(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"nn.{self._name} has one entry per layer; its length cannot change "
                        "(create a network of another size with nn_create)")

    append = extend = insert = pop = remove = clear = sort = reverse = __delitem__ = _fixed
    __iadd__ = __imul__ = _fixed  # type: ignore[assignment]

    def __reduce__(self) -> tuple:  # pickles / copies as a plain list of arrays
        return (list, (list(self),))


def assign_into(target: np.ndarray, value: Any, what: str) -> None:
    """Copy ``value`` into the buffer view ``target`` after checking it (MATLAB: "nonconformant")."""
    if value is target:
        return  # nn.W[k] += 1 assigns the (already changed) view back
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{what} must be a numeric array of shape {target.shape}; got {type(value).__name__}")
    try:
        a = np.asarray(value)
    except Exception as e:  # noqa: BLE001 - ragged lists and the like
        raise TypeError(f"{what} must be a numeric array of shape {target.shape}: {e}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a real numeric array of shape {target.shape}; got dtype {a.dtype}")
    shape = target.shape
    vector_ok = shape[1] == 1 and a.ndim <= 1 and a.size == shape[0]  # b(:) as a row, a list or a scalar
    if a.shape != shape and not vector_ok:
        raise ValueError(f"{what}: nonconformant assignment: the array has shape {a.shape}, the layer needs "
                         f"{shape}" + (" (transposed?)" if a.shape == shape[::-1] else ""))
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: the array contains NaN or inf")
    target[...] = a.reshape(shape)


# ------------------------------------------------------------------------------ network
class Network(MutableMapping):
    """The course's ``nn`` struct as a Python value (see the module docstring)."""

    __slots__ = ("_fields", "_buf", "_views", "_rng_state", "_dropout_seed", "_dropout_step", "_given",
                 "_scratch", "_hist", "_memo", "__weakref__")

    # ---- construction (internal: networks come from nn_create / nn_load) ----
    @classmethod
    def _from_parts(cls, fields: dict[str, Any], buf: Buffers, rng: np.random.Generator, dropout_seed: int,
                    given: frozenset) -> "Network":
        nn = cls.__new__(cls)
        nn._fields, nn._buf, nn._views, nn._rng_state = fields, buf, {}, rng.bit_generator.state
        nn._dropout_seed, nn._dropout_step, nn._given = int(dropout_seed), 0, frozenset(given)
        nn._scratch, nn._hist, nn._memo = {}, {}, {}
        return nn

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("create networks with nn_create(sizes, ...) or load them with nntoolbox.io.nn_load")

    # ---- copies: whole, independent networks ----
    def copy(self) -> "Network":
        """An independent copy (MATLAB ``nn2 = nn``): own buffers, fields and random generator."""
        out = Network.__new__(Network)
        fields = self._fields.copy()
        for k, v in fields.items():
            if type(v) in _SHARED_TYPES:  # most fields: one set lookup instead of the isinstance chain
                continue
            if isinstance(v, np.ndarray):
                if v.flags.writeable:  # read-only arrays (made by the library) are shared
                    fields[k] = v.copy()
            elif not isinstance(v, (*_SHARED_TYPES, np.generic)):  # subclasses, numpy scalars: shared too
                fields[k] = _copy.deepcopy(v)
        init = object.__setattr__  # (not the checking __setattr__: a copy is made twice per course epoch)
        init(out, "_fields", fields)
        init(out, "_buf", self._buf.copy())
        init(out, "_views", {})
        init(out, "_rng_state", self._rng_state)  # replaced, never changed in place: shared
        init(out, "_dropout_seed", self._dropout_seed)
        init(out, "_dropout_step", self._dropout_step)
        init(out, "_given", self._given)
        # their arrays are never changed in place; the memo is rebound (not cleared) when a field changes
        init(out, "_scratch", dict(self._scratch))
        init(out, "_hist", self._hist)
        init(out, "_memo", self._memo)
        return out

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> "Network":
        return self.copy()

    def __getstate__(self) -> dict:
        return {"fields": self._fields, "buf": (self._buf.layout, self._buf.params, self._buf.grads,
                                                 self._buf.state, self._buf.stats, self._buf.slots,
                                                 self._buf.signature),
                "rng": self._rng_state, "dropout": (self._dropout_seed, self._dropout_step), "given": self._given,
                "scratch": self._scratch, "hist": self._hist}

    def __setstate__(self, state: dict) -> None:
        layout, params, grads, st, stats, slots, sig = state["buf"]
        self._fields, self._rng_state, self._given = state["fields"], state["rng"], state["given"]
        # np.array copies: joblib.load(mmap_mode='r') and joblib's worker memmaps hand back read-only arrays
        method = self._fields["optimization_method"]
        if not isinstance(sig[3], str):  # pickled when a signature held the slots, not the optimizer's name
            sig = (*sig[:3], method, *sig[4:])
        self._buf = Buffers(_readonly(np.array(layout)), np.array(params, order="C"), np.array(grads, order="C"),
                            np.array(st, order="C"), None if stats is None else np.array(stats, order="C"),
                            tuple(slots), tuple(sig))
        self._dropout_seed, self._dropout_step = state["dropout"]
        self._scratch, self._hist, self._views, self._memo = state["scratch"], state["hist"], {}, {}
        check_registrations(self._fields, "unpickling a network")
        if self._buf.slots != METHOD_SLOTS[method]:  # the signature names the method: its slots must agree
            raise ValueError(f"unpickling a network: its optimizer {method!r} kept the state slots {self._buf.slots} "
                             f"where it was saved, but is registered here with {METHOD_SLOTS[method]}; register "
                             "it as it was, then load the network")
        if not isinstance(self._fields["cost"], Record):  # pickled before records grew in place (issue 21)
            self._fields["cost"] = Record(self._fields["cost"], float)
            self._hist = {k: Record(v) for k, v in self._hist.items()}

    # ---- mapping interface ----
    def _view_fields(self) -> dict[str, tuple[str, Any]]:
        """Buffer-backed field name -> (kind, index): params/grads/state groups, E/S (memoised: it
        depends on the buffers' layout only, and new buffers clear the memo)."""
        out = self._memo.get("view_fields")
        if out is not None:
            return out
        out = {}
        for g in self._buf.groups():
            gid = PARAM_GROUPS.index(g)
            out[g] = ("params", gid)
            out[GRAD_NAMES[g]] = ("grads", gid)
            for slot, prefix in enumerate(self._buf.slots):
                out[prefix + g] = ("state", (slot, gid))
        if self._buf.stats is not None:
            out["E"], out["S"] = ("stats", 0), ("stats", 1)
        self._memo["view_fields"] = out
        return out

    def _layers(self, name: str) -> LayerList | None:
        lst = self._views.get(name)
        if lst is not None:
            return lst
        views = self._layer_views(name)
        if views is None:
            return None
        lst = self._views[name] = LayerList(name, views, self)
        return lst

    def _layer_views(self, name: str) -> list[np.ndarray] | None:
        """Per-layer views of the buffer-backed field ``name``, None if it is not one."""
        spec = self._view_fields().get(name)
        if spec is None:
            return None
        kind, idx = spec
        b = self._buf
        if kind == "params":
            return b.views(b.params, idx)
        if kind == "grads":
            return b.views(b.grads, idx)
        if kind == "state":
            return b.views(b.state[idx[0]], idx[1])
        return b.stat_views(idx, self.sizes)

    def _detach_buffers(self) -> None:
        """Same values in new buffers; the layer lists handed out so far are re-pointed at them (arrays
        taken from them before keep the old memory: see :class:`LayerList`)."""
        self._buf = self._buf.copy()
        for name, lst in self._views.items():
            list.__setitem__(lst, slice(None), self._layer_views(name))

    def __getitem__(self, key: str) -> Any:
        try:
            value = self._fields[key]
        except KeyError:
            pass
        except TypeError:
            raise KeyError(key) from None
        else:
            return value.array() if type(value) is Record else value
        lst = self._layers(key) if isinstance(key, str) else None
        if lst is not None:
            return lst
        if key == "history" and self._hist:
            import pandas as pd  # noqa: PLC0415 - ~0.4 s to import: only when a history is read

            return pd.DataFrame({k: np.array(v) for k, v in self._hist.items()})  # copies of the Records
        option = option_field(key)
        if option in self._fields:
            return self._fields[option]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._fields or (isinstance(key, str) and (
            key in self._view_fields() or (key == "history" and bool(self._hist))
            or option_field(key) in self._fields))

    def __iter__(self) -> Iterator[str]:
        yield from self._fields
        yield from self._view_fields()
        if self._hist:
            yield "history"

    def __len__(self) -> int:
        return len(self._fields) + len(self._view_fields()) + bool(self._hist)

    def __setitem__(self, key: str, value: Any) -> None:
        """Edit a field the way MATLAB's ``nn.field = value`` would, or refuse clearly.

        * per-layer arrays (``W``, ``b``, ``Gamma``, ``Beta``, gradients, optimizer
          state ``vW`` ..., ``E``, ``S``): a list with one array of the right shape per
          layer, copied into the buffers;
        * ``nn_create`` options: validated as ``nn_create`` validates them; structural
          ones rebuild what they need (:mod:`nntoolbox.edits`);
        * ``size``/``depth``: refused (create a new network);
        * course scalars (``AdamTime``, ``vecNum``, ``encoder``, ``cost`` ...): type-checked;
        * any other name: a new field, as in MATLAB, unless it looks like a misspelt one.
        """
        from .edits import set_field  # noqa: PLC0415 - edits imports this module
        set_field(self, key, value)

    def __delitem__(self, key: str) -> None:
        if key in self._fields and key not in _REQUIRED and key not in OPTIONS:
            del self._fields[key]
        elif key == "history" and self._hist:
            self._hist = {}
        else:
            raise KeyError(f"nn.{key} cannot be removed" if key in self else key)

    # ---- attribute access: nn.W is nn["W"] ----
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"network has no field {name!r}; fields: {', '.join(sorted(self.public_fields()))}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            if name in _SLOTS:
                object.__setattr__(self, name, value)
                return
            raise AttributeError(f"nn.{name}: fields starting with '_' are internal")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError as e:
            raise AttributeError(str(e)) from None

    def __dir__(self) -> list[str]:
        return sorted(set(object.__dir__(self)) | set(self.public_fields()))

    def public_fields(self) -> Iterator[str]:
        """Field names a MATLAB user would see."""
        return iter(self)

    __eq__ = object.__eq__  # type: ignore[assignment] - a network compares by identity, like a handle-free value
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Network(size={list(self.sizes)}, "
            f"active_function={self._fields.get('active_function')!r}, "
            f"output_function={self._fields.get('output_function')!r}, "
            f"optimization_method={self._fields.get('optimization_method')!r}, "
            f"objective_function={self._fields.get('objective_function')!r})"
        )

    # ---- internal helpers used by the engines ----
    @property
    def sizes(self) -> tuple[int, ...]:
        return self._buf.signature[0]

    def layout_signature(self) -> tuple:
        """The signature the network's current fields ask for (compare with ``_buf.signature``);
        memoised until a field changes."""
        sig = self._memo.get("signature")
        if sig is None:
            f = self._fields
            sig = self._memo["signature"] = signature(
                self._buf.signature[0], bool(f["batch_normalization"]), f["bn_mode"] == "standard",
                f["optimization_method"], f["dtype"])
        return sig

    def checked_buffers(self) -> Buffers:
        """The buffers, after checking that they still match the fields (cheap): every kernel entry."""
        if self._buf.signature != self.layout_signature():
            raise RuntimeError("internal error: the network's buffers do not match its fields "
                               f"({self._buf.signature} vs {self.layout_signature()})")
        self._buf.verify()
        return self._buf

    def _set_buffers(self, buf: Buffers) -> None:
        self._buf, self._views, self._memo = buf, {}, {}

    def _generator(self) -> np.random.Generator:
        """A generator continuing the network's batch-order stream (store it back with ``_rng_state``)."""
        bg = getattr(np.random, self._rng_state["bit_generator"])(_ANY_SEED)  # seeding is overwritten
        bg.state = self._rng_state
        return np.random.Generator(bg)


_SLOTS = frozenset(Network.__slots__)


def check_registrations(fields: Mapping[str, Any], where: str) -> None:
    """``ValueError`` naming the missing registration when the network described by ``fields`` uses an
    optimizer or activation this process has not registered (e.g. a pickle loaded elsewhere)."""
    for field, how in (("optimization_method", "register_optimizer"), ("active_function", "register_activation"),
                       ("output_function", "register_activation")):
        name = fields.get(field)
        if isinstance(name, str) and name not in NAMES[field]:
            raise ValueError(f"{where}: the network's {field.replace('_', ' ')} {name!r} is not registered in this "
                             f"process; register it first ({how}({name!r}, ...), or import the module or "
                             "--import file that does), then load the network")


def option_field(key: Any) -> str | None:
    """The option a field name spells, for reads and edits alike (nn["learning rate"] is nn.learning_rate);
    None for other names.  A per-layer name is never an option: nn.Beta (batch norm) is not nn.beta."""

    return option_key(key) if isinstance(key, str) and key not in PARAM_GROUPS else None


def n_layers(nn: Network) -> int:
    """Number of weight layers (MATLAB ``nn.depth - 1``)."""
    return len(nn.sizes) - 1


def near_miss(name: str, known: Sequence[str]) -> str | None:
    """The known field ``name`` is probably a misspelling of, if any."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    if not close:
        lower = {k.lower().replace("_", ""): k for k in known}
        hit = lower.get(name.lower().replace("_", "").replace(" ", ""))
        return hit if hit != name else None
    return close[0]
