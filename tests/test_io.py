"""nn_save / nn_load: exact round trips, MATLAB struct layout, the course's own files, bad files."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

from conftest import PARITY_CASES, load_case, struct_field
from nntoolbox import nn_create, nn_predict, nn_train, sae_create, sae_train
from nntoolbox.io import from_matlab_struct, nn_load, nn_save, to_matlab_struct

CELL_FIELDS = ("W", "b", "Gamma", "Beta", "E", "S", "vW", "vb", "vGamma", "vBeta",
               "rW", "rb", "rGamma", "rBeta", "sW", "sb", "sGamma", "sBeta")
SCALAR_FIELDS = ("vecNum", "AdamTime", "encoder", "_dropout_seed", "_dropout_step")

rng = np.random.default_rng(0)
X = rng.random((60, 5))
Y = np.eye(3)[rng.integers(0, 3, 60)]

CONFIGS = {
    "sgd": {},
    "momentum_wd": {"optimization_method": "Momentum", "weight_decay": 1e-3, "active_function": "tanh"},
    "adagrad": {"optimization_method": "AdaGrad", "objective_function": "Cross Entropy", "learning_rate": 0.1},
    "rmsprop_relu": {"optimization_method": "RMSProp", "active_function": "relu", "learning_rate": 0.01},
    "adam_bn_course": {"optimization_method": "Adam", "batch_normalization": 1, "learning_rate": 0.01,
                       "objective_function": "Cross Entropy"},
    "momentum_bn_standard": {"optimization_method": "Momentum", "batch_normalization": 1, "bn_mode": "standard",
                             "learning_rate": 0.1},
    "adam_textbook_bn": {"optimization_method": "Adam", "batch_normalization": 1, "textbook": True,
                         "learning_rate": 0.01},
    "dropout_inverted": {"keep_probability": 0.7, "dropout": "inverted"},
    "float32": {"dtype": "float32", "optimization_method": "RMSProp", "learning_rate": 0.01},
}


def _trained(config: dict):
    nn = nn_create([5, 7, 4, 3], seed=1, **config)
    nn = nn_train(nn, {"batch_size": 10, "iteration": 2}, X, Y)
    return nn


def _assert_same_network(a, b):
    for f in CELL_FIELDS:
        assert (f in a) == (f in b), f
        if f in a:
            assert len(a[f]) == len(b[f]), f
            for k, (u, v) in enumerate(zip(a[f], b[f])):
                assert u.dtype == v.dtype and u.shape == v.shape, f"{f}[{k}]"
                np.testing.assert_array_equal(u, v, err_msg=f"{f}[{k}]")
    for f in SCALAR_FIELDS:
        assert a.get(f) == b.get(f), f
    for f in ("size", "cost"):
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)
    for f in ("active_function", "output_function", "optimization_method", "objective_function",
              "learning_rate", "weight_decay", "batch_normalization", "bn_mode", "adam", "momentum",
              "keep_probability", "dropout", "cost_history", "ce_cost", "state_init", "dtype"):
        assert a[f] == b[f], f


@pytest.mark.parametrize("ext", ["npz", "mat"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_round_trip_predicts_and_trains_on_identically(tmp_path, name, ext):
    nn = _trained(CONFIGS[name])
    loaded = nn_load(nn_save(nn, tmp_path / f"net.{ext}"))
    _assert_same_network(nn, loaded)
    np.testing.assert_array_equal(nn_predict(nn, X), nn_predict(loaded, X))

    option = {"batch_size": 10, "iteration": 1, "order": np.random.default_rng(5).permutation(60)}
    nn = nn_train(nn, option, X, Y)
    loaded = nn_train(loaded, option, X, Y)
    _assert_same_network(nn, loaded)
    np.testing.assert_array_equal(nn_predict(nn, X), nn_predict(loaded, X))


@pytest.mark.parametrize("ext", ["npz", "mat"])
def test_sae_round_trip(tmp_path, ext):
    x = rng.random((40, 9))
    sae = sae_create([9, 4], "learning rate", 0.5, seed=2)
    sae = sae_train(sae, {"batch_size": 10, "iteration": 2}, x)
    loaded = nn_load(nn_save(sae, tmp_path / f"sae.{ext}"))
    assert loaded.encoder == 1
    _assert_same_network(sae, loaded)
    np.testing.assert_array_equal(nn_predict(sae, x), nn_predict(loaded, x))
    option = {"batch_size": 10, "order": np.random.default_rng(3).permutation(40)}
    sae = sae_train(sae, option, x)
    loaded = sae_train(loaded, option, x)
    _assert_same_network(sae, loaded)


def test_mat_file_has_the_course_struct_layout(tmp_path):
    nn = _trained(CONFIGS["adam_bn_course"])
    s = scipy.io.loadmat(nn_save(nn, tmp_path / "net.mat"))["nn"]
    assert s.shape == (1, 1)
    rec = s[0, 0]
    np.testing.assert_array_equal(rec["size"], [[5, 7, 4, 3]])
    assert str(rec["active_function"][0]) == "sigmoid"
    assert str(rec["optimization_method"][0]) == "Adam"
    assert rec["batch_normalization"].item() == 1 and rec["AdamTime"].item() == 2
    sizes = [5, 7, 4, 3]
    for field, shape in (("W", lambda k: (sizes[k + 1], sizes[k])), ("b", lambda k: (sizes[k + 1], 1)),
                         ("E", lambda k: (sizes[k + 1], 1)), ("Gamma", lambda k: (1, 1)),
                         ("sW", lambda k: (sizes[k + 1], sizes[k]))):
        cell = rec[field]
        assert cell.dtype == object and cell.shape == (1, 3), field  # a 1xL cell array
        for k, a in enumerate(cell[0]):
            assert a.dtype == np.float64 and a.shape == shape(k), f"{field}{{{k + 1}}}"
            np.testing.assert_array_equal(a, nn[field][k])


def test_format_is_detected_from_contents(tmp_path):
    nn = _trained({})
    for saved, misnamed in (("net.mat", "mat_file.npz"), ("net.npz", "npz_file.mat"), ("net.npz", "noext")):
        (tmp_path / misnamed).write_bytes(nn_save(nn, tmp_path / saved).read_bytes())
        np.testing.assert_array_equal(nn_predict(nn_load(tmp_path / misnamed), X), nn_predict(nn, X))


def test_npz_uppercase_suffix_and_no_temp_files(tmp_path):
    nn = _trained({})
    path = nn_save(nn, tmp_path / "NET.NPZ")
    assert path == tmp_path / "NET.NPZ" and sorted(p.name for p in tmp_path.iterdir()) == ["NET.NPZ"]
    np.testing.assert_array_equal(nn_predict(nn_load(path), X), nn_predict(nn, X))


# ------------------------------------------------------- files written by the course code
def _course_struct_dict(struct: np.ndarray) -> dict:
    """The struct as MATLAB's ``save net.mat nn`` lays it out, rebuilt field by field:
    numbers as 1x1 doubles, strings as char, cell arrays as 1xL object arrays."""
    out = {}
    for name in struct.dtype.names:
        v = struct[0, 0][name]
        if v.dtype == object:
            cells = struct_field(struct, name)
            arr = np.empty((1, len(cells)), dtype=object)
            for i, c in enumerate(cells):
                arr[0, i] = c
            out[name] = arr
        elif v.dtype.kind == "U":
            out[name] = str(v[0])
        else:
            out[name] = np.atleast_2d(v.astype(float))
    return out


@pytest.mark.parametrize("name", PARITY_CASES)
@pytest.mark.parametrize("layout", ["loadmat_struct", "rebuilt"])
def test_network_saved_by_course_code_predicts_identically(tmp_path, name, layout):
    case = load_case(name)
    struct = case["nn_trained"] if layout == "loadmat_struct" else _course_struct_dict(case["nn_trained"])
    path = tmp_path / "net.mat"
    scipy.io.savemat(path, {"nn": struct})
    nn = nn_load(path)
    np.testing.assert_allclose(nn_predict(nn, case["X"]), case["prediction"], rtol=1e-9, atol=1e-12)
    # and it survives our own round trip unchanged
    again = nn_load(nn_save(nn, tmp_path / "again.mat"))
    np.testing.assert_array_equal(nn_predict(again, case["X"]), nn_predict(nn, case["X"]))


def test_squeezed_loadmat_struct_is_accepted(tmp_path):
    nn = nn_create([4, 3], seed=0, batch_normalization=1)  # one layer: 1x1 cells squeeze to their content
    path = nn_save(nn, tmp_path / "one.mat")
    s = scipy.io.loadmat(path, squeeze_me=True)["nn"]
    np.testing.assert_array_equal(nn_predict(from_matlab_struct(s), X[:, :4]), nn_predict(nn, X[:, :4]))


def test_variable_chooses_among_several_networks(tmp_path):
    a, b = nn_create([5, 3], seed=1), nn_create([5, 3], seed=2)
    path = tmp_path / "two.mat"
    scipy.io.savemat(path, {"first": to_matlab_struct(a), "second": to_matlab_struct(b)})
    with pytest.raises(ValueError, match="several network structs.*variable="):
        nn_load(path)
    np.testing.assert_array_equal(nn_load(path, variable="second").W[0], b.W[0])


# ------------------------------------------------------------------------- bad files
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such network file"):
        nn_load(tmp_path / "nope.npz")


@pytest.mark.parametrize("suffix", [".npz", ".mat", ".bin"])
def test_random_bytes(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(np.random.default_rng(1).bytes(3000))
    with pytest.raises(ValueError, match="junk"):
        nn_load(path)


def test_truncated_npz(tmp_path):
    path = nn_save(_trained({}), tmp_path / "net.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        nn_load(path)


def test_npz_that_is_not_a_network(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not a saved network"):
        nn_load(path)


def test_mat_without_network_struct(tmp_path):
    path = tmp_path / "data.mat"
    scipy.io.savemat(path, {"train_x": np.zeros((2, 3)), "opts": {"a": 1.0}})
    with pytest.raises(ValueError, match="no network struct"):
        nn_load(path)


@pytest.mark.parametrize("break_it, message", [
    (lambda s: s.pop("b"), "lacks the field"),
    (lambda s: s["W"][0].__setitem__(0, s["W"][0, 0].T.copy()), r"W\{1\} has shape"),
    (lambda s: s.__setitem__("W", s["W"][:, :1]), "has 1 cells"),
    (lambda s: s.__setitem__("active_function", "swish"), "swish"),
    (lambda s: s.__setitem__("AdamTime", np.zeros((0, 0))), r"AdamTime is empty \(MATLAB \[\]\)"),
    (lambda s: s.__setitem__("AdamTime", -2.0), "AdamTime.*non-negative integer"),
    (lambda s: s["W"][0, 1].__setitem__((0, 0), np.nan), r"W\{2\} contains NaN"),
    (lambda s: s.pop("S"), "lacks its statistics E and S"),
    (lambda s: s.__setitem__("dropout_seed", -1.0), r"dropout_seed must be an integer in \[0, "),
])
def test_struct_that_does_not_describe_the_network(tmp_path, break_it, message):
    s = to_matlab_struct(nn_create([5, 4, 3], "batch normalization", 1, "optimization method", "Adam", seed=0))
    break_it(s)
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"nn": s})
    with pytest.raises(ValueError, match=message):
        nn_load(path)


@pytest.mark.parametrize("meta", ["[1, 2]", '"text"', '{"encoder": "yes"}', '{"learning_rate": [1]}'])
def test_npz_metadata_of_an_unexpected_form_names_the_file(tmp_path, meta):
    path = tmp_path / "odd.npz"
    s = to_matlab_struct(nn_create([5, 4, 3], seed=0))
    np.savez(path, __meta__=meta, size=s["size"], cost=s["cost"], W__0=s["W"][0, 0], W__1=s["W"][0, 1],
             b__0=s["b"][0, 0], b__1=s["b"][0, 1])
    with pytest.raises(ValueError, match="odd.npz"):
        nn_load(path)


def test_save_rejects_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match="use .npz or .mat"):
        nn_save(nn_create([2, 2]), tmp_path / "net.pkl")


def test_save_removes_temp_files_of_killed_saves(tmp_path):
    nn = nn_create([3, 2], seed=0)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()  # a pid that has exited
    stale = tmp_path / f".net.npz.{dead}.tmp"
    stale.write_bytes(b"half a file")
    live = tmp_path / f".net.npz.{os.getppid()}.tmp"  # a running process's save in progress: kept
    live.write_bytes(b"")
    other = tmp_path / f".other.npz.{dead}.tmp"  # another file's: not ours to judge
    other.write_bytes(b"")
    nn_save(nn, tmp_path / "net.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["net.npz", live.name, other.name])


# ------------------------------------------------------------ issue 21 item 12: a file is data, not instructions
def _npz_members(tmp_path, nn=None) -> dict:
    path = nn_save(nn or nn_create([4, 5, 3], seed=0), tmp_path / "net.npz")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _write_members(path, members: dict, compress: bool = True) -> None:
    (np.savez_compressed if compress else np.savez)(path, **members)


def _npy_header(shape, dtype="<f8") -> bytes:
    import io
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False, "shape": shape})
    return f.getvalue()


def test_npz_member_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    import zipfile
    members = _npz_members(tmp_path)
    path = tmp_path / "huge.npz"
    _write_members(path, {k: v for k, v in members.items() if k != "W__0"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("W__0.npy", _npy_header((7, 6 * 10 ** 10)) + b"\0" * 64)
    with pytest.raises(ValueError, match=r"huge\.npz.*W__0"):
        nn_load(path)


def test_npz_unknown_members_are_not_decompressed(tmp_path):
    import zipfile
    members = _npz_members(tmp_path)
    path = tmp_path / "bomb.npz"
    _write_members(path, members)
    # a member declaring 4 GiB that is never read: its (fake) data is not a valid deflate stream either
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("junk.npy", _npy_header((2 ** 29,)) + b"\0" * (2 ** 20))
    nn = nn_load(path)
    np.testing.assert_array_equal(nn.W[0], nn_create([4, 5, 3], seed=0).W[0])


def test_complex_weights_are_refused(tmp_path):
    members = _npz_members(tmp_path)
    members["W__0"] = members["W__0"] + 1j
    _write_members(tmp_path / "c.npz", members)
    with pytest.raises(ValueError, match=r"c\.npz.*W__0.*complex"):
        nn_load(tmp_path / "c.npz")
    s = to_matlab_struct(nn_create([4, 5, 3], seed=0))
    s["W"][0, 0] = s["W"][0, 0] + 1j
    scipy.io.savemat(tmp_path / "c.mat", {"nn": s})
    with pytest.raises(ValueError, match=r"c\.mat.*W.*complex"):
        nn_load(tmp_path / "c.mat")


def test_unknown_format_version_is_refused(tmp_path):
    import json
    members = _npz_members(tmp_path)
    meta = json.loads(str(members["__meta__"]))
    meta["nntoolbox_format"] = 99
    members["__meta__"] = json.dumps(meta)
    _write_members(tmp_path / "v99.npz", members)
    with pytest.raises(ValueError, match=r"v99\.npz.*format 99"):
        nn_load(tmp_path / "v99.npz")


def test_bit_flips_give_a_value_error_naming_the_file(tmp_path):
    path = nn_save(nn_create([4, 5, 3], seed=0), tmp_path / "net.npz")
    data = path.read_bytes()
    flips = np.random.default_rng(1)
    for trial in range(300):
        bad = bytearray(data)
        for pos in flips.integers(len(data), size=flips.integers(1, 4)):
            bad[pos] ^= 1 << int(flips.integers(8))
        target = tmp_path / f"flip{trial}.npz"
        target.write_bytes(bytes(bad))
        try:
            nn_load(target)
        except ValueError as e:
            assert f"flip{trial}.npz" in str(e)
        target.unlink()


def test_zip_method_the_reader_cannot_decompress_is_a_value_error(tmp_path):
    path = nn_save(nn_create([4, 5, 3], seed=0), tmp_path / "net.npz")
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")  # the first member's central directory entry: its compression method
    data[central + 10] = 99  # unsupported (zipfile raised NotImplementedError)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="net.npz"):
        nn_load(path)


def test_error_messages_quote_little_of_the_bad_input(tmp_path):
    import json
    members = _npz_members(tmp_path)
    meta = json.loads(str(members["__meta__"]))
    meta["active_function"] = "x" * 100_000
    members["__meta__"] = json.dumps(meta)
    _write_members(tmp_path / "long.npz", members)
    with pytest.raises(ValueError, match="long.npz") as e:
        nn_load(tmp_path / "long.npz")
    assert len(str(e.value)) < 1000
    members = _npz_members(tmp_path)
    _write_members(tmp_path / "many.npz", {"__meta__": "[" * 100_000, **{f"m{i}": np.zeros(1) for i in range(300)}})
    with pytest.raises(ValueError, match="many.npz") as e:
        nn_load(tmp_path / "many.npz")
    assert len(str(e.value)) < 1000
