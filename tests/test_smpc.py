"""Secret sharing (Parts 09-12 bis), as a user sees it: what comes back from .get() after
sharing and computing, against torch on the same values; what one share or one masked value
shows (nothing: it is uniform whatever the secret); encrypted training; and clear errors.

Integers are exact. Fixed precision is exact for + - and comparisons on the encoded values; a
product is rescaled by one truncation, which is off by less than one unit of 10**-3 (the
documented error of two-party truncation, SecureML). Property tests draw their inputs with
hypothesis; the statistical tests draw from seeded AES-CTR streams, so that they are
reproducible.
"""
import copy
import gc
import os
import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from torch import nn, optim

import jupyter_syft as sy
from jupyter_syft.crypto import AdditiveSharingTensor, FixedPrecisionTensor
from jupyter_syft.crypto import rng as crypto_rng
from jupyter_syft.crypto.rng import FIELD, SecureRandom
from jupyter_syft.exceptions import SyftError, TensorsNotCollocatedException, WorkerNotFoundError
from jupyter_syft.workers.base import remove_worker

# Workers are function-scoped fixtures reused by every example of a property test: they keep no
# state between examples that matters (each example's objects go when its tensors go). The
# examples are the same on every run (derandomize), and no example database is written.
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=_HEALTH)
QUICK = settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=_HEALTH)

RING_MIN, RING_MAX = -2 ** 61, 2 ** 61 - 1  # what a sharing in Z_(2**62) reconstructs
WIDE = 2 ** 60 - 1  # operands whose difference still fits: what a comparison is exact for
ALPHA = 1e-3  # significance of every statistical test


@pytest.fixture
def trio(bob, alice, james):
    return bob, alice, james


def share(t, trio, **kwargs):
    bob, alice, james = trio
    return t.share(bob, alice, crypto_provider=james, **kwargs)


def fp_share(t, trio, **kwargs):
    bob, alice, james = trio
    return t.fix_precision().share(bob, alice, crypto_provider=james, **kwargs)


def ints(values):
    return torch.tensor(values, dtype=torch.int64)


def decoded(x):
    """The integers behind a fixed-precision tensor brought home."""
    got = x.get()
    assert isinstance(got, FixedPrecisionTensor) and not got.is_shared
    return got.child


def encoded(t):
    return torch.round(t.double() * 1000).to(torch.int64)


def assert_one_unit(got_ints, exact_times_1000):
    """A product of encoded values rescaled once: |got - exact / 1000| < 1 unit, checked exactly
    in integers (|1000 * got - exact| < 1000)."""
    gap = (got_ints * 1000 - exact_times_1000).abs()
    assert int(gap.max()) < 1000, (got_ints, exact_times_1000)


wide_int = st.integers(-WIDE, WIDE)
ring_int = st.integers(RING_MIN, RING_MAX)
small_int = st.integers(-2 ** 30, 2 ** 30)


