"""Finite-difference checks of the analytic gradients, and hand-computed optimizer steps.

For every hidden activation x output function x objective x batch-norm mode
(with and without weight decay), for inverted dropout and for the sparse
autoencoder, ``nn_forward`` + ``nn_backpropagation`` must give ``W_grad``,
``b_grad`` (and ``Gamma_grad``, ``Beta_grad``) equal to central differences
of the cost: :func:`nntoolbox.nn_checkgradient` must pass (<= 1e-6).  Before
that, :func:`reference_cost`, an independent numpy re-implementation of the
function differentiated, must reproduce the cost ``nn_forward`` reports.

Which function is differentiated
--------------------------------
* BN off and ``bn_mode='standard'``: the batch cost returned by
  :func:`nntoolbox.forward.forward_train` (per-batch statistics; the running
  averages it updates do not affect the training-mode output).
* ``bn_mode='course'``: the course's backward pass treats the running mean
  ``E`` and std ``S`` as constants.  Its gradient is that of
  ``C(W, b, Gamma, Beta) = cost with every layer normalised as
  Gamma*(z - E)/(S + 1e-4) + Beta``, with ``E``/``S`` FROZEN at the values
  that ``nn_forward`` left after updating them from this batch (``nn_forward``
  updates first, then normalises with the updated values, so at the
  unperturbed point this is exactly the cost ``nn_forward`` reported).  That
  function is :func:`reference_cost` with ``frozen=...`` below, and
  ``forward_train(..., frozen_bn=True)`` in the library (compared away from
  the analytic point below).  (``nn_forward`` itself is not the right
  function: its ``E``/``S`` move with ``z`` and so with the weights.)
* Cross entropy with ``ce_cost='course'``: the course reports half the cross
  entropy but back-propagates ``a - y``, the gradient of the FULL cross
  entropy, so ``nn_checkgradient`` differentiates the same network with
  ``ce_cost='textbook'`` (the only difference between the two is that factor).
* Dropout (``dropout='inverted'``): masks are a function of
  ``nn._dropout_step``, which ``nn_checkgradient`` resets before every
  evaluation so that all evaluations use the masks of the analytic pass.
* relu: a seed is chosen such that no relu pre-activation lies within
  ``KINK`` of 0, so the eps-perturbations never cross a kink.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from nntoolbox import nn_applygradient, nn_backpropagation, nn_checkgradient, nn_create, nn_forward, sae_create
from nntoolbox.forward import ce_factor, forward_train
from nntoolbox.network import PARAM_GROUPS

ACTS = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTS = ("sigmoid", "tanh", "relu", "softmax", "linear")
KINKED = ("relu", "leaky_relu")
BNS = ("off", "course", "standard")
SIZES = [4, 5, 4, 3]
M = 7  # batch size
KINK = 1e-3  # minimum |pre-activation| of a relu unit
SEEDS = range(60)

FUNCS = {
    "sigmoid": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "softmax": lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0),
}


# ----------------------------------------------------------------------------- helpers
def bn_options(bn: str) -> dict:
    return {} if bn == "off" else {"batch_normalization": 1, "bn_mode": bn}


def make_targets(rng: np.random.Generator, out: str, objective: str, m: int, n: int) -> np.ndarray:
    if objective == "Cross Entropy":
        return np.eye(n)[rng.integers(n, size=m)]  # one-hot rows
    lo, hi = {"sigmoid": (0.1, 0.9), "tanh": (-0.8, 0.8), "relu": (0.1, 1.5), "softmax": (0.0, 1.0),
              "linear": (-1.0, 1.0)}.get(out, (0.1, 1.5))
    return rng.uniform(lo, hi, size=(m, n))


def reference_cost(nn, x, y, *, frozen=None, masks=None, ce_factor=None):
    """Independent numpy forward pass: (cost, relu pre-activations).

    ``frozen=(E_list, S_list)`` normalises with those constants (course BN);
    otherwise BN (if on) uses the batch statistics (standard BN).  ``masks``:
    per-layer dropout masks (``None`` entries: no dropout on that layer).
    ``ce_factor``: factor of the cross entropy (default: the network's).
    """
    L = len(nn.W)
    a = x.T
    acts, relu_z = [a], []
    for k in range(L):
        z = nn.W[k] @ a + nn.b[k]
        if nn["batch_normalization"]:
            if frozen is not None:
                z = nn.Gamma[k] * ((z - frozen[0][k]) / (frozen[1][k] + 1e-4)) + nn.Beta[k]
            else:
                mu = z.mean(axis=1, keepdims=True)
                var = ((z - mu) ** 2).mean(axis=1, keepdims=True)
                z = nn.Gamma[k] * ((z - mu) / np.sqrt(var + 1e-5)) + nn.Beta[k]
        name = nn["output_function"] if k == L - 1 else nn["active_function"]
        if name in KINKED:
            relu_z.append(z)
        a = FUNCS[name](z)
        if masks is not None and masks[k] is not None:
            a = a * masks[k]
        acts.append(a)
    Y = y.T
    m = x.shape[0]
    if nn["objective_function"] == "MSE":
        data = 0.5 * np.sum((a - Y) ** 2) / m
    else:
        if ce_factor is None:
            ce_factor = 0.5 if nn["ce_cost"] == "course" else 1.0
        data = -ce_factor * np.sum(Y * np.log(a)) / m
    cost = data + 0.5 * nn["weight_decay"] * sum(np.sum(W ** 2) for W in nn.W)
    if nn["encoder"]:
        rho, rho_hat = nn["sparsity"], acts[1].mean(axis=1)
        cost += nn["beta"] * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    return float(cost), relu_z


def assert_gradients_match(df) -> None:
    """``nn_checkgradient``'s table passes: every relative error <= 1e-6, and the check is not vacuous."""
    assert df["max_abs_gradient"].max() > 1e-4, "degenerate check: the numeric gradient is ~0"
    assert df["not_smooth"].sum() == 0, "every entry compared (the seeds keep relu units off their kinks)"
    assert df.attrs["passed"] == (df["max_relative_error"].max() <= 1e-6)
    assert df.attrs["passed"], df.attrs["summary"] + "\n" + df.to_string()


def analytic_case(make_net, make_data, *, dropout: bool = False, need_rho_in_01: bool = False):
    """Find a seed without relu kinks; return (network, x, y) for ``nn_checkgradient``.

    ``make_net(seed)`` builds the network, ``make_data(rng)`` returns (x, y).
    Before that, the cost ``nn_forward`` reports on that batch is checked against
    :func:`reference_cost`, the independent re-implementation of the function whose
    gradient the backward pass computes (see the module docstring).
    """
    for seed in SEEDS:
        nn = make_net(seed)
        rng = np.random.default_rng(1000 + seed)
        if nn["batch_normalization"]:  # move Gamma/Beta off their initial 1/0, so their factors matter
            for G, B in zip(nn.Gamma, nn.Beta):
                G[...] = rng.uniform(0.5, 1.5, size=G.shape)
                B[...] = rng.uniform(-0.3, 0.3, size=B.shape)
        x, y = make_data(rng)
        course_bn = nn["batch_normalization"] and nn["bn_mode"] == "course"
        if course_bn:  # a first batch, so the running statistics are not just this batch's
            x0, y0 = make_data(rng)
            with np.errstate(invalid="ignore", divide="ignore"):
                nn = nn_forward(nn, x0, y0)
        with np.errstate(invalid="ignore", divide="ignore"):  # autoencoder seeds with mean activation <= 0
            done = nn_backpropagation(nn_forward(nn, x, y), y)
        reported = float(done["cost"][-1])
        grads = done._buf.grads
        # the per-layer fields (W_grad[k], b_grad[k], Gamma_grad[k], Beta_grad[k]) are views of nn._buf.grads
        for k, gid, o, h, w in done._buf.layout:
            assert np.array_equal(done[PARAM_GROUPS[gid] + "_grad"][k], grads[o:o + h * w].reshape(h, w))
        masks = [None if mk is None else mk.copy() for mk in done._scratch["mask"]] if dropout else None
        if dropout:
            assert any(mk is not None and np.any(mk == 0) for mk in masks), "dropout dropped nothing"
        frozen = ([E.copy() for E in done.E], [S.copy() for S in done.S]) if course_bn else None
        with np.errstate(invalid="ignore", divide="ignore"):
            ref, relu_z = reference_cost(done, x, y, frozen=frozen, masks=masks)
        if not np.isfinite(ref):
            continue
        if need_rho_in_01:
            rho_hat = done.a[1].mean(axis=1)
            if np.any(rho_hat <= 0.02) or np.any(rho_hat >= 0.98):
                continue
        if any(np.min(np.abs(z)) < KINK for z in relu_z):
            continue
        # the reference forward pass reproduces the library's reported cost
        assert reported == pytest.approx(ref, rel=1e-12, abs=1e-14)
        if course_bn:  # and the library's frozen-statistics cost (nn_checkgradient's) away from that point
            moved = done.copy()
            moved._buf.params[...] += rng.normal(scale=1e-3, size=moved._buf.params.shape)
            moved._dropout_step = nn._dropout_step
            expected = reference_cost(moved, x, y, frozen=frozen, masks=masks, ce_factor=ce_factor(moved))[0]
            assert forward_train(moved, x, y, frozen_bn=True) == pytest.approx(expected, rel=1e-12)
        return nn, x, y
    pytest.fail("no seed without relu kinks / with a usable sparsity")


def check_network(make_net, out, objective, *, dropout=False):
    def make_data(rng):
        x = rng.uniform(-1.5, 1.5, size=(M, SIZES[0]))
        return x, make_targets(rng, out, objective, M, SIZES[-1])

    nn, x, y = analytic_case(make_net, make_data, dropout=dropout)
    df = nn_checkgradient(nn, x, y)
    assert_gradients_match(df)
    return nn, df


# ----------------------------------------------------------------------------- MSE
@pytest.mark.parametrize("wd", [0.0, 0.03])
@pytest.mark.parametrize("bn", BNS)
@pytest.mark.parametrize("out", OUTS)
@pytest.mark.parametrize("act", ACTS)
def test_gradient_mse(act, out, bn, wd):
    def make_net(seed):
        return nn_create(SIZES, active_function=act, output_function=out, weight_decay=wd,
                         seed=seed, cost_history="append", **bn_options(bn))

    _, df = check_network(make_net, out, "MSE")
    groups = ("W", "b") if bn == "off" else ("W", "b", "Gamma", "Beta")
    assert list(df["parameter"]) == [f"{g}[{k}]" for k in range(len(SIZES) - 1) for g in groups]


# ----------------------------------------------------------------------------- cross entropy
@pytest.mark.parametrize("ce_cost", ["course", "textbook"])
@pytest.mark.parametrize("wd", [0.0, 0.03])
@pytest.mark.parametrize("bn", BNS)
@pytest.mark.parametrize("act", ACTS)
def test_gradient_cross_entropy(act, bn, wd, ce_cost):
    def make_net(seed):
        return nn_create(SIZES, "active function", act, "objective function", "Cross Entropy",
                         weight_decay=wd, ce_cost=ce_cost, seed=seed, cost_history="append", **bn_options(bn))

    nn, _ = check_network(make_net, "softmax", "Cross Entropy")
    assert nn["output_function"] == "softmax"  # cross entropy implies softmax


@pytest.mark.parametrize("bn", BNS)
def test_cross_entropy_course_cost_is_half_but_gradient_is_full(bn):
    """ce_cost='course' reports 0.5*CE (+ weight decay) with the gradient of the full CE."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(M, 4))
    y = np.eye(3)[rng.integers(3, size=M)]
    nets = {c: nn_create(SIZES, objective_function="Cross Entropy", ce_cost=c, weight_decay=0.02, seed=3,
                         cost_history="append", **bn_options(bn)) for c in ("course", "textbook")}
    nets = {c: nn_backpropagation(nn_forward(net, x, y), y) for c, net in nets.items()}
    np.testing.assert_array_equal(nets["course"]._buf.grads, nets["textbook"]._buf.grads)
    decay = 0.5 * 0.02 * sum(np.sum(W ** 2) for W in nets["course"].W)
    ce_course = nets["course"]["cost"][-1] - decay
    ce_textbook = nets["textbook"]["cost"][-1] - decay
    assert ce_course == pytest.approx(0.5 * ce_textbook, rel=1e-12)


@pytest.mark.parametrize("out", ["sigmoid", "tanh", "relu"])
def test_cross_entropy_rejects_explicit_non_softmax_output(out):
    with pytest.raises(ValueError, match="softmax"):
        nn_create(SIZES, "objective function", "Cross Entropy", "output function", out)


def test_cross_entropy_accepts_softmax_or_no_output_choice():
    assert nn_create(SIZES, objective_function="Cross Entropy", output_function="softmax").output_function == "softmax"
    assert nn_create(SIZES, objective_function="Cross Entropy").output_function == "softmax"


# ----------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("bn", BNS)
@pytest.mark.parametrize("objective", ["MSE", "Cross Entropy"])
@pytest.mark.parametrize("act", ACTS)
def test_gradient_inverted_dropout(act, objective, bn):
    out = "softmax" if objective == "Cross Entropy" else "sigmoid"

    def make_net(seed):
        return nn_create(SIZES, active_function=act, objective_function=objective, output_function=out,
                         keep_probability=0.7, dropout="inverted", weight_decay=0.01 if act == "tanh" else 0.0,
                         seed=seed, cost_history="append", **bn_options(bn))

    check_network(make_net, out, objective, dropout=True)


# ----------------------------------------------------------------------------- sparse autoencoder
@pytest.mark.parametrize("bn", BNS)
def test_gradient_sparse_autoencoder(bn):
    n, h = 6, 4

    def make_net(seed):
        # sigmoid hidden units: the KL penalty needs activations in (0, 1) (others are refused)
        sae = sae_create([n, h], "sparsity", 0.2, "beta", 3.0,
                         "weight decay", 0.01, seed=seed, cost_history="append", **bn_options(bn))
        sae["encoder"] = 1  # as sae_train does
        return sae

    def make_data(rng):
        x = rng.uniform(0.05, 0.95, size=(M, n))
        return x, x

    sae, x, y = analytic_case(make_net, make_data, need_rho_in_01=True)
    assert_gradients_match(nn_checkgradient(sae, x, y))


def test_sparse_autoencoder_penalty_changes_the_gradient():
    """Guard against a vacuous autoencoder check: beta enters the encoder's gradient only."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, size=(M, 6))
    grads = {}
    for beta in (0.0, 3.0):
        sae = sae_create([6, 4], sparsity=0.2, beta=beta, seed=1)
        sae["encoder"] = 1
        sae = nn_forward(sae, x, x)
        sae = nn_backpropagation(sae, x)
        grads[beta] = (sae.W_grad[0].copy(), sae.W_grad[1].copy())
    np.testing.assert_array_equal(grads[0.0][1], grads[3.0][1])  # decoder: no penalty term
    assert np.max(np.abs(grads[0.0][0] - grads[3.0][0])) > 1e-3  # encoder: penalty term


# ----------------------------------------------------------------------------- optimizers
def _expected_initial_state(nn, slots_at_one: str | None) -> np.ndarray:
    """All optimizer state starts at zero, except (course) Momentum's vGamma / Adam's sGamma = 1."""
    state = np.zeros_like(nn._buf.state)
    if slots_at_one is not None:
        row = nn._buf.slots.index(slots_at_one)
        for _, gid, o, h, w in nn._buf.layout:
            if PARAM_GROUPS[gid] == "Gamma":
                state[row, o:o + h * w] = 1.0
    return state


def _hand_step(method, p, g, state, lr, rho, t, textbook):
    p, state = p.copy(), state.copy()
    if method == "normal":
        p = p - lr * g
    elif method == "Momentum":
        state[0] = rho * state[0] - lr * g
        p = p + state[0]
    elif method == "AdaGrad":
        state[0] = state[0] + g * g
        p = p - lr * g / (np.sqrt(state[0]) + 0.001)
    elif method == "RMSProp":
        state[0] = 0.9 * state[0] + 0.1 * g * g
        p = p - lr * g / (np.sqrt(state[0]) + 0.001)
    else:  # Adam
        state[0] = 0.9 * state[0] + 0.1 * g
        state[1] = 0.999 * state[1] + 0.001 * g * g
        s_hat = state[0] / (1 - 0.9 ** t)
        r_hat = state[1] / (1 - 0.999 ** t)
        p = p - lr * s_hat / ((np.sqrt(r_hat) + 1e-8) if textbook else np.sqrt(r_hat + 1e-5))
    return p, state


OPTIMIZER_CASES = [
    # (method, extra options, Gamma slot that the course starts at 1)
    ("normal", {}, None),
    ("Momentum", {}, "v"),  # course rho = 0.1
    ("Momentum", {"momentum": 0.9}, "v"),
    ("Momentum", {"state_init": "zeros"}, None),
    ("AdaGrad", {}, None),
    ("RMSProp", {}, None),
    ("Adam", {}, "s"),  # course: t = AdamTime (epochs, 0 -> 1), sqrt(r_hat + 1e-5)
    ("Adam", {"adam": "textbook", "state_init": "zeros"}, None),  # t counts updates, sqrt(r_hat) + 1e-8
]


@pytest.mark.parametrize("bn", ["off", "course", "standard"])
@pytest.mark.parametrize("method,extra,gamma_one", OPTIMIZER_CASES,
                         ids=[f"{m}-{'-'.join(f'{k}={v}' for k, v in e.items()) or 'course'}"
                              for m, e, _ in OPTIMIZER_CASES])
def test_applygradient_matches_hand_computed_updates(method, extra, gamma_one, bn):
    nn = nn_create([3, 4, 2], optimization_method=method, learning_rate=0.05, seed=0, **extra, **bn_options(bn))
    if bn == "off":
        gamma_one = None
    rho = extra.get("momentum", 0.1)
    textbook = extra.get("adam") == "textbook"
    np.testing.assert_array_equal(nn._buf.state, _expected_initial_state(nn, gamma_one))
    p, state = nn._buf.params.copy(), nn._buf.state.copy()
    rng = np.random.default_rng(1)
    times = [1, 1, 3] if method == "Adam" and not textbook else [1, 2, 3]
    for step, t in enumerate(times):
        g = rng.normal(size=p.size)
        for k, gid, o, h, w in nn._buf.layout:
            field, value = nn[PARAM_GROUPS[gid] + "_grad"], g[o:o + h * w].reshape(h, w)
            if step == 1:  # MATLAB-style: replace whole per-layer arrays (nn.W_grad[k] = ...)
                field[k] = value.copy()
            else:
                field[k][...] = value
        if method == "Adam" and not textbook and step == 2:
            nn["AdamTime"] = 3  # nn_train advances AdamTime once per epoch
        p, state = _hand_step(method, p, g, state, 0.05, rho, t, textbook)
        nn = nn_applygradient(nn)
        np.testing.assert_allclose(nn._buf.params, p, rtol=1e-13, atol=1e-15, err_msg=f"params after step {step + 1}")
        np.testing.assert_allclose(nn._buf.state, state, rtol=1e-13, atol=1e-15, err_msg=f"state after step {step + 1}")
        # the per-layer views see the update
        np.testing.assert_array_equal(nn.W[0].ravel(), nn._buf.params[:nn.W[0].size])
    if textbook:
        assert nn["AdamTime"] == 3
