"""The reviewed allow-list (jupyter_syft/allowlist.py) against what torch routes.

test_every_routed_name_was_reviewed is the one that fails after a torch upgrade adds an operation:
review it (what sizes it allocates, what loops it runs, what memory it reads or hands out), then
add its name to a group of allowlist.ALLOWED with a size rule, or to a DENIED group.
"""
import math
import re

import pytest
import torch
import torch.nn.functional as F

from jupyter_syft import allowlist, commands
from jupyter_syft.exceptions import OperationNotAllowedError


def _is_dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__") and len(part) > 4


def _private(name: str) -> bool:
    return any(part.startswith("_") and not _is_dunder(part) for part in name.split("."))


def _unreviewed(routed_names):
    return sorted({name for name in routed_names if not _private(name)} - allowlist.ALLOWED - allowlist.DENIED)


def test_every_routed_name_was_reviewed():
    unreviewed = _unreviewed(commands.routed_names())
    assert not unreviewed, (
        f"torch routes {len(unreviewed)} operation(s) nobody reviewed: {unreviewed}. Review each "
        "and add it to allowlist.py, to an allowed group with its size rule or to a denied group.")


def test_a_name_torch_starts_routing_is_caught_and_not_run():
    """What a torch upgrade that routes a new public function looks like to the check above; the
    worker does not know the name until it is listed."""
    routed = dict(commands.routed_names())
    routed["torch.brand_new_op"] = torch.add
    routed["Tensor.__brand_new__"] = torch.add
    routed["torch._private_helper"] = torch.add  # private names are never allowed: no review needed
    assert _unreviewed(routed) == ["Tensor.__brand_new__", "torch.brand_new_op"]
    with pytest.raises(OperationNotAllowedError):
        commands.resolve("torch.brand_new_op")


def test_every_listed_name_exists_and_no_name_is_on_both_lists():
    routed = set(commands.routed_names())
    assert not allowlist.ALLOWED & allowlist.DENIED
    stale = sorted((allowlist.ALLOWED | allowlist.DENIED) - routed)
    assert not stale, f"names torch no longer routes (remove them from allowlist.py): {stale}"


def test_the_lists_are_explicit_names_in_sorted_groups():
    groups = [value for key, value in vars(allowlist).items()
              if key.isupper() and not key.startswith("_") and type(value) is tuple]
    assert sum(map(len, groups)) == len(allowlist.ALLOWED) + len(allowlist.DENIED)
    for names in groups:
        assert len(set(names)) == len(names)
    assert len(allowlist.ALLOWED) < 1100  # a jump here means a group was added without review


INTERNAL = re.compile(
    r"^(native_|batch_norm_|fbgemm_|fused_|grid_sampler|quantize|quantized_|miopen_|q_|sym_|unsafe_)"
    r"|ctc_loss$|polynomial|^(alias|as_strided|detach|diagonal|expand|permute|select|slice|split|"
    r"split_with_sizes|squeeze|t|transpose|unbind|unfold|unsqueeze|values|view|view_as_real|"
    r"view_as_complex|indices|narrow)_copy$|^(as_strided|diagonal|select|slice)_scatter$|storage|"
    r"data_ptr|^set_$|^resize|^to_sparse|register_hook|^apply_$|^map2?_$|^numpy$|^tolist$|^item$|empty|"
    r"lobpcg|mvlgamma|multigammaln|einsum|embedding_bag|affine_grid_generator|constant_pad_nd|"
    r"^convolution$|^lstm|^gru|^rnn_")


def test_internal_entry_points_are_not_allowed():
    assert not [n for n in allowlist.ALLOWED if INTERNAL.search(n.rsplit(".", 1)[-1])]
    # the review's reproducers, by name
    for name in ("torch.fbgemm_pack_gemm_matrix_fp16", "torch.fbgemm_linear_fp16_weight",
                 "torch.batch_norm_update_stats", "torch.fused_moving_avg_obs_fake_quant",
                 "torch.native_batch_norm", "torch.ctc_loss", "torch.nn.functional.ctc_loss",
                 "torch.grid_sampler_2d", "torch.special.special_legendre_polynomial_p"):
        assert name in allowlist.DENIED


def test_no_private_name_is_allowed():
    assert not [n for n in allowlist.ALLOWED if _private(n)]