@st.composite
def int_pairs(draw, values=wide_int, max_size=24, bound=WIDE):
    """Pairs of equal length with equal pairs, neighbours, zeros and extremes (+-bound, the
    largest magnitudes an operation is exact for) mixed in."""
    n = draw(st.integers(1, max_size))
    a, b = [], []
    for _ in range(n):
        kind = draw(st.sampled_from(["any", "equal", "near", "zero", "extreme"]))
        x = draw(values)
        if kind == "any":
            y = draw(values)
        elif kind == "equal":
            y = x
        elif kind == "near":
            y = min(max(x + draw(st.integers(-2, 2)), -bound), bound)
        elif kind == "zero":
            x, y = draw(st.sampled_from([(0, x), (x, 0), (0, 0)]))
        else:
            x = draw(st.sampled_from([bound, -bound, bound // 2, -(bound // 2)]))
            y = draw(st.sampled_from([bound, -bound, 0, 1, -1]))
        a.append(x)
        b.append(y)
    return ints(a), ints(b)


def wide_bulk(n, generator):
    """n pairs in the wide range, with every special case of int_pairs many times over."""
    a = torch.randint(-WIDE, WIDE + 1, (n,), generator=generator)
    b = torch.randint(-WIDE, WIDE + 1, (n,), generator=generator)
    k = n // 8
    b[:k] = a[:k]  # equal
    b[k:2 * k] = (a[k:2 * k] + torch.randint(-2, 3, (k,), generator=generator)).clamp(-WIDE, WIDE)  # neighbours
    a[2 * k:2 * k + 8] = torch.tensor([0, 0, WIDE, -WIDE, WIDE, -WIDE, 2 ** 60 - 2, -(2 ** 60 - 2)])
    b[2 * k:2 * k + 8] = torch.tensor([0, 1, -WIDE, WIDE, WIDE, -WIDE, WIDE, -WIDE])
    small = torch.randint(-3, 4, (2, k), generator=generator)  # zeros and small values
    a[3 * k:4 * k], b[3 * k:4 * k] = small[0], small[1]
    return a, b


COMPARISONS = ["gt", "lt", "ge", "le", "eq", "ne"]


def compare_like_torch(sa, sb, a, b):
    for how in COMPARISONS:
        got = getattr(torch, how)(sa, sb).get()
        assert torch.equal(got, getattr(torch, how)(a, b).to(torch.int64)), how


# --- integers: exact ------------------------------------------------------------------------
@PROPERTY
@given(values=st.lists(ring_int, min_size=1, max_size=40), n_parties=st.integers(2, 4))
def test_share_get_round_trip_is_exact(bob, alice, charlie, james, values, n_parties):
    secret = ints(values)
    shared = secret.share(*[bob, alice, charlie, james][:n_parties])
    assert isinstance(shared, AdditiveSharingTensor) and shared.shape == secret.shape
    assert torch.equal(shared.get(), secret)


def test_share_get_round_trip_in_bulk_and_in_every_shape(trio):
    g = torch.Generator().manual_seed(11)
    secret = torch.randint(RING_MIN, RING_MAX + 1, (20_000,), generator=g)
    secret[:6] = torch.tensor([0, 1, -1, RING_MIN, RING_MAX, -2 ** 60])
    assert torch.equal(share(secret, trio).get(), secret)
    for shape in [(), (1,), (3, 4), (2, 3, 4), (0,), (2, 0, 3)]:
        t = torch.randint(-100, 100, shape, generator=g)
        assert torch.equal(share(t, trio).get(), t), shape


@PROPERTY
@given(pair=int_pairs())
def test_add_sub_neg_are_exact(trio, pair):
    a, b = pair
    sa, sb = share(a, trio), share(b, trio)
    assert torch.equal((sa + sb).get(), a + b)
    assert torch.equal((sa - sb).get(), a - b)
    assert torch.equal((-sa).get(), -a)
    assert torch.equal((sa + sb - sa).get(), b)


@PROPERTY
@given(pair=int_pairs(values=small_int, bound=2 ** 30))
def test_mul_is_exact(trio, pair):
    a, b = pair
    sa, sb = share(a, trio), share(b, trio)
    assert torch.equal((sa * sb).get(), a * b)
    assert torch.equal((sa * sa).get(), a * a)


@PROPERTY
@given(m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 5), seed=st.integers(0, 2 ** 31))
def test_mm_is_exact(trio, m, k, n, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(-2 ** 20, 2 ** 20, (m, k), generator=g)
    b = torch.randint(-2 ** 20, 2 ** 20, (k, n), generator=g)
    sa, sb = share(a, trio), share(b, trio)
    assert torch.equal(sa.mm(sb).get(), a.mm(b))
    assert torch.equal(torch.mm(sa, sb).get(), a @ b)
    assert torch.equal((sa @ sb).get(), a @ b)


def test_mul_and_mm_with_three_share_holders(bob, alice, charlie, james):
    g = torch.Generator().manual_seed(5)
    a, b = torch.randint(-1000, 1000, (4, 3), generator=g), torch.randint(-1000, 1000, (3, 2), generator=g)
    sa = a.share(bob, alice, charlie, crypto_provider=james)
    sb = b.share(bob, alice, charlie, crypto_provider=james)
    assert torch.equal(sa.mm(sb).get(), a @ b)
    assert torch.equal((sa * sa).get(), a * a)
    assert torch.equal((sa > 0).get(), (a > 0).long())
    assert torch.equal((sa == sa).get(), torch.ones_like(a))


@QUICK
@given(pair=int_pairs(values=small_int, max_size=8, bound=2 ** 30), k=st.integers(-1000, 1000))
def test_public_operands(trio, pair, k):
    a, b = pair
    sa = share(a, trio)
    assert torch.equal((sa + k).get(), a + k)
    assert torch.equal((k + sa).get(), k + a)
    assert torch.equal((sa - k).get(), a - k)
    assert torch.equal((k - sa).get(), k - a)
    assert torch.equal((sa * k).get(), a * k)
    assert torch.equal((k * sa).get(), k * a)
    assert torch.equal((sa + b).get(), a + b)
    assert torch.equal((b - sa).get(), b - a)
    assert torch.equal((sa - b).get(), a - b)
    assert torch.equal((sa * b).get(), a * b)
    assert torch.equal((b * sa).get(), b * a)


def test_public_operands_broadcast_and_mm(trio):
    g = torch.Generator().manual_seed(2)
    a = torch.randint(-1000, 1000, (3, 4), generator=g)
    row, col = torch.randint(-9, 9, (4,), generator=g), torch.randint(-9, 9, (3, 1), generator=g)
    w, v = torch.randint(-9, 9, (4, 2), generator=g), torch.randint(-9, 9, (5, 3), generator=g)
    sa = share(a, trio)
    assert torch.equal((sa + row).get(), a + row)
    assert torch.equal((col - sa).get(), col - a)
    assert torch.equal((sa * col).get(), a * col)
    assert torch.equal(sa.mm(w).get(), a @ w)
    assert torch.equal(torch.mm(v, sa).get(), v @ a)
    scalar = share(torch.tensor(7), trio)
    assert torch.equal((scalar + a).get(), a + 7)  # a shared scalar and a public matrix
    assert torch.equal((sa + share(row, trio)).get(), a + row)  # two shared tensors broadcast
    assert torch.equal((sa * share(col, trio)).get(), a * col)


def test_sum_and_shape_changes(trio):
    g = torch.Generator().manual_seed(3)
    a = torch.randint(-2 ** 40, 2 ** 40, (3, 4), generator=g)
    sa = share(a, trio)
    assert torch.equal(sa.sum().get(), a.sum())
    assert torch.equal(sa.sum(dim=0).get(), a.sum(dim=0))
    assert torch.equal(sa.sum(1, keepdim=True).get(), a.sum(1, keepdim=True))
    assert torch.equal(sa.view(-1).get(), a.view(-1))
    assert torch.equal(sa.view(2, 6).get(), a.view(2, 6))
    assert torch.equal(sa.reshape(4, 3).get(), a.reshape(4, 3))
    assert torch.equal(sa.t().get(), a.t())
    assert torch.equal(sa.transpose(0, 1).get(), a.transpose(0, 1))
    assert torch.equal(sa.unsqueeze(0).get(), a.unsqueeze(0))
    assert torch.equal(sa.unsqueeze(2).squeeze(2).get(), a)
    assert torch.equal(sa[1].get(), a[1])
    assert torch.equal(sa[:, 1:3].get(), a[:, 1:3])
    small = share(a % 1000, trio)
    assert torch.equal(small.t().mm(small).get(), (a % 1000).t() @ (a % 1000))
    assert sa.t().shape == (4, 3) and sa.view(-1).shape == (12,)
    # everything still reads the same after all those views
    assert torch.equal(sa.get(), a)


def test_reshape_and_contiguous_after_a_transpose(trio):
    """torch copies where a view cannot be made: reshape() and contiguous() of a transposed tensor
    work, and so must they on shares (autograd's view and mm backward formulas rely on it)."""
    a = torch.arange(6).view(2, 3)
    sa = share(a, trio)
    assert torch.equal(sa.t().reshape(-1).get(), a.t().reshape(-1))
    assert torch.equal(sa.t().contiguous().view(-1).get(), a.t().contiguous().view(-1))
    assert torch.equal(sa.t().reshape(3, 2).mm(sa).get(), a.t() @ a)
    f = torch.tensor([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]])
    sf = fp_share(f, trio)
    assert torch.equal(decoded(sf.t().reshape(-1)), encoded(f.t().reshape(-1)))


@PROPERTY
@given(pair=int_pairs())
def test_comparisons_are_exact_like_torch(trio, pair):
    a, b = pair
    compare_like_torch(share(a, trio), share(b, trio), a, b)


def test_comparisons_in_bulk_over_the_whole_range(trio):
    a, b = wide_bulk(4000, torch.Generator().manual_seed(17))
    compare_like_torch(share(a, trio), share(b, trio), a, b)


@QUICK
@given(pair=int_pairs(max_size=8), k=st.integers(-WIDE, WIDE))
def test_comparisons_with_public_operands(trio, pair, k):
    a, b = pair
    sa = share(a, trio)
    for how in COMPARISONS:
        f = getattr(torch, how)
        expected = f(a, k).to(torch.int64)
        assert torch.equal(f(sa, k).get(), expected), how
        assert torch.equal(f(sa, b).get(), f(a, b).to(torch.int64)), how
        assert torch.equal(f(b, sa).get(), f(b, a).to(torch.int64)), how
    assert torch.equal((0 < sa).get(), (a > 0).long())
    assert torch.equal((k >= sa).get(), (a <= k).long())


@PROPERTY
@given(values=st.lists(wide_int, min_size=1, max_size=30))
def test_relu_and_max_of_a_whole_tensor(trio, values):
    a = ints(values)
    sa = share(a, trio)
    assert torch.equal(sa.relu().get(), a.relu())
    assert torch.equal(torch.relu(sa).get(), a.relu())
    assert torch.equal(sa.max().get(), a.max().view(1))  # PySyft 0.2.4: tensor([4])


def distinct(shape, generator, low=-WIDE, high=WIDE):
    """Values with no ties, so the index of the maximum is the one torch gives."""
    n = 1
    for s in shape:
        n *= s
    while True:
        t = torch.randint(low, high + 1, (n,), generator=generator)
        if t.unique().numel() == n:
            return t.view(shape)


@QUICK
@given(rows=st.integers(1, 9), cols=st.integers(1, 9), seed=st.integers(0, 2 ** 31))
def test_max_dim_and_argmax_like_torch(trio, rows, cols, seed):
    a = distinct((rows, cols), torch.Generator().manual_seed(seed))
    sa = share(a, trio)
    for dim in (0, 1, -1):
        values, indices = sa.max(dim=dim)
        expected = a.max(dim=dim)
        assert torch.equal(values.get(), expected.values), dim
        assert torch.equal(indices.get(), expected.indices), dim
        assert torch.equal(sa.argmax(dim=dim).get(), a.argmax(dim=dim)), dim
    values, indices = sa.max(dim=0, keepdim=True)
    assert torch.equal(values.get(), a.max(dim=0, keepdim=True).values)
    assert torch.equal(indices.get(), a.max(dim=0, keepdim=True).indices)
    assert torch.equal(sa.argmax(dim=1, keepdim=True).get(), a.argmax(dim=1, keepdim=True))
    assert torch.equal(sa.argmax().get(), a.argmax())


def test_max_dim_over_three_dimensions(trio):
    a = distinct((5, 3, 4), torch.Generator().manual_seed(8), -2 ** 50, 2 ** 50)
    sa = share(a, trio)
    for dim in (0, 1, 2):
        values, indices = sa.max(dim=dim)
        assert torch.equal(values.get(), a.max(dim=dim).values), dim
        assert torch.equal(indices.get(), a.max(dim=dim).indices), dim


def test_max_dim_and_argmax_with_ties_give_torch_s_first_index(trio):
    """torch: "If there are multiple maximal values then the indices of the first maximal value
    are returned". Ties are common in practice (argmax of one-hot outputs, of rounded values)."""
    a = torch.randint(0, 3, (6, 9), generator=torch.Generator().manual_seed(1))
    sa = share(a, trio)
    values, indices = sa.max(dim=1)
    assert torch.equal(values.get(), a.max(dim=1).values)
    indices = indices.get()
    assert torch.equal(a.gather(1, indices.unsqueeze(1)).squeeze(1), a.max(dim=1).values)  # a maximum
    assert torch.equal(indices, a.max(dim=1).indices)  # the first one
    assert torch.equal(sa.argmax(dim=0).get(), a.argmax(dim=0))


# --- fixed precision ---------------------------------------------------------------------------
reals = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False, width=32)
real_lists = st.lists(reals, min_size=1, max_size=24)
# Two-party truncation fails (off by about 2**62 / 1000) with probability |product| / 2**62 per
# element, as documented: factors up to 100 keep that below 2**-29.
factors = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def real_pairs(draw, values=reals, max_size=16):
    n = draw(st.integers(1, max_size))
    a = draw(st.lists(values, min_size=n, max_size=n))
    b = [draw(st.sampled_from(["any", "equal", "zero"])) for _ in range(n)]
    b = [draw(values) if kind == "any" else x if kind == "equal" else 0.0 for kind, x in zip(b, a)]
    return torch.tensor(a), torch.tensor(b)


@PROPERTY
@given(values=real_lists)
def test_fixed_precision_round_trip_within_a_thousandth(trio, values):
    t = torch.tensor(values)
    shared = fp_share(t, trio)
    assert isinstance(shared, FixedPrecisionTensor) and shared.is_shared and shared.shape == t.shape
    back = shared.get().float_precision()
    assert back.dtype == torch.float32
    assert float((back - t).abs().max()) <= 1e-3


@PROPERTY
@given(pair=real_pairs(values=factors))
def test_fixed_precision_add_sub_are_exact_and_mul_is_within_one_unit(trio, pair):
    a, b = pair
    ea, eb = encoded(a), encoded(b)
    sa, sb = fp_share(a, trio), fp_share(b, trio)
    assert torch.equal(decoded(sa + sb), ea + eb)
    assert torch.equal(decoded(sa - sb), ea - eb)
    assert torch.equal(decoded(-sa), -ea)
    assert_one_unit(decoded(sa * sb), ea * eb)
    assert_one_unit(decoded(sa * sa), ea * ea)
    product = (sa * sb).get().float_precision().double()  # float32: its own rounding on top
    exact = (ea * eb).double() / 1e6
    assert bool(((product - exact).abs() <= 1e-3 + exact.abs() * torch.finfo(torch.float32).eps).all())


@PROPERTY
@given(m=st.integers(1, 5), k=st.integers(1, 6), n=st.integers(1, 5), seed=st.integers(0, 2 ** 31))
def test_fixed_precision_mm_is_within_one_unit(trio, m, k, n, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(m, k, generator=g) * 50, torch.randn(k, n, generator=g) * 50
    sa, sb = fp_share(a, trio), fp_share(b, trio)
    assert_one_unit(decoded(sa.mm(sb)), encoded(a) @ encoded(b))
    assert_one_unit(decoded(sa @ sb), encoded(a) @ encoded(b))
    assert_one_unit(decoded(sa.mm(b)), encoded(a) @ encoded(b))  # a public float operand
    assert_one_unit(decoded(torch.mm(b.t(), sa.t())), encoded(b).t() @ encoded(a).t())  # public on the left


@QUICK
@given(values=real_lists, k=st.integers(-50, 50), r=st.floats(-50, 50, allow_nan=False, width=32))
def test_fixed_precision_public_operands(trio, values, k, r):
    t = torch.tensor(values)
    e, er = encoded(t), int(encoded(torch.tensor(r)))
    st_ = fp_share(t, trio)
    assert torch.equal(decoded(st_ + r), e + er)
    assert torch.equal(decoded(r + st_), e + er)
    assert torch.equal(decoded(st_ - r), e - er)
    assert torch.equal(decoded(r - st_), er - e)
    assert torch.equal(decoded(st_ * k), e * k)  # a whole number multiplies exactly
    assert torch.equal(decoded(k * st_), e * k)
    assert_one_unit(decoded(st_ * r), e * er)
    if k > 0:
        got = decoded(st_ / k)  # division by a public whole number: one truncation
        assert int((got * k - e).abs().max()) < k, (got, e, k)


def test_fixed_precision_mean_pow_and_shape_changes(trio):
    t = torch.tensor([[1.5, -2.0, 3.25], [0.125, 7.0, -0.5]])
    e = encoded(t)
    s = fp_share(t, trio)
    assert torch.equal(decoded(s.sum()), e.sum())
    assert torch.equal(decoded(s.sum(dim=0)), e.sum(dim=0))
    assert torch.equal(decoded(s.t()), e.t())
    assert torch.equal(decoded(s.view(-1)), e.view(-1))
    assert torch.equal(decoded(s[1]), e[1])
    assert_one_unit(decoded(s ** 2), e * e)
    assert float((s.mean().get().float_precision() - t.mean()).abs()) <= 1e-3
    assert float((s.mean(dim=1).get().float_precision() - t.mean(dim=1)).abs().max()) <= 1e-3


@PROPERTY
@given(pair=real_pairs())
def test_fixed_precision_comparisons_are_exact_on_the_encoded_values(trio, pair):
    a, b = pair
    ea, eb = encoded(a), encoded(b)
    sa, sb = fp_share(a, trio), fp_share(b, trio)
    for how in COMPARISONS:
        got = getattr(torch, how)(sa, sb)
        assert isinstance(got, FixedPrecisionTensor)
        assert torch.equal(decoded(got), getattr(torch, how)(ea, eb).to(torch.int64) * 1000), how
    assert torch.equal((sa > 0).get().float_precision(), (ea > 0).float())
    assert torch.equal((sa <= 1.5).get().float_precision(), (ea <= 1500).float())


def test_fixed_precision_comparisons_chain_into_counts_and_products(trio):
    """Part 11 counts correct predictions with pred.eq(target).sum() and reads it with
    .float_precision().long(): every 0/1 must be exact, not 0.999."""
    g = torch.Generator().manual_seed(4)
    a, b = torch.randint(-5, 5, (300,), generator=g).float(), torch.randint(-5, 5, (300,), generator=g).float()
    sa, sb = fp_share(a, trio), fp_share(b, trio)
    assert (sa == sb).sum().get().float_precision().long().item() == int((a == b).sum())
    assert (sa.eq(sb)).sum().copy().get().float_precision().long().item() == int((a == b).sum())
    both = (sa > sb) * (sa > 0)  # a product of two shared 0/1 values: within one unit of 0 or 1
    assert float((both.get().float_precision() - ((a > b) & (a > 0)).float()).abs().max()) <= 1e-3
    assert torch.equal(((sa > sb) + (sb > sa) + (sa == sb)).get().float_precision(), torch.ones(300))
    assert torch.equal(((sa > sb) > 0.5).get().float_precision(), (a > b).float())


@PROPERTY
@given(values=real_lists)
def test_fixed_precision_relu_and_max(trio, values):
    t = torch.tensor(values)
    e = encoded(t)
    s = fp_share(t, trio)
    assert torch.equal(decoded(s.relu()), e.relu())
    assert torch.equal(decoded(s.max()), e.max().view(1))


@QUICK
@given(rows=st.integers(1, 7), cols=st.integers(1, 7), seed=st.integers(0, 2 ** 31))
def test_fixed_precision_max_dim_and_argmax(trio, rows, cols, seed):
    e = distinct((rows, cols), torch.Generator().manual_seed(seed), -10 ** 6, 10 ** 6)
    t = e.double() / 1000
    s = fp_share(t.float(), trio)
    e = encoded(t.float())  # what the shares hold
    values, indices = s.max(dim=0)
    assert torch.equal(decoded(values), e.max(dim=0).values)
    assert torch.equal(indices.get().float_precision().long(), e.max(dim=0).indices)
    assert torch.equal(s.argmax(dim=1).get().float_precision().long(), e.argmax(dim=1))


# --- what one share, or one masked value, shows ---------------------------------------------
def seeded(monkeypatch, *workers):
    """Every random draw behind shares, triples and masks, seeded, so that the statistics below
    are reproducible: the keys of the AES-CTR generators (the caller's, each worker's, the
    provider's seeds for the parties, a comparison's common randomness) all come from
    os.urandom, here a seeded stream."""
    stream = random.Random(20261127)
    monkeypatch.setattr(os, "urandom", stream.randbytes)
    monkeypatch.setattr(crypto_rng._local, "rng", SecureRandom(), raising=False)
    for w in workers:
        monkeypatch.setitem(w.__dict__, "_secure_random", SecureRandom())


def held(ptr):
    """The value a worker holds for a pointer (what that worker sees)."""
    return ptr.location._objects[ptr.id_at_location].clone()


def assert_uniform_in_the_ring(values):
    """Uniform on [0, 2**62): KS against the uniform law, chi-square over the top 6 bits."""
    assert values.dtype == torch.int64
    assert int(values.min()) >= 0 and int(values.max()) < FIELD
    unit = (values.double() / FIELD).numpy()
    assert stats.kstest(unit, "uniform").pvalue > ALPHA
    counts = torch.bincount(values >> 56, minlength=64).numpy()
    assert counts.shape == (64,)
    assert stats.chisquare(counts).pvalue > ALPHA


def assert_same_law(first, second):
    assert stats.ks_2samp((first.double() / FIELD).numpy(), (second.double() / FIELD).numpy()).pvalue > ALPHA


def assert_uniform_whatever_the_secret(first, second):
    """What a party saw for one secret and for another: both uniform, and alike."""
    assert_uniform_in_the_ring(first)
    assert_uniform_in_the_ring(second)
    assert_same_law(first, second)


N_STAT = 20_000
SECRETS = [torch.zeros(N_STAT, dtype=torch.int64), torch.full((N_STAT,), 10 ** 12, dtype=torch.int64)]


def test_each_share_is_uniform_whatever_the_secret(trio, monkeypatch):
    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    seen = {"bob": [], "alice": []}
    for secret in SECRETS + [torch.arange(N_STAT, dtype=torch.int64) * 2 ** 40 - 2 ** 54]:
        shared = share(secret, trio)
        for name in seen:
            seen[name].append(held(shared.child[name]))
        assert torch.equal(shared.get(), secret)
    for name, samples in seen.items():
        for values in samples:
            assert_uniform_in_the_ring(values)
        assert_same_law(samples[0], samples[1])
        assert_same_law(samples[0], samples[2])


def test_shares_a_worker_makes_of_its_own_tensor_are_uniform(trio, monkeypatch):
    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    seen = {"bob": [], "alice": []}
    for secret in SECRETS:
        shared = secret.send(bob).share(bob, alice, crypto_provider=james).get()
        for name in seen:
            seen[name].append(held(shared.child[name]))
        assert torch.equal(shared.get(), secret)
    for samples in seen.values():
        assert_uniform_whatever_the_secret(samples[0], samples[1])


def test_fixed_precision_shares_are_uniform(trio, monkeypatch):
    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    samples = []
    for value in (0.0, 123456.789):
        shared = fp_share(torch.full((N_STAT,), value), trio)
        samples.append(held(shared.child.child["alice"]))
    assert_uniform_whatever_the_secret(samples[0], samples[1])


def test_sharing_twice_gives_fresh_shares(trio):
    """Unseeded: each sharing draws new randomness (the same secret never gives the same share)."""
    secret = torch.arange(1000, dtype=torch.int64)
    one, two = share(secret, trio), share(secret, trio)
    assert int((held(one.child["bob"]) == held(two.child["bob"])).sum()) == 0
    refreshed = one.refresh()
    assert int((held(refreshed.child["bob"]) == held(one.child["bob"])).sum()) == 0
    assert torch.equal(refreshed.get(), secret)


def spy_on_replies(monkeypatch, step):
    """What the caller (the notebook's worker) receives back from each party for a step."""
    me = sy.local_worker
    seen = []
    original = me._request

    def request(location, kind, fields, *args, **kwargs):
        reply = original(location, kind, fields, *args, **kwargs)
        if kind == "mpc" and fields and fields[0] == step:
            seen.append((location.id, reply))
        return reply

    monkeypatch.setattr(me, "_request", request)
    return seen


def test_the_masked_values_a_multiplication_opens_are_uniform(trio, monkeypatch):
    """x - a and y - b from beaver_open: each party's part and their sum (what the caller
    learns) are uniform, the same for x = 0 and x = 10**12."""
    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    seen = spy_on_replies(monkeypatch, "beaver_open")
    y = share(torch.full((N_STAT,), 3, dtype=torch.int64), trio)
    opened = []
    for secret in SECRETS:
        seen.clear()
        product = share(secret, trio) * y
        assert torch.equal(product.get(), secret * 3)
        assert [party for party, _ in seen] == ["bob", "alice"]
        for _, (d, e) in seen:
            assert_uniform_in_the_ring(d)
            assert_uniform_in_the_ring(e)
        opened.append((seen[0][1][0] + seen[1][1][0]) % FIELD)  # d = x - a
    assert_uniform_whatever_the_secret(opened[0], opened[1])


def test_the_masked_values_a_comparison_opens_are_uniform(trio, monkeypatch):
    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    seen = spy_on_replies(monkeypatch, "cmp_open")
    opened = []
    for secret in SECRETS:
        seen.clear()
        assert torch.equal((share(secret, trio) > 0).get(), (secret > 0).long())
        parts = [c for _, c in seen]
        assert len(parts) == 2
        for c in parts:
            assert_uniform_in_the_ring(c)
        opened.append((parts[0] + parts[1]) % FIELD)  # c = x + r, with x the difference compared
    assert_uniform_whatever_the_secret(opened[0], opened[1])


def test_the_crypto_provider_sees_one_random_bit_per_compared_element(trio, monkeypatch):
    """The provider adds the parties' terms: per element it finds one zero or none, and whether
    it finds one is a fair coin whatever is compared; where the zero is, uniform."""
    from jupyter_syft.crypto import compare

    bob, alice, james = trio
    seeded(monkeypatch, bob, alice, james)
    received = []
    original = compare.provider_collect

    def collect(worker, state_id, index, terms):
        received.append(terms.clone())
        return original(worker, state_id, index, terms)

    monkeypatch.setattr(compare, "provider_collect", collect)
    n = 4000
    found = []
    for secret in (torch.zeros(n, dtype=torch.int64), torch.full((n,), -10 ** 12, dtype=torch.int64)):
        received.clear()
        assert torch.equal((share(secret, trio) < 0).get(), (secret < 0).long())
        assert len(received) == 2
        total = (received[0].long() + received[1].long()) % compare.P
        zeros = total == 0
        assert int(zeros.sum(dim=1).max()) <= 1
        has_zero = zeros.any(dim=1)
        found.append(int(has_zero.sum()))
        assert stats.binomtest(found[-1], n, 0.5).pvalue > ALPHA
        where = zeros[has_zero].float().argmax(dim=1)
        assert stats.chisquare(torch.bincount(where, minlength=compare.POSITIONS).numpy()).pvalue > ALPHA
    assert stats.chi2_contingency([[found[0], n - found[0]], [found[1], n - found[1]]]).pvalue > ALPHA


# --- encrypted training -------------------------------------------------------------------------
class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def blobs(n, generator):
    labels = torch.randint(0, 2, (n,), generator=generator)
    centres = (labels.float() * 2 - 1).unsqueeze(1) * 0.6
    return centres + torch.randn(n, 4, generator=generator), labels


def accuracy(model, data, labels):
    with torch.no_grad():
        return float((model(data).argmax(dim=1) == labels).float().mean())


def test_encrypted_training_reaches_the_accuracy_of_plain_training(trio):
    bob, alice, james = trio
    g = torch.Generator().manual_seed(7)
    train_x, train_y = blobs(120, g)
    test_x, test_y = blobs(400, g)
    train_t = nn.functional.one_hot(train_y, 2).float()
    torch.manual_seed(3)
    plain = TwoLayers()
    encrypted = copy.deepcopy(plain)
    before = accuracy(plain, test_x, test_y)
    steps, lr = 25, 0.1

    opt = optim.SGD(plain.parameters(), lr=lr)
    plain_losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((plain(train_x) - train_t) ** 2).sum() / len(train_x)
        loss.backward()
        opt.step()
        plain_losses.append(float(loss))

    encrypted.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    data = train_x.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    target = train_t.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    opt = optim.SGD(params=encrypted.parameters(), lr=lr).fix_precision()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((encrypted(data) - target) ** 2).sum() / len(train_x)
        loss.backward()
        opt.step()
        losses.append(float(loss.get().float_precision()))
    assert max(abs(a - b) for a, b in zip(losses, plain_losses)) < 0.02, (losses, plain_losses)

    # encrypted evaluation, as Part 11 counts it
    shared_x = test_x.fix_precision().share(bob, alice, crypto_provider=james)
    shared_y = test_y.float().fix_precision().share(bob, alice, crypto_provider=james)
    with torch.no_grad():
        correct = encrypted(shared_x).argmax(dim=1).eq(shared_y).sum()
    encrypted_eval = correct.copy().get().float_precision().long().item() / len(test_y)

    assert encrypted.get() is not False
    encrypted.float_precision()
    after_plain, after_encrypted = accuracy(plain, test_x, test_y), accuracy(encrypted, test_x, test_y)
    assert after_plain > before + 0.2  # the task is learnt, not a coin toss
    assert abs(after_encrypted - after_plain) <= 0.02
    assert abs(encrypted_eval - after_encrypted) <= 0.02
    for p, q in zip(plain.parameters(), encrypted.parameters()):
        assert float((p - q).abs().max()) < 0.05


@pytest.mark.parametrize("name, fn", [
    ("relu", lambda x: x.relu().sum()),  # torch: 0 at 0
    ("product", lambda x: (x * x * 3).sum()),
    ("power", lambda x: ((x - 1) ** 2).sum()),
    ("mm", lambda x: x.view(1, 4).mm(x.view(4, 1)).sum()),
    ("linear", lambda x: nn.functional.linear(x.view(2, 2), x.view(2, 2)).relu().sum()),
])
def test_gradients_match_plain_autograd(trio, name, fn):
    values = [-1.5, 0.0, 0.25, 2.0]
    plain = torch.tensor(values, requires_grad=True)
    fn(plain).backward()
    shared = fp_share(torch.tensor(values), trio, requires_grad=True)
    fn(shared).backward()
    got = shared.grad.get().float_precision()
    assert float((got - plain.grad).abs().max()) <= 2e-3, (got, plain.grad)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.SGD(p, lr=0.1, weight_decay=0.1),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.5, nesterov=True),
], ids=["momentum", "weight decay", "nesterov"])
def test_sgd_variants_match_plain_training(trio, make):
    bob, alice, james = trio
    torch.manual_seed(0)
    plain = nn.Linear(3, 2)
    encrypted = copy.deepcopy(plain)
    data, target = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    opt = make(plain.parameters())
    for _ in range(3):
        opt.zero_grad()
        ((plain(data) - target) ** 2).sum().backward()
        opt.step()
    encrypted.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    opt = make(encrypted.parameters()).fix_precision()
    shared_data, shared_target = fp_share(data, trio), fp_share(target, trio)
    for _ in range(3):
        opt.zero_grad()
        ((encrypted(shared_data) - shared_target) ** 2).sum().backward()
        opt.step()
    encrypted.get()
    encrypted.float_precision()
    for p, q in zip(plain.parameters(), encrypted.parameters()):
        assert float((p - q).abs().max()) < 0.01


