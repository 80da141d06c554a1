"""``nn_checkgradient`` (DeepLearnToolbox ``nnchecknumgrad``): back-propagation against central differences.

Which cost is differentiated -- exactly the one ``nn_backpropagation`` differentiates:

* the batch cost of ``nn_forward`` (training mode): the course's ``0.5*sum((a-y).^2)/m`` for MSE,
  the cross entropy, plus ``0.5*weight_decay*sum(W.^2)`` and the sparse autoencoder's KL penalty;
* cross entropy with ``ce_cost='course'``: the course reports HALF the cross entropy but
  back-propagates ``a - y``, the gradient of the full one, so the full one is differentiated;
* ``bn_mode='course'``: the backward pass treats the running mean ``E`` and std ``S`` as constants,
  so the differences normalise with ``E``/``S`` frozen where ``nn_forward`` left them after this
  batch (at the unperturbed point that is the cost ``nn_forward`` reports);
  ``bn_mode='standard'`` normalises with the batch's own statistics, as its backward pass;
* dropout (``dropout='inverted'``): every evaluation uses the masks of the analytic pass.

The optimizer does not enter: it only uses the gradient.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .backprop import nn_backpropagation
from .checks import check_finite_parameters, check_trainable, check_training_data
from .forward import forward_train, nn_forward
from .network import PARAM_GROUPS, Network
from .options import check_number

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("parameter", "shape", "max_abs_error", "max_relative_error", "worst_index", "max_abs_gradient",
           "not_smooth")
PASS = 1e-6  # largest max_relative_error of a correct gradient, in float64
FLOOR = 1e-3  # relative errors are measured against at least FLOOR x the network's largest gradient


def nn_checkgradient(nn: Network, x: Any, y: Any, epsilon: float = 1e-5) -> "pd.DataFrame":
    """Check ``nn_backpropagation`` against central differences of the batch cost
    (DeepLearnToolbox ``nnchecknumgrad(nn, x, y)``), for every entry of every ``W``, ``b``
    (and ``Gamma``, ``Beta`` with batch normalisation).

    ``x``, ``y``: a small batch (rows are samples, raw inputs as for ``nn_forward``).  The numeric
    gradient is the central difference ``D(h) = (C(p + h) - C(p - h)) / 2h`` of the cost ``C``,
    Richardson-extrapolated, ``(4 D(epsilon) - D(2 epsilon)) / 3``: its error falls as ``epsilon**4``,
    so rounding, not the step, limits it: the default 1e-5 agrees with a correct gradient to ~1e-7 or
    better (plain ``D`` would leave ~1e-6, the pass mark itself).  Every evaluation runs on a private
    copy whose batch-norm statistics and dropout masks are reset to those of the analytic pass; ``nn``
    is unchanged.  A float32 network is checked in float64 (on a copy), so its rounding does not hide
    or fake an error.  The cost is the one back-propagation differentiates (module docstring).

    Returns a pandas DataFrame, one row per parameter array: ``parameter`` (``'W[0]'``, ``'b[0]'``,
    ``'Gamma[1]'`` ...: zero-based, MATLAB's ``nn.W{1}`` is ``W[0]``), ``shape``, ``max_abs_error``,
    ``max_relative_error``, ``worst_index`` (row, column of that array's worst entry),
    ``max_abs_gradient`` and ``not_smooth`` (entries not compared, see below).  An entry's relative
    error is ``|analytic - numeric| / max(|analytic|, |numeric|, 1e-3 * g)``, ``g`` the largest
    numeric gradient of the network (entries near 0 are measured on the network's scale, where
    rounding would make a ratio meaningless).

    How to read it: a correct gradient gives ``max_relative_error <= 1e-6`` everywhere (float64;
    ``df.attrs['passed']``); a wrong derivative gives 1e-3 or more in the rows it reaches (a wrong
    activation derivative: the ``W``/``b`` below the layers using it).  ``df.attrs['worst']`` is a
    dict naming the worst entry (``parameter``, ``index``, ``analytic``, ``numeric``,
    ``relative_error``), ``df.attrs['summary']`` a sentence saying the same.

    Kinks: where moving an entry by up to ``2 epsilon`` moves a relu-like unit's pre-activation across
    its kink, central differences straddle the kink and disagree with any derivative.  Such entries are
    detected from the cost alone (its second differences at ``epsilon`` and ``2 epsilon`` do not scale as a smooth
    function's), counted in ``not_smooth`` and left out of the errors (``df.attrs['not_smooth']``
    in all); so are entries where the cost bends too sharply for the step (deep networks with the
    course's batch normalisation, whose ``1/(S + 1e-4)`` can be large).  A wrong derivative is still
    found in the other entries; if many are left out, use a smaller ``epsilon`` or other samples.
    More than half left out counts as not passed.
    """
    if not isinstance(nn, Network):
        raise TypeError(f"nn must be a network from nn_create or sae_create; got {type(nn).__name__}")
    epsilon = check_number(epsilon, "epsilon", lo=0, hi=1, lo_open=True, hi_open=True)
    work = nn.copy()
    if np.dtype(work["dtype"]) != np.float64:
        work["dtype"] = "float64"
    check_finite_parameters(work)
    bx, by = check_training_data(work, x, y, "x", "y")  # as the network sees them (input normalisation)
    check_trainable(work, bx.shape[0], f"x has {bx.shape[0]} row")
    step0 = work._dropout_step
    done = nn_backpropagation(nn_forward(work, x, y), y)
    analytic = done._buf.grads.copy()
    numeric, rough = _central_differences(done, bx, by, step0, epsilon)
    return _table(done._buf.layout, analytic, numeric, rough)


def _table(layout: np.ndarray, analytic: np.ndarray, numeric: np.ndarray, rough: np.ndarray) -> "pd.DataFrame":
    """The report of :func:`nn_checkgradient`: one row per parameter array of ``layout``, and its attrs."""
    import pandas as pd  # noqa: PLC0415, F811 - ~0.4 s to import: only when a check is made

    err = np.abs(analytic - numeric)
    g = float(np.max(np.abs(numeric)))
    # measured against at least FLOOR x the largest gradient (1 ulp if every gradient is exactly 0)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), FLOOR * g or math.ulp(1.0))
    rel = err / scale
    # a kink near p could move the estimate by more than the pass mark: that entry is not compared
    kinked = rough > PASS * scale
    rel_compared = np.where(kinked, -np.inf, rel)
    rows, worst = [], None
    for k, gid, off, h, w in layout:
        sl = slice(off, off + h * w)
        i = int(np.argmax(rel_compared[sl]))
        smooth = not kinked[off + i]
        name = f"{PARAM_GROUPS[gid]}[{k}]"
        compared = err[sl][~kinked[sl]]
        rows.append((name, (int(h), int(w)), float(compared.max()) if compared.size else math.nan,
                     float(rel[off + i]) if smooth else math.nan, divmod(i, int(w)) if smooth else None,
                     float(np.abs(numeric[sl]).max()), int(kinked[sl].sum())))
        if smooth and (worst is None or rel[off + i] > worst["relative_error"]):
            worst = {"parameter": name, "index": divmod(i, int(w)), "analytic": float(analytic[off + i]),
                     "numeric": float(numeric[off + i]), "relative_error": float(rel[off + i])}
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    n_kinked = int(kinked.sum())
    too_few = n_kinked > kinked.size // 2
    passed = worst is not None and bool(worst["relative_error"] <= PASS) and not too_few
    summary = "FAILED: no entry could be compared" if worst is None else (
        f"{'passed' if passed else 'FAILED'}: largest relative error {worst['relative_error']:.3g} "
        f"(<= {PASS:g} passes) at {worst['parameter']}{list(worst['index'])}: back-propagation "
        f"{worst['analytic']:.10g}, central differences {worst['numeric']:.10g}")
    if n_kinked:
        summary += (f"; {n_kinked} of {kinked.size} entries not compared{' (more than half)' if too_few else ''}: "
                    "the cost has a kink (relu) or bends sharply within 2 epsilon of them (column not_smooth; "
                    "try other samples or a smaller epsilon)")
    df.attrs.update(worst=worst, passed=passed, not_smooth=n_kinked, summary=summary)
    return df


def _central_differences(net: Network, x: np.ndarray, y: np.ndarray, step0: int,
                         epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """``(gradient, roughness)`` for every entry p of ``net._buf.params`` (``net``: the state after the
    analytic forward pass; perturbed in place and restored).

    ``roughness`` tells a kink from a wrong derivative: with ``S(h) = C(p + h) - 2 C(p) + C(p - h)``,
    a smooth cost has ``S(2h) = 4 S(h)`` up to O(h^4); a kink within 2h (relu's) breaks that by about
    ``2h`` times its jump in slope, so ``|S(2h) - 4 S(h)| / 2h`` measures the jump (0 where smooth,
    after the costs' rounding is taken off).
    It depends on the cost alone, never on the analytic gradient."""
    if net["objective_function"] == "Cross Entropy":
        net["ce_cost"] = "textbook"  # the course back-propagates the full cross entropy
    frozen = bool(net["batch_normalization"]) and net["bn_mode"] == "course"
    stats = None if net._buf.stats is None else net._buf.stats.copy()
    vec_num = net.get("vecNum")

    def cost() -> float:
        net._dropout_step = step0  # the analytic pass's dropout masks
        if stats is not None:  # the same statistics every time (standard BN updates its running ones)
            net._buf.stats[...] = stats
            net._fields["vecNum"] = vec_num
        return forward_train(net, x, y, frozen_bn=frozen)

    p = net._buf.params
    grad, rough = np.empty_like(p), np.empty_like(p)
    c0 = cost()
    noise = 32 * math.ulp(abs(c0))  # rounding of the 16 cost terms in S(2h) - 4 S(h), with room
    for i in range(p.size):
        old = p[i]
        diffs, curv = [], []
        for h in (epsilon, 2 * epsilon):
            p[i] = hi = old + h
            c_plus = cost()
            p[i] = lo = old - h
            c_minus = cost()
            diffs.append((c_plus - c_minus) / (hi - lo))  # the steps as stored (old + h rounds)
            curv.append(c_plus - 2 * c0 + c_minus)
        p[i] = old
        # Richardson: (4 D(h) - D(2h)) / 3 cancels the h^2 error term of the central difference D(h)
        grad[i] = (4 * diffs[0] - diffs[1]) / 3
        rough[i] = max(abs(curv[1] - 4 * curv[0]) - noise, 0.0) / (2 * epsilon)
    return grad, rough