def test_every_allowed_name_has_a_size_rule():
    assert set(allowlist.RULES) == allowlist.ALLOWED
    assert set(allowlist.RULES.values()) == {allowlist.BROADCAST, allowlist.BOUNDED, allowlist.FORMULA,
                                             allowlist.META}
    formula = {n for n, rule in allowlist.RULES.items() if rule == allowlist.FORMULA}
    assert formula <= set(commands._FORMULAS), sorted(formula - set(commands._FORMULAS))
    assert allowlist.RANDOM <= allowlist.ALLOWED


@pytest.mark.parametrize("name", sorted(allowlist.DENIED))
def test_denied_names_do_not_resolve(name):
    with pytest.raises(OperationNotAllowedError, match="allow-list"):
        commands.resolve(name)


def test_allowed_names_resolve_to_checked_callables():
    for name in allowlist.ALLOWED:
        func = commands.resolve(name)
        assert func.__wrapped__ is commands._BY_NAME[name]
    # the calling side names only allowed operations
    assert set(commands.names_by_function().values()) <= allowlist.ALLOWED


# --- what training needs: optimizers step op by op on remote parameters ----------------------
OPTIMIZERS = [
    (torch.optim.SGD, dict(lr=0.1)),
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
    (torch.optim.Adam, dict(lr=0.01)),
    (torch.optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01, maximize=True)),
    (torch.optim.AdamW, dict(lr=0.01)),
    (torch.optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (torch.optim.RMSprop, dict(lr=0.01)),
    (torch.optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (torch.optim.Adagrad, dict(lr=0.1)),
    (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize("cls, options", OPTIMIZERS)
def test_optimizers_step_op_by_op_on_remote_parameters(bob, cls, options):
    """With a closure the step runs op by op (torch's own _single_tensor code, foreach=False):
    every operation it calls on the remote parameters must be on the list."""
    torch.manual_seed(0)
    local = torch.nn.Linear(3, 2)
    remote = torch.nn.Linear(3, 2)
    remote.load_state_dict(local.state_dict())
    remote.send(bob)
    data = torch.randn(4, 3)
    target = torch.randn(4, 2)
    results = []
    for model, x, y in ((local, data, target), (remote, data.send(bob), target.send(bob))):
        opt = cls(model.parameters(), foreach=False, **options)
        for _ in range(3):
            def closure():
                opt.zero_grad()
                loss = F.mse_loss(model(x), y)
                loss.backward()
                return loss
            opt.step(closure)
        results.append([p.detach() for p in model.parameters()])
    remote.get()
    for a, b in zip(results[0], [p.detach() for p in remote.parameters()]):
        assert torch.allclose(a, b, atol=1e-6)


# --- every operation whose size is checked before running: a sample call gives torch's answer --
x2 = torch.randn(4, 5)
x1 = torch.randn(5)
img = torch.randn(2, 3, 8, 8)
ints = torch.tensor([0, 2, 1, 2])


SAMPLES = {}


def _method(name):
    return lambda t, *a, **k: getattr(t, name)(*a, **k)


def _function(func):
    return lambda *a, **k: func(*a, **k)


_PAIRS = [("repeat", (x2, 2, 3), {}), ("tile", (x2, (2, 3)), {}), ("histc", (x1,), {"bins": 7}),
          ("histogram", (x1,), {"bins": 4}), ("kron", (x2, x2), {}), ("outer", (x1, x1), {}),
          ("ger", (x1, x1), {}), ("inner", (x2, x2), {}), ("addr", (x2, torch.randn(4), x1), {}),
          ("addr_", (x2.clone(), torch.randn(4), x1), {}), ("diag", (x1,), {}), ("diagflat", (x1,), {}),
          ("diag_embed", (x2,), {}), ("cov", (x2,), {}), ("corrcoef", (x2,), {}), ("svd", (x2,), {}),
          ("qr", (x2,), {}), ("nonzero", (ints,), {}), ("argwhere", (ints,), {}), ("bincount", (ints,), {}),
          ("repeat_interleave", (x1, 2), {}), ("quantile", (x2, torch.tensor([0.25, 0.5])), {"dim": 1}),
          ("nanquantile", (x2, 0.5, 1), {}), ("index_select", (x2, 0, ints), {}), ("unbind", (x2,), {}),
          ("split", (x2, 2), {}), ("split_with_sizes", (x2, [1, 3]), {}), ("chunk", (x2, 2), {}),
          ("tensor_split", (x2, 3), {}), ("hsplit", (x2, [1, 2]), {}), ("vsplit", (x2, 2), {}),
          ("dsplit", (img[0], 2), {}), ("where", (x2 > 0, x2, 0.0), {}), ("multinomial", (x1.abs(), 3), {}),
          ("histogram", (x1,), {"bins": 4}),
          ("as_strided", (x2, (2, 2), (5, 1), 1), {})]
for _name, _args, _kwargs in _PAIRS:
    if f"Tensor.{_name}" in allowlist.ALLOWED:
        SAMPLES[f"Tensor.{_name}"] = (_method(_name), _args, _kwargs)
    if f"torch.{_name}" in allowlist.ALLOWED:
        SAMPLES[f"torch.{_name}"] = (_function(getattr(torch, _name)), _args, _kwargs)
SAMPLES.update({
    "Tensor.__getitem__": (lambda t: t[[0, 2], 1:], (x2,), {}),
    "Tensor.__setitem__": (lambda t, i: t.__setitem__(i, 0.0), (x2.clone(), x2 > 0), {}),
    "Tensor.index_put_": (lambda t, i, v: t.index_put_((i,), v), (x2.clone(), ints, torch.tensor(1.0)), {}),
    "Tensor.masked_scatter_": (lambda t, m, s: t.masked_scatter_(m, s), (x2.clone(), x2 > 0, torch.ones(20)), {}),
    "torch.where": (lambda c: torch.where(c), (x2 > 0,), {}),
    "torch.linalg.linalg_svd": (_function(torch.linalg.svd), (x2,), {}),
    "torch.linalg.linalg_qr": (_function(torch.linalg.qr), (x2,), {"mode": "complete"}),
    "torch.linalg.linalg_lu": (_function(torch.linalg.lu), (x2,), {}),
    "torch.functional.tensordot": (_function(torch.tensordot), (x2, x2.t().contiguous()), {"dims": 1}),
    "torch.functional.block_diag": (_function(torch.block_diag), (x2, x1), {}),
    "torch.functional.cartesian_prod": (_function(torch.cartesian_prod), (x1, x1), {}),
    "torch.functional.cdist": (_function(torch.cdist), (x2, x2), {}),
    "torch.functional.split": (_function(torch.split), (x2, 3), {}),
    "torch.nn.functional.linear": (_function(F.linear), (x2, torch.randn(3, 5), torch.randn(3)), {}),
    "torch.nn.functional.conv1d": (_function(F.conv1d), (img[0, :, 0], torch.randn(2, 3, 3)), {"padding": 1}),
    "torch.nn.functional.conv2d": (_function(F.conv2d), (img, torch.randn(4, 3, 3, 3)), {"stride": 2}),
    "torch.nn.functional.conv3d": (_function(F.conv3d), (img[None], torch.randn(2, 2, 1, 3, 3)), {"padding": "same"}),
    "torch.nn.functional.conv_transpose1d": (_function(F.conv_transpose1d), (img[:, :, 0], torch.randn(3, 2, 3)), {}),
    "torch.nn.functional.conv_transpose2d": (_function(F.conv_transpose2d), (img, torch.randn(3, 2, 3, 3)), {"stride": 2}),
    "torch.nn.functional.conv_transpose3d": (_function(F.conv_transpose3d), (img[None], torch.randn(2, 2, 1, 3, 3)), {}),
    "torch.nn.functional.max_pool1d": (_function(F.max_pool1d), (img[0], 2), {}),
    "torch.nn.functional.max_pool2d": (_function(F.max_pool2d), (img, 3), {"stride": 2, "padding": 1, "ceil_mode": True}),
    "torch.nn.functional.max_pool3d": (_function(F.max_pool3d), (img[None], 2), {}),
    "torch.nn.functional.max_pool1d_with_indices": (_function(F.max_pool1d_with_indices), (img[0], 2), {}),
    "torch.nn.functional.max_pool2d_with_indices": (_function(F.max_pool2d_with_indices), (img, 2), {}),
    "torch.nn.functional.max_pool3d_with_indices": (_function(F.max_pool3d_with_indices), (img[None], 2), {}),
    "torch.nn.functional.avg_pool1d": (_function(F.avg_pool1d), (img[0], 2), {}),
    "torch.nn.functional.avg_pool2d": (_function(F.avg_pool2d), (img, 2), {}),
    "torch.nn.functional.avg_pool3d": (_function(F.avg_pool3d), (img[None], 2), {}),
    "torch.nn.functional.lp_pool1d": (_function(F.lp_pool1d), (img[0], 2, 2), {}),
    "torch.nn.functional.lp_pool2d": (_function(F.lp_pool2d), (img, 2, 2), {}),
    "torch.nn.functional.lp_pool3d": (_function(F.lp_pool3d), (img[None], 2, 2), {}),
    "torch.nn.functional.adaptive_avg_pool1d": (_function(F.adaptive_avg_pool1d), (img[0], 3), {}),
    "torch.nn.functional.adaptive_avg_pool2d": (_function(F.adaptive_avg_pool2d), (img, (3, 5)), {}),
    "torch.nn.functional.adaptive_avg_pool3d": (_function(F.adaptive_avg_pool3d), (img[None], 3), {}),
    "torch.nn.functional.adaptive_max_pool1d": (_function(F.adaptive_max_pool1d), (img[0], 3), {}),
    "torch.nn.functional.adaptive_max_pool2d": (_function(F.adaptive_max_pool2d), (img, 3), {"return_indices": True}),
    "torch.nn.functional.adaptive_max_pool3d": (_function(F.adaptive_max_pool3d), (img[None], 3), {}),
    "torch.nn.functional.adaptive_max_pool1d_with_indices": (_function(F.adaptive_max_pool1d_with_indices), (img[0], 3), {}),
    "torch.nn.functional.adaptive_max_pool2d_with_indices": (_function(F.adaptive_max_pool2d_with_indices), (img, 3), {}),
    "torch.nn.functional.adaptive_max_pool3d_with_indices": (_function(F.adaptive_max_pool3d_with_indices), (img[None], 3), {}),
    "torch.nn.functional.pad": (_function(F.pad), (img, (1, 2, 0, 3)), {"mode": "reflect"}),
    "torch.nn.functional.unfold": (_function(F.unfold), (img, 3), {}),
    "torch.nn.functional.fold": (_function(F.fold), (torch.randn(1, 12, 9), (4, 4), 2), {}),
    "torch.nn.functional.pdist": (_function(F.pdist), (x2,), {}),
    "torch.nn.functional.embedding": (_function(F.embedding), (ints, x2), {}),
    "torch.nn.functional.one_hot": (_function(F.one_hot), (ints,), {}),
    "torch.nn.functional.interpolate": (_function(F.interpolate), (img,), {"scale_factor": 1.5, "mode": "bilinear"}),
    "torch.cat": (_function(torch.cat), ([x2, x2],), {}),
    "torch.concat": (_function(torch.concat), ([x2, x2],), {"dim": 1}),
    "torch.concatenate": (_function(torch.concatenate), ([x2, x2],), {}),
    "torch.stack": (_function(torch.stack), ([x2, x2],), {}),
    "torch.hstack": (_function(torch.hstack), ([x2, x2],), {}),
    "torch.vstack": (_function(torch.vstack), ([x1, x1],), {}),
    "torch.dstack": (_function(torch.dstack), ([x2, x2],), {}),
    "torch.column_stack": (_function(torch.column_stack), ([x1, x1],), {}),
    "torch.row_stack": (_function(torch.row_stack), ([x1, x1],), {}),
    "torch.index_put": (lambda t, i, v: torch.index_put(t, (i,), v, accumulate=True), (x2, ints, torch.tensor(2.0)), {}),
    "Tensor.index_put": (lambda t, i, v: t.index_put((i,), v), (x2, ints, torch.tensor(2.0)), {}),
    "Tensor.where": (lambda t, c: t.where(c, 0.0), (x2, x2 > 0), {}),
    "Tensor.masked_scatter": (lambda t, m, s: t.masked_scatter(m, s), (x2, x2 > 0, torch.ones(20)), {}),
    "torch.masked_scatter": (_function(torch.masked_scatter), (x2, x2 > 0, torch.ones(20)), {}),
    "Tensor.new_zeros": (lambda t: t.new_zeros(2, 3), (x2,), {}),
    "Tensor.new_ones": (lambda t: t.new_ones((2, 3)), (x2,), {}),
    "Tensor.new_full": (lambda t: t.new_full((2, 3), 7.0), (x2,), {}),
    "torch.avg_pool1d": (_function(torch.avg_pool1d), (img[0], 2), {}),
    "torch.adaptive_avg_pool1d": (_function(torch.adaptive_avg_pool1d), (img[0], 3), {}),
    "torch.pdist": (_function(torch.pdist), (x2,), {}),
})
for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
    SAMPLES[f"torch.{_name}"] = SAMPLES[f"torch.nn.functional.{_name}"]
for _name in ("block_diag", "cartesian_prod", "cdist", "tensordot"):
    SAMPLES[f"torch.{_name}"] = SAMPLES[f"torch.functional.{_name}"]
SAMPLES["Tensor.svd"] = (_method("svd"), (x2,), {"some": False})

FACTORY_SAMPLES = {
    "torch.zeros": ((2, 3), {}), "torch.ones": ((4,), {}), "torch.full": (((2, 2), 3.0), {}),
    "torch.rand": ((3,), {}), "torch.randn": ((2, 2), {}), "torch.randint": ((0, 10, (5,)), {}),
    "torch.randperm": ((6,), {}), "torch.arange": ((0, 3, 0.5), {}), "torch.linspace": ((0, 1, 5), {}),
    "torch.logspace": ((0, 1, 5), {}), "torch.eye": ((3, 4), {}),
}
_RANDOM_SAMPLES = {"Tensor.multinomial", "torch.multinomial"}


def test_every_size_checked_operation_has_a_sample():
    checked = {n for n, rule in allowlist.RULES.items() if rule in (allowlist.FORMULA, allowlist.META)}
    missing = sorted(checked - set(SAMPLES) - set(FACTORY_SAMPLES))
    assert not missing, missing


def _same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype
        if a.dtype.is_floating_point or a.dtype.is_complex:
            assert torch.allclose(a, b, atol=1e-5, equal_nan=True)
        else:
            assert torch.equal(a, b)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        assert a == b


def _get(value):
    if isinstance(value, torch.Tensor):
        return value.get() if hasattr(value, "_id_at_location") else value
    if isinstance(value, (tuple, list)):
        return type(value)(_get(v) for v in value) if not hasattr(value, "_fields") else [_get(v) for v in value]
    return value


def _send(value, worker):
    if isinstance(value, torch.Tensor):
        return value.clone().send(worker)
    if isinstance(value, (tuple, list)):
        return type(value)(_send(v, worker) for v in value)
    return value


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_size_checked_operations_give_torchs_answer(bob, name):
    call, args, kwargs = SAMPLES[name]
    local_args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    expected = call(*local_args, **kwargs)
    remote_args = [_send(a, bob) for a in args]
    got = call(*remote_args, **kwargs)
    if name.endswith("__setitem__"):  # in place: compare the target
        expected, got = local_args[0], remote_args[0]
    if name in _RANDOM_SAMPLES:
        assert got.shape == expected.shape
    else:
        _same(list(expected) if isinstance(expected, tuple) else expected,
              [_get(g) for g in got] if isinstance(got, tuple) else _get(got))


@pytest.mark.parametrize("name", sorted(FACTORY_SAMPLES))
def test_factories_give_torchs_answer(bob, name):
    args, kwargs = FACTORY_SAMPLES[name]
    short = name.split(".", 1)[1]
    expected = getattr(torch, short)(*args, **kwargs)
    got = getattr(bob.remote.torch, short)(*args, **kwargs).get()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if short not in ("rand", "randn", "randint", "randperm"):
        assert torch.equal(got, expected)


def test_a_broadcast_bound_is_an_upper_bound():
    shapes = [(3, 1, 5), (4, 1), (1,)]
    assert commands._broadcast_numel(shapes) >= math.prod(torch.broadcast_shapes(*shapes))
    assert commands._broadcast_numel([(2, 3), (3, 4)]) >= 2 * 4  # mm: (n, m) @ (m, p)