def test_secure_aggregation_of_remote_models(trio):
    """Part 10: each worker's parameter copied, encoded and shared from where it is, the shares
    added, and only the sum decrypted."""
    bob, alice, james = trio
    torch.manual_seed(1)
    local = [nn.Linear(2, 1), nn.Linear(2, 1)]
    expected = [(p + q) / 2 for p, q in zip(local[0].parameters(), local[1].parameters())]
    remote = [copy.deepcopy(local[0]).send(bob), copy.deepcopy(local[1]).send(alice)]
    params = [list(m.parameters()) for m in remote]
    for i, want in enumerate(expected):
        shared = [params[r][i].copy().fix_precision().share(bob, alice, crypto_provider=james).get()
                  for r in range(2)]
        assert all(isinstance(s, FixedPrecisionTensor) and s.is_shared for s in shared)
        averaged = (shared[0] + shared[1]).get().float_precision() / 2
        assert float((averaged - want).abs().max()) <= 1e-3


def test_requires_grad_without_training(trio):
    t = torch.tensor([1.5, -2.0, 0.25])
    x = fp_share(t, trio, requires_grad=True)
    assert x.requires_grad
    y = (x * x + x).sum()
    assert y.requires_grad and y.grad_fn is not None
    expected = encoded(t)
    assert_one_unit(decoded(y), (expected * expected).sum() + 1000 * expected.sum())
    assert float((x.get().float_precision() - t).abs().max()) <= 1e-3
    w = fp_share(torch.tensor([2.0, 3.0]), trio, requires_grad=True)
    (w * w).sum().backward()
    assert torch.equal(w.grad.get().float_precision(), torch.tensor([4.0, 6.0]))


# --- errors: clear, and without secrets ----------------------------------------------------------
SECRET = 987654321  # a value that must never appear in an error message


def no_secret_in(error, *share_holders):
    text = str(error)
    assert str(SECRET) not in text and f"{SECRET:g}" not in text and f"{float(SECRET):g}" not in text, text
    for worker in share_holders:  # nor any share value the workers hold
        for value in worker._objects.values():
            for v in value.reshape(-1)[:50].tolist():
                if abs(v) > 10 ** 6:
                    assert str(v) not in text, text
    assert "tensor(" not in text, text
    return text


def test_sharing_a_float_tensor(trio):
    bob, alice, james = trio
    with pytest.raises(TypeError) as e:
        torch.tensor([float(SECRET)]).share(bob, alice, crypto_provider=james)
    assert str(e.value) == "FloatTensor cannot be additively shared, Use fix_precision."
    assert len(bob._objects) == len(alice._objects) == 0


def test_tensors_shared_between_different_workers(bob, alice, charlie, james):
    x = torch.tensor([SECRET, 2]).share(bob, alice, crypto_provider=james)
    y = torch.tensor([SECRET, 2]).share(alice, charlie, crypto_provider=james)
    for op in (lambda: x + y, lambda: x - y, lambda: x * y, lambda: x > y, lambda: x == y,
               lambda: x.view(2, 1).mm(y.view(1, 2))):
        with pytest.raises(TensorsNotCollocatedException) as e:
            op()
        no_secret_in(e.value, bob, alice, charlie)
    fx = torch.tensor([1.5]).fix_precision().share(bob, alice, crypto_provider=james)
    fy = torch.tensor([1.5]).fix_precision().share(alice, charlie, crypto_provider=james)
    with pytest.raises(TensorsNotCollocatedException):
        fx * fy
    assert torch.equal(x.get(), torch.tensor([SECRET, 2]))


def test_operations_that_need_a_crypto_provider(bob, alice):
    x = torch.tensor([SECRET, -3]).share(bob, alice)
    for op in (lambda: x * x, lambda: x.view(2, 1).mm(x.view(1, 2))):
        with pytest.raises(AttributeError) as e:
            op()
        assert str(e.value) == "For multiplication a crypto_provider must be passed."
    for op in (lambda: x > x, lambda: x <= 0, lambda: x == x, lambda: x.relu(), lambda: x.max(),
               lambda: x.max(dim=0), lambda: x.argmax()):
        with pytest.raises(AttributeError, match="crypto provider") as e:
            op()
        no_secret_in(e.value, bob, alice)
    f = torch.tensor([1.5]).fix_precision().share(bob, alice)
    with pytest.raises(AttributeError, match="For multiplication a crypto_provider must be passed."):
        f * f
    with pytest.raises(AttributeError, match="crypto provider"):
        f > 0
    # what needs no provider still works
    assert torch.equal((x + x).get(), torch.tensor([2 * SECRET, -6]))
    assert torch.equal((x * 3).get(), torch.tensor([3 * SECRET, -9]))


def test_a_party_removed_between_two_operations(trio):
    bob, alice, james = trio
    x = share(torch.tensor([SECRET, 1]), trio)
    y = share(torch.tensor([5, 6]), trio)
    z = x + y
    remove_worker(alice)
    for op in (lambda: x + y, lambda: x + 1, lambda: x * y, lambda: x * 2, lambda: x > y,
               lambda: x.sum(), lambda: z.get()):
        with pytest.raises(WorkerNotFoundError, match="alice") as e:
            op()
        no_secret_in(e.value, bob)
    del e
    gc.collect()
    assert len(james._objects) == 0


def test_the_crypto_provider_removed_between_two_operations(trio):
    bob, alice, james = trio
    x = fp_share(torch.tensor([1.5, -2.0]), trio)
    remove_worker(james)
    for op in (lambda: x * x, lambda: x > 0, lambda: x.relu()):
        with pytest.raises(WorkerNotFoundError, match="james") as e:
            op()
        no_secret_in(e.value, bob, alice)
    del e  # its traceback holds the intermediate results
    assert torch.equal((x + x).get().float_precision(), torch.tensor([3.0, -4.0]))  # no provider needed
    gc.collect()
    assert len(bob._objects) == len(alice._objects) == 1  # x, and nothing a failed step left


def test_fix_precision_overflow_names_no_value():
    big = torch.tensor([1.0, float(SECRET) * 10 ** 7])
    with pytest.raises(OverflowError) as e:
        big.fix_precision()
    no_secret_in(e.value)
    assert f"{float(big[1]):g}" not in str(e.value), str(e.value)
    with pytest.raises(ValueError):
        torch.tensor([1.0, float("nan")]).fix_precision()


def test_fix_precision_overflow_on_a_worker_names_no_value(bob):
    ptr = torch.tensor([1.0, float(SECRET) * 10 ** 7]).send(bob)
    with pytest.raises(OverflowError) as e:
        ptr.fix_precision()
    assert f"{float(SECRET) * 10 ** 7:g}" not in str(e.value), str(e.value)
    assert len(bob._objects) == 1


def test_sharing_with_fewer_than_two_workers(bob, alice):
    for workers in ((bob,), (), (bob, bob)):
        with pytest.raises(ValueError, match="two workers|different workers"):
            torch.tensor([SECRET]).share(*workers)
        with pytest.raises(ValueError, match="two workers|different workers"):
            torch.tensor([1.5]).fix_precision().share(*workers)
    assert len(bob._objects) == 0


def test_sharing_a_module_before_fix_precision(trio):
    bob, alice, james = trio
    model = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="fix_precision"):
        model.share(bob, alice, crypto_provider=james)
    assert all(type(p) is nn.Parameter for p in model.parameters())
    assert len(bob._objects) == 0
    model.fix_precision().share(bob, alice, crypto_provider=james)
    with pytest.raises(TypeError):
        model.fix_precision()
    with pytest.raises(TypeError):
        torch.tensor([1.0]).fix_precision().share(bob, alice).share(bob, alice)


def test_unsupported_operations_are_named(trio):
    x = share(torch.tensor([SECRET, 3]), trio)
    for op in (lambda: x / 2, lambda: x.float(), lambda: x.exp()):
        with pytest.raises(NotImplementedError) as e:
            op()
        no_secret_in(e.value)
    f = fp_share(torch.tensor([1.5]), trio)
    with pytest.raises(NotImplementedError, match="exp"):
        f.exp()
    with pytest.raises(NotImplementedError):
        f / f


def test_fixed_precision_needs_two_share_holders_to_multiply(bob, alice, charlie, james):
    f = torch.tensor([1.5]).fix_precision().share(bob, alice, charlie, crypto_provider=james)
    with pytest.raises(NotImplementedError, match="2 share holders"):
        f * f
    assert torch.equal((f + f).get().float_precision(), torch.tensor([3.0]))
    assert torch.equal((f > 1).get().float_precision(), torch.tensor([1.0]))


def test_fixed_precision_tensors_of_different_precisions_never_mix_silently(trio):
    """1.5 with 3 digits is the integer 1500, with 4 digits 15000: adding the integers gives
    16.5. Either the result is right, or the operation is refused naming the precisions."""
    def check(a, b):
        for name, op, expected in (("+", torch.add, torch.tensor([3.0])), ("*", torch.mul, torch.tensor([2.25])),
                                   (">", torch.gt, torch.tensor([0.0])), ("==", torch.eq, torch.tensor([1.0]))):
            try:
                got = op(a, b)
            except (TypeError, ValueError, NotImplementedError) as e:
                assert "precision" in str(e), (name, str(e))
                continue
            got = got.get() if got.is_shared else got
            assert float((got.float_precision() - expected).abs().max()) <= 1e-3, (name, got.float_precision())

    three, four = torch.tensor([1.5]).fix_precision(), torch.tensor([1.5]).fix_precision(precision_fractional=4)
    check(three, four)
    check(three, torch.tensor([1.5]).fix_precision(base=2, precision_fractional=10))
    bob, alice, james = trio
    check(fp_share(torch.tensor([1.5]), trio),
          torch.tensor([1.5]).fix_precision(precision_fractional=4).share(bob, alice, crypto_provider=james))


def test_empty_shared_tensors_compute_like_torch(trio):
    empty = torch.zeros(0, dtype=torch.int64)
    x = share(empty, trio)
    assert torch.equal((x + 1).get(), empty)
    assert torch.equal((x * x).get(), empty)
    assert torch.equal((x > 0).get(), empty)
    assert torch.equal((x == x).get(), empty)
    assert torch.equal(x.relu().get(), empty)
    f = fp_share(torch.zeros(0, 3), trio)
    assert decoded(f.relu()).shape == (0, 3)
    assert decoded(f.mm(fp_share(torch.zeros(3, 2), trio))).shape == (0, 2)


def test_a_complex_tensor_cannot_be_shared(trio):
    bob, alice, james = trio
    with pytest.raises(TypeError):
        torch.tensor([1 + 2j]).share(bob, alice, crypto_provider=james)
    assert len(bob._objects) == len(alice._objects) == 0


def test_a_party_created_again_under_its_id_multiplies_again(hook, trio):
    """remove_worker(bob) then VirtualWorker(hook, id="bob"): a new worker, with no seed from
    james; james must deal to it again rather than take it for the bob it dealt to."""
    bob, alice, james = trio
    x = share(torch.tensor([3, -4]), trio)
    assert torch.equal((x * x).get(), torch.tensor([9, 16]))
    remove_worker(bob)
    again = sy.VirtualWorker(hook, id="bob")
    try:
        y = torch.tensor([3, -4]).share(again, alice, crypto_provider=james)
        assert torch.equal((y * y).get(), torch.tensor([9, 16]))
        assert torch.equal((y > 0).get(), torch.tensor([1, 0]))
    finally:
        remove_worker(again)


def test_a_crypto_provider_created_again_under_its_id_deals_again(hook, trio):
    """remove_worker(james) then VirtualWorker(hook, id="james"): the parties still hold the old
    james's seed; the new james's triples must work all the same."""
    bob, alice, james = trio
    x = share(torch.tensor([3, -4]), trio)
    assert torch.equal((x * x).get(), torch.tensor([9, 16]))
    remove_worker(james)
    again = sy.VirtualWorker(hook, id="james")
    try:
        y = torch.tensor([3, -4]).share(bob, alice, crypto_provider=again)
        assert torch.equal((y * y).get(), torch.tensor([9, 16]))
        assert torch.equal((y > 0).get(), torch.tensor([1, 0]))
    finally:
        remove_worker(again)


# --- results and copies are independent ------------------------------------------------------
def test_a_result_outlives_the_get_of_its_operand(trio):
    x = share(torch.tensor([1, 2, 3]), trio)
    y = x + 5
    z = x * x
    c = x.copy()
    v = x.view(3, 1)
    assert torch.equal(x.get(), torch.tensor([1, 2, 3]))
    assert torch.equal(y.get(), torch.tensor([6, 7, 8]))
    assert torch.equal(z.get(), torch.tensor([1, 4, 9]))
    assert torch.equal(c.get(), torch.tensor([1, 2, 3]))
    assert torch.equal(v.get(), torch.tensor([[1], [2], [3]]))
    with pytest.raises(SyftError, match="get"):
        x.get()
    with pytest.raises(SyftError, match="get"):
        x + 1


def test_one_shared_tensor_used_many_times(trio):
    bob, alice, james = trio
    x = share(torch.tensor([3, -4]), trio)
    before = {w.id: dict(w._objects) for w in (bob, alice)}
    for _ in range(3):
        assert torch.equal((x * x).get(), torch.tensor([9, 16]))
        assert torch.equal((x > x).get(), torch.tensor([0, 0]))
        assert torch.equal((x == x).get(), torch.tensor([1, 1]))
        assert torch.equal((x + x - x).get(), torch.tensor([3, -4]))
    gc.collect()
    for w in (bob, alice):  # the shares of x are untouched, and nothing else is left behind
        assert w._objects.keys() == before[w.id].keys()
        for k, v in before[w.id].items():
            assert torch.equal(w._objects[k], v)
    assert len(james._objects) == 0


def test_a_fixed_precision_copy_is_independent(trio):
    x = fp_share(torch.tensor([1.5, -2.0]), trio)
    c = x.copy()
    assert torch.equal(c.get().float_precision(), torch.tensor([1.5, -2.0]))
    assert torch.equal((x * 2).get().float_precision(), torch.tensor([3.0, -4.0]))


def test_a_detached_alias_brought_home_leaves_a_clear_error(trio):
    x = share(torch.tensor([1, 2]), trio)
    alias = x.detach()
    assert torch.equal(alias.get(), torch.tensor([1, 2]))
    with pytest.raises(SyftError, match="get"):
        x + 1


def test_no_object_is_left_behind(trio):
    """Triples, masks and intermediate results are used up: after a product, a comparison, a
    maximum and a training step, the workers hold what the user still names, and the provider
    nothing."""
    bob, alice, james = trio
    x = share(torch.tensor([[3, -4], [5, 1]]), trio)
    f = fp_share(torch.tensor([[0.5, -1.5]]), trio, requires_grad=True)
    baseline = len(bob._objects), len(alice._objects)
    for _ in range(2):
        (x * x).get()
        (x.mm(x)).get()
        (x > 0).get()
        (x == x).get()
        v, i = x.max(dim=0)
        v.get(), i.get()
        x.argmax(dim=1).get()
        x.relu().get()
        loss = (f.mm(f.t()) - 1).relu().sum()
        loss.backward()
        f.grad.get()
        f.grad = None
        del loss, v, i
    gc.collect()
    assert (len(bob._objects), len(alice._objects)) == baseline
    assert len(james._objects) == 0


# --- what PySyft showed ----------------------------------------------------------------------
def test_shares_look_like_pysyft_s(trio):
    bob, alice, james = trio
    x = share(torch.tensor([25]), trio)
    assert x.child.field == 2 ** 62 and x.field == 2 ** 62
    assert sorted(x.child) == ["alice", "bob"]
    values = list(bob._objects.values())
    assert len(values) == 1 and values[0].dtype == torch.int64 and 0 <= int(values[0]) < 2 ** 62
    assert x.crypto_provider is james and [p.id for p in x.locations] == ["bob", "alice"]


def test_every_repr_is_printable(trio):
    bob, alice, james = trio
    shared = share(torch.tensor([SECRET, 2]), trio)
    fp = fp_share(torch.tensor([1.5, 2.0]), trio)
    grad = fp_share(torch.tensor([1.5, 2.0]), trio, requires_grad=True)
    model = nn.Linear(2, 1)
    model.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    (model(torch.tensor([[1.0, 2.0]]).fix_precision().share(bob, alice, crypto_provider=james)).sum()).backward()
    fetched = share(torch.tensor([1, 2]), trio)
    fetched.get()
    things = [
        shared, shared.child, shared * shared, shared > 0, shared.max(dim=0), shared[0], share(torch.tensor(7), trio),
        fp, fp > 0, fp.max(dim=0), fp.get(), torch.tensor([1.5]).fix_precision(),
        torch.tensor([1.5]).send(bob).fix_precision(), torch.tensor([1, 2]).send(bob).share(bob, alice),
        grad, grad * grad, (grad * grad).sum(), model, model.weight, model.weight.grad, model.bias,
        optim.SGD(model.parameters(), lr=0.1).fix_precision(), fetched,
    ]
    for thing in things:
        for text in (repr(thing), str(thing), f"{thing}"):
            assert isinstance(text, str) and text
            assert str(SECRET) not in text
    assert "*crypto provider: james*" in repr(shared)
    assert repr(grad).startswith("(Wrapper)>AutogradTensor>FixedPrecisionTensor>[AdditiveSharingTensor]")
    assert repr(model.bias).startswith("Parameter containing:\n")
    assert "FixedPrecisionTensor>[AdditiveSharingTensor]" in repr(model.bias)
    remove_worker(alice)
    assert "alice" in repr(shared)  # still printable once a party is gone


def test_relu_s_gradient_reuses_the_forward_comparison(bob, alice, james):
    """relu keeps its 0/1 mask for the backward pass: one comparison per relu, not two, and the
    gradients equal plain autograd's."""
    from jupyter_syft.crypto import registry

    x = torch.tensor([[1.0, -2.0], [3.0, -4.0]])
    w = torch.tensor([[0.5, -1.0], [-2.0, 0.25]])
    xs = x.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    ws = w.fix_precision().share(bob, alice, crypto_provider=james, requires_grad=True)
    before = registry.activity.providers.get("james", {}).get("comparisons", 0)
    torch.relu(xs.mm(ws)).sum().backward()
    assert registry.activity.providers["james"]["comparisons"] - before == 1
    xp, wp = x.clone().requires_grad_(), w.clone().requires_grad_()
    torch.relu(xp.mm(wp)).sum().backward()
    torch.testing.assert_close(xs.grad.get().float_precision(), xp.grad, atol=2e-3, rtol=0)
    torch.testing.assert_close(ws.grad.get().float_precision(), wp.grad, atol=2e-3, rtol=0)
