"""The findings of /work/shared/security-review.md (2026-11), each with its reproducer: through the
public pointer API and as raw bytes to a worker's recv_msg. Each must give a clear error, crash
nothing, and leave the worker serving with its objects intact.

The reproducers that corrupted memory (findings 1 to 3) are run for real only in a subprocess
(test_memory_corrupting_reproducers_in_a_subprocess): if the allow-list ever let them through
again, that process would die, not this one.
"""
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import jupyter_syft as sy
from jupyter_syft import codec, commands, ids
from jupyter_syft.codec import ExtDecoder, Ref
from jupyter_syft.exceptions import OperationNotAllowedError, ResourceLimitError
from jupyter_syft.workers.base import BaseWorker, error_text

PLAIN = ExtDecoder()
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def held(bob):
    """bob holds two tensors; each test ends by checking them and that bob still computes."""
    x = torch.tensor([1.0, 2.0, 3.0]).send(bob)
    y = torch.tensor([4.0, 5.0, 6.0]).send(bob)
    snapshot = {k: v.clone() for k, v in bob._objects.items()}
    yield bob, x, y
    assert bob._objects.keys() == snapshot.keys()
    for k, v in snapshot.items():
        assert torch.equal(bob._objects[k], v)
    assert torch.equal((x + y).get(), torch.tensor([5.0, 7.0, 9.0]))


def S(t, worker):
    return t.send(worker)


def raw(bob, kind, *fields, deletes=()):
    """A request as bytes, as anyone who reaches the worker could send it; (ok, value)."""
    return codec.decode_reply(bob.recv_msg(codec.encode([kind, list(deletes), *fields])), PLAIN)


def refused(bob, name, args=(), kwargs=None, error="OperationNotAllowedError", fragment="allow-list"):
    ok, value = raw(bob, "cmd", name, list(args), kwargs or {})
    assert not ok, value
    assert value[0] == error and fragment in value[1], value
    assert len(value[1]) <= BaseWorker.MAX_ERROR_CHARS
    return value[1]


def ref(ptr):
    return Ref(ptr.id_at_location)


# --- findings 1 to 4: raw internal entry points --------------------------------------------------
def test_memory_corrupting_reproducers_in_a_subprocess():
    """Findings 1 to 4 exactly as the review ran them (they crashed the process with SIGSEGV, or
    returned uninitialised memory, before the allow-list); now each is refused."""
    script = textwrap.dedent("""
        import torch, jupyter_syft as sy
        bob = sy.VirtualWorker(sy.TorchHook(torch), id="bob"); S = lambda t: t.send(bob)
        from jupyter_syft.exceptions import OperationNotAllowedError
        calls = [
            lambda: torch.fbgemm_pack_gemm_matrix_fp16(S(torch.randn(16, 16))),
            lambda: torch.batch_norm_update_stats(S(torch.randn(2, 4096)), S(torch.zeros(1)), S(torch.ones(1)), 0.1),
            lambda: torch.ctc_loss(S(torch.full((5, 1, 4), -1.386)), S(torch.tensor([[1, 10**8]])), [5], [2]),
            lambda: torch.grid_sampler_2d(S(torch.randn(1, 1, 64, 64)), S(torch.zeros(1, 64, 64, 2)), 99, 0, False).get(),
        ]
        for call in calls:
            try:
                call()
            except OperationNotAllowedError:
                continue
            raise SystemExit("not refused")
        print("refused", len(bob._objects))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split()[-2:] == ["refused", "0"]


@pytest.mark.parametrize("name", [
    "torch.fbgemm_pack_gemm_matrix_fp16", "torch.fbgemm_linear_fp16_weight",  # 1: C++ pointer as a tensor
    "torch.batch_norm_update_stats", "torch.fused_moving_avg_obs_fake_quant", "torch.native_batch_norm",  # 2
    "torch.ctc_loss", "torch.nn.functional.ctc_loss",  # 3: out-of-bounds reads
    "torch.grid_sampler_2d", "torch.grid_sampler", "torch.grid_sampler_3d",  # 4: uninitialised memory
])
def test_raw_internal_entry_points_are_refused_as_bytes(held, name):
    bob, x, y = held
    text = refused(bob, name, [ref(x), ref(y)])
    assert name in text


def test_raw_internal_entry_points_are_refused_by_the_pointer_api(held):
    bob, x, y = held
    for call in (lambda: torch.fbgemm_pack_gemm_matrix_fp16(x),
                 lambda: torch.batch_norm_update_stats(x, y, y, 0.1),
                 lambda: torch.native_batch_norm(x, None, None, y, y, True, 0.1, 1e-5),
                 lambda: torch.ctc_loss(x, y, [1], [1]),
                 lambda: F.ctc_loss(x, y, [1], [1]),
                 lambda: torch.grid_sampler_2d(x, y, 99, 0, False)):
        with pytest.raises(OperationNotAllowedError, match="allow-list"):
            call()


def test_the_public_layers_check_what_the_raw_ones_trusted(held):
    """F.batch_norm reaches the same kernel as finding 2, after torch checks the running
    statistics against the input's channels."""
    bob, x, y = held
    with pytest.raises(RuntimeError, match="running_mean should contain 4096 elements not 1"):
        F.batch_norm(S(torch.randn(2, 4096), bob), S(torch.zeros(1), bob), S(torch.ones(1), bob), training=True)
    out = F.batch_norm(S(torch.randn(2, 4), bob), S(torch.zeros(4), bob), S(torch.ones(4), bob), training=True)
    assert out.shape == (2, 4)
    del out


# --- finding 5: ids, and the delete list ----------------------------------------------------------
def test_ids_come_from_secrets_not_a_seedable_generator(monkeypatch):
    import random

    random.seed(0)
    first = [ids.new_id() for _ in range(5)]
    random.seed(0)
    assert [ids.new_id() for _ in range(5)] != first  # Python's random does not produce them
    assert all(10 ** 10 <= i < 10 ** 11 for i in first)  # PySyft's 11 digits

    drawn = []
    real = ids.secrets.token_bytes

    def spy(n):
        drawn.append(n)
        return real(n)

    monkeypatch.setattr(ids.secrets, "token_bytes", spy)
    monkeypatch.setattr(ids, "_words", iter(()))  # used up: the next id reads fresh bytes
    ids.new_id()
    assert drawn == [8 * ids._BATCH]


def test_ids_are_uniform_over_the_range():
    values = [ids.new_id() for _ in range(20_000)]
    assert len(set(values)) == len(values)
    tenths = [0] * 9
    for v in values:
        tenths[(v - 10 ** 10) * 9 // (9 * 10 ** 10)] += 1
    assert min(tenths) > 1800 and max(tenths) < 2650  # about 2,222 each


def test_a_delete_list_longer_than_the_limit_is_refused_before_any_delete(held):
    bob, x, y = held
    k = x.id_at_location
    start = time.perf_counter()
    ok, value = raw(bob, "del", deletes=list(range(k, k + 10 ** 6)))  # the review's frame
    assert time.perf_counter() - start < 5
    assert not ok and value[0] == "MalformedMessageError" and "at most 10,000" in value[1], value
    ok, value = raw(bob, "del", deletes=[424242] * BaseWorker.MAX_DELETES)  # at the limit: served
    assert ok


def test_the_caller_sends_deletes_in_batches_below_the_limit(bob, monkeypatch):
    me = sy.local_worker
    assert me._DELETES_PER_REQUEST < BaseWorker.MAX_DELETES
    ptrs = [torch.tensor([float(i)]).send(bob) for i in range(30)]
    ids_there = [p.id_at_location for p in ptrs]
    for p in ptrs:
        p.garbage_collect_data = False  # deletes queued by hand below instead
    del ptrs
    monkeypatch.setattr(type(me), "_DELETES_PER_REQUEST", 7)
    sizes = []
    real = bob.recv_msg

    def watch(data):
        sizes.append(len(codec.decode(data)[1]))
        return real(data)

    monkeypatch.setattr(bob, "recv_msg", watch)
    me._pending_deletes[bob] = list(ids_there) + [10 ** 10 + i for i in range(20)]  # gone ones too
    me.flush_deletes(bob)
    assert sizes == [7] * 7 + [1] and not me._pending_deletes.get(bob)
    assert not set(ids_there) & set(bob._store.objects)


# --- finding 6: CPU denial of service ---------------------------------------------------------------
def test_a_polynomial_with_a_loop_count_is_refused(held):
    bob, x, y = held
    refused(bob, "torch.special.special_legendre_polynomial_p", [ref(x), 2 ** 40])
    with pytest.raises(OperationNotAllowedError):
        torch.special.legendre_polynomial_p(S(torch.tensor([0.5]), bob), 2 ** 40)


def test_a_huge_view_is_refused_before_anything_reads_it(held):
    bob, x, y = held
    start = time.perf_counter()
    one = S(torch.tensor([1.0]), bob)
    with pytest.raises(ResourceLimitError, match="MAX_TENSOR_NUMEL"):
        one.expand(2 ** 62).sum()
    ok, value = raw(bob, "cmd", "Tensor.expand", [ref(one), 2 ** 62], {})
    assert not ok and value[0] == "ResourceLimitError"
    assert time.perf_counter() - start < 5
    del one


def test_an_oversized_argument_already_held_is_refused(held):
    """A tensor stored before the limit was lowered (or owner data) is checked as an input."""
    bob, x, y = held
    big = S(torch.zeros(1000), bob)
    bob.MAX_TENSOR_NUMEL = 100
    try:
        with pytest.raises(ResourceLimitError, match="an argument holds 1,000 elements; this worker allows at most 100"):
            big.sum()
        assert torch.equal((x + y).get(), torch.tensor([5.0, 7.0, 9.0]))  # small ones still run
    finally:
        del bob.MAX_TENSOR_NUMEL
    del big


# --- finding 7: memory denial of service ---------------------------------------------------------
def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("call", [
    pytest.param(lambda b: b.remote.torch.ones(2 ** 40), id="ones(2**40)"),
    pytest.param(lambda b: b.remote.torch.zeros(2 ** 28), id="zeros(2**28), 1 GiB"),
    pytest.param(lambda b: b.remote.torch.full((2 ** 15, 2 ** 15), 1.0), id="full"),
    pytest.param(lambda b: b.remote.torch.randn(2 ** 14, 2 ** 14), id="randn"),
    pytest.param(lambda b: b.remote.torch.arange(0, 2 ** 40), id="arange"),
    pytest.param(lambda b: b.remote.torch.eye(2 ** 20), id="eye"),
    pytest.param(lambda b: S(torch.tensor([1.0]), b).expand(2 ** 33).contiguous(), id="expand.contiguous"),
    pytest.param(lambda b: S(torch.tensor([2 ** 40]), b).bincount(), id="bincount(value)"),
    pytest.param(lambda b: S(torch.tensor([1]), b).bincount(minlength=2 ** 40), id="bincount(minlength)"),
    pytest.param(lambda b: S(torch.tensor([1.0]), b).repeat(2 ** 30), id="repeat"),
    pytest.param(lambda b: S(torch.tensor([1.0]), b).tile((2 ** 20, 2 ** 20)), id="tile"),
    pytest.param(lambda b: S(torch.tensor([1.0]), b).repeat_interleave(2 ** 40), id="repeat_interleave"),
    pytest.param(lambda b: S(torch.tensor([1.0, 2.0]), b).repeat_interleave(S(torch.tensor([2 ** 40, 1]), b)),
                 id="repeat_interleave(tensor)"),
    pytest.param(lambda b: F.pad(S(torch.tensor([1.0]), b), (2 ** 40, 0)), id="F.pad"),
    pytest.param(lambda b: F.interpolate(S(torch.randn(1, 1, 4, 4), b), size=(2 ** 20, 2 ** 20)), id="interpolate(size)"),
    pytest.param(lambda b: F.interpolate(S(torch.randn(1, 1, 4, 4), b), scale_factor=2 ** 18), id="interpolate(scale)"),
    pytest.param(lambda b: F.one_hot(S(torch.tensor([2 ** 40]), b)), id="one_hot"),
    pytest.param(lambda b: S(torch.zeros(2 ** 16, 1), b) + S(torch.zeros(1, 2 ** 16), b), id="broadcasting add"),
    pytest.param(lambda b: S(torch.zeros(2 ** 16, 1), b) @ S(torch.zeros(1, 2 ** 16), b), id="outer matmul"),
    pytest.param(lambda b: torch.outer(S(torch.zeros(2 ** 16), b), S(torch.zeros(2 ** 16), b)), id="outer"),
    pytest.param(lambda b: torch.kron(S(torch.zeros(2 ** 14), b), S(torch.zeros(2 ** 14), b)), id="kron"),
    pytest.param(lambda b: F.linear(S(torch.zeros(2 ** 16, 1), b), S(torch.zeros(2 ** 16, 1), b)), id="linear"),
    pytest.param(lambda b: S(torch.zeros(1, 2 ** 16), b)[[0] * 2 ** 12], id="x[list]"),
    pytest.param(lambda b: S(torch.zeros(1, 2 ** 16), b)[S(torch.zeros(2 ** 12, dtype=torch.long), b)], id="x[index]"),
    pytest.param(lambda b: S(torch.zeros(1, 2 ** 16), b).index_select(0, S(torch.zeros(2 ** 12, dtype=torch.long), b)),
                 id="index_select"),
    pytest.param(lambda b: F.embedding(S(torch.zeros(2 ** 12, dtype=torch.long), b), S(torch.zeros(1, 2 ** 16), b)),
                 id="embedding"),
    pytest.param(lambda b: torch.cat([S(torch.zeros(2 ** 15), b)] * 5000), id="cat"),
    pytest.param(lambda b: F.conv2d(S(torch.zeros(1, 1, 8, 8), b), S(torch.zeros(1, 1, 1, 1), b), padding=2 ** 14),
                 id="conv2d(padding)"),
    pytest.param(lambda b: F.conv_transpose1d(S(torch.zeros(1, 1, 8), b), S(torch.zeros(1, 1, 3), b), stride=2 ** 30),
                 id="conv_transpose(stride)"),
    pytest.param(lambda b: torch.histc(S(torch.zeros(3), b), bins=2 ** 40), id="histc"),
    pytest.param(lambda b: torch.multinomial(S(torch.ones(3), b), 2 ** 40, replacement=True), id="multinomial"),
    pytest.param(lambda b: torch.linalg.svd(S(torch.zeros(1, 2 ** 16), b)), id="full svd"),
    pytest.param(lambda b: torch.cdist(S(torch.zeros(2 ** 16, 1), b), S(torch.zeros(2 ** 16, 1), b)), id="cdist"),
    pytest.param(lambda b: S(torch.zeros(1), b).new_zeros(2 ** 40), id="new_zeros"),
    pytest.param(lambda b: S(torch.zeros(1), b).new_full((2 ** 40,), 1.0, device="cpu"), id="new_full(device=cpu)"),
])
def test_results_over_the_limit_are_refused_before_allocating(held, call):
    bob, x, y = held
    before = _peak_mib()
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError, match=r"MAX_TENSOR_NUMEL"):
        call(bob)
    assert time.perf_counter() - start < 5
    assert _peak_mib() - before < 256  # nothing near the refused size was allocated


def test_the_limit_is_named_and_can_be_tuned_per_worker(held):
    bob, x, y = held
    with pytest.raises(ResourceLimitError) as caught:
        bob.remote.torch.ones(2 ** 40)
    assert str(caught.value) == ("torch.ones: the result would hold 1,099,511,627,776 elements; this worker "
                                 "allows at most 134,217,728 in a tensor (MAX_TENSOR_NUMEL)")
    refused(bob, "torch.ones", [2 ** 40], error="ResourceLimitError", fragment="at most 134,217,728")
    refused(bob, "Tensor.repeat", [ref(x), 2 ** 40], error="ResourceLimitError", fragment="MAX_TENSOR_NUMEL")
    refused(bob, "Tensor.bincount", [ref(x)], {"minlength": 2 ** 40}, error="ResourceLimitError",
            fragment="MAX_TENSOR_NUMEL")
    bob.MAX_TENSOR_NUMEL = 10
    try:
        with pytest.raises(ResourceLimitError, match="at most 10 in a tensor"):
            bob.remote.torch.ones(11)
        assert bob.remote.torch.ones(10).get().sum() == 10
    finally:
        del bob.MAX_TENSOR_NUMEL


def test_a_stored_tensor_over_the_limit_is_refused(held):
    bob, x, y = held
    bob.MAX_TENSOR_NUMEL = 10
    try:
        with pytest.raises(ResourceLimitError, match="at most 10"):
            torch.zeros(11).send(bob)
        ok, value = raw(bob, "store_all", [torch.zeros(3), torch.zeros(11)], [0, 0])
        assert not ok and value[0] == "ResourceLimitError"
    finally:
        del bob.MAX_TENSOR_NUMEL


@pytest.mark.parametrize("call", [
    pytest.param(lambda p: p.split(1), id="split(1)"),
    pytest.param(lambda p: p.unbind(), id="unbind"),
    pytest.param(lambda p: p.tensor_split(2 ** 40), id="tensor_split(2**40)"),
    pytest.param(lambda p: p.chunk(2 ** 40), id="chunk"),
    pytest.param(lambda p: torch.split(p, [1] * 70_000), id="split(sizes)"),
])
def test_results_of_too_many_tensors_are_refused_before_running(held, call):
    bob, x, y = held
    p = S(torch.zeros(100_000), bob)
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError, match="MAX_RESULT_TENSORS"):
        call(p)
    assert time.perf_counter() - start < 10
    assert len(S(torch.zeros(10), bob).chunk(2 ** 40)) == 10  # at most one chunk per row
    del p


def test_the_same_limits_hold_inside_a_plan(held):
    """A plan's steps run through the same checked callables (a plan is sent as bytes: tracing
    would run the expand in the notebook)."""
    from jupyter_syft.codec import Var
    from jupyter_syft.plans.record import FORMAT_VERSION

    bob, x, y = held
    steps = [["Tensor.expand", [Var(0), 2 ** 62], {}, 1, True], ["Tensor.sum", [Var(1)], {}, 2, True]]
    plan = codec.encode([FORMAT_VERSION, "blow_up", [[[1], torch.float32]], [], [], steps, Var(2)])
    ok, plan_id = raw(bob, "store_plan", plan, 0, [], None)
    assert ok
    one = S(torch.tensor([1.0]), bob)
    start = time.perf_counter()
    ok, value = raw(bob, "run_plan", plan_id, [ref(one)])
    assert time.perf_counter() - start < 5
    assert not ok and "step 1 (Tensor.expand)" in value[1] and "MAX_TENSOR_NUMEL" in value[1], value
    bob._store.discard([plan_id])
    del one


# --- finding 8: error-reply amplification -----------------------------------------------------------
def test_an_error_reply_never_echoes_argument_reprs(held):
    bob, x, y = held
    big = S(torch.arange(1000.0), bob)
    frame = codec.encode(["cmd", [], [Ref(big.id_at_location)] * 20000, [], {}])  # the review's frame
    assert len(frame) > 190_000
    start = time.perf_counter()
    reply = bob.recv_msg(frame)
    assert time.perf_counter() - start < 2  # was 16 s
    assert len(reply) < 300  # was 8.7 MB
    ok, (kind, text) = codec.decode_reply(reply, PLAIN)
    assert not ok and kind == "OperationNotAllowedError" and "a list of 20000 items" in text
    for message in (["cmd", [], "x" * 200_000, [], {}], [[Ref(big.id_at_location)] * 20000, []],
                    ["cmd", [], "Tensor.add", [Ref(big.id_at_location), "y" * 200_000], {}]):
        reply = bob.recv_msg(codec.encode(message))
        assert len(reply) <= BaseWorker.MAX_ERROR_CHARS + 100
        assert "999." not in reply.decode("utf-8", "replace")  # no tensor values in it
    del big


def test_error_texts_are_bounded_and_keep_torchs_message(held):
    bob, x, y = held
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        S(torch.zeros(2, 3), bob) @ S(torch.zeros(4, 5), bob)
    long = RuntimeError("bad input " + "tensor([[1.5, 2.5], [3.5, 4.5]]) " * 5000)
    text = error_text(long, 1000)
    assert len(text) <= 1000 and text.startswith("bad input tensor(...)") and "1.5" not in text
    assert text.endswith("[cut at 1,000 characters]")

    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no")

    assert error_text(Unprintable(), 1000) == "(Unprintable without a readable message)"


def test_an_unknown_message_kind_is_not_echoed(held):
    bob, x, y = held
    ok, value = raw(bob, [Ref(x.id_at_location)] * 1000)
    assert not ok and value == ("MalformedMessageError", "unknown message kind a list of 1000 items")


# --- finding 9: one random generator for every client ------------------------------------------------
@pytest.fixture
def carol_own(hook):
    worker = sy.VirtualWorker(hook, id="carol_own")
    worker.own_rng = True
    yield worker
    sy.workers.remove_worker(worker)


def test_a_worker_with_its_own_generator_leaves_the_global_one_alone(carol_own):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    p = S(torch.zeros(4, dtype=torch.long), carol_own).random_()  # the review's reproducer
    drawn = p.get()
    assert torch.equal(torch.rand(3), expected)  # the process's stream did not move
    torch.manual_seed(0)
    assert not torch.equal(drawn, torch.zeros(4, dtype=torch.long).random_())  # nor was it read


def test_each_worker_draws_from_its_own_stream(hook):
    a = sy.VirtualWorker(hook, id="rng_a")
    b = sy.VirtualWorker(hook, id="rng_b")
    try:
        for w in (a, b):
            w.own_rng = True
            w.manual_seed(7)
        xa, xb = S(torch.ones(1000), a), S(torch.ones(1000), b)
        first_a = F.dropout(xa, 0.5, training=True).get()
        for _ in range(3):  # b draws in between: a's next draw must not change
            F.dropout(xb, 0.5, training=True)
        b.manual_seed(7)
        assert torch.equal(F.dropout(xb, 0.5, training=True).get(), first_a)  # same seed, same mask
        a.manual_seed(7)
        again = F.dropout(xa, 0.5, training=True).get()
        assert torch.equal(again, first_a)
        assert b.remote.torch.randn(3).shape == (3,)
        del xa, xb
    finally:
        sy.workers.remove_worker(a)
        sy.workers.remove_worker(b)


def test_a_plan_runs_its_random_steps_on_the_workers_generator(carol_own):
    @sy.func2plan(args_shape=[(100,)])
    def noisy(v):
        return F.dropout(v, 0.5, training=True) + torch.randn(100)

    remote = noisy.send(carol_own)
    torch.manual_seed(1)
    expected = torch.rand(2)
    torch.manual_seed(1)
    out = remote(S(torch.ones(100), carol_own))
    assert out.shape == (100,)
    assert torch.equal(torch.rand(2), expected)
    del out


def test_a_virtual_worker_keeps_the_global_generator_by_default(bob):
    assert not bob.own_rng
    torch.manual_seed(3)
    remote = S(torch.zeros(5), bob).uniform_().get()
    torch.manual_seed(3)
    assert torch.equal(remote, torch.zeros(5).uniform_())  # notebooks' stored outputs rely on it
    with pytest.raises(ValueError, match="own_rng is off"):
        bob.manual_seed(1)


# --- finding 10: as_strided against the view ---------------------------------------------------------
def test_as_strided_cannot_reach_past_the_view(held):
    bob, x, y = held
    base = S(torch.arange(6.0), bob)
    part = base[2:3]
    with pytest.raises(IndexError, match="outside the tensor's own 1 elements"):
        part.as_strided((6,), (1,), 0).get()  # the review's reproducer: read all of the base
    with pytest.raises(IndexError, match="outside"):
        part.as_strided((2,), (1,), 2)
    ok, value = raw(bob, "cmd", "Tensor.as_strided", [ref(part), [6], [1], 0], {})
    assert not ok and value[0] == "IndexError"
    assert torch.equal(part.as_strided((1,), (1,), 2).get(), torch.tensor([2.0]))  # its own element
    assert torch.equal(base.as_strided((2, 2), (1, 2), 1).get(), torch.tensor([[1.0, 3.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match="contiguous"):
        base[::2].as_strided((2,), (2,))  # a strided view does not own the elements in between
    del base, part


# --- finding 11 (fixed before): lazy conj / neg views -------------------------------------------------
def test_lazy_conjugates_arrive_as_their_values(bob):
    assert torch.equal(S(torch.tensor([1 + 2j]), bob).conj().get(), torch.tensor([1 - 2j]))


# --- allow-list checks happen in the worker, not only in the caller ---------------------------------
def test_a_checked_callable_is_what_the_worker_and_plans_run():
    add = commands.resolve("Tensor.add")
    assert add is not torch.Tensor.add and add.__wrapped__ is torch.Tensor.add
    assert torch.equal(add(torch.ones(2), torch.ones(2)), torch.full((2,), 2.0))
    with pytest.raises(OperationNotAllowedError, match="'torch.ctc_loss' is not on"):
        commands.resolve("torch.ctc_loss")


def test_any_error_reply_is_bounded_by_the_codec():
    reply = codec.encode_error_reply("E" * 1000, "m" * 10 ** 6)
    ok, (kind, text) = codec.decode_reply(reply, PLAIN)
    assert not ok and len(kind) == 100 and len(text) == codec.MAX_ERROR_REPLY_CHARS


@pytest.mark.parametrize("call", [
    pytest.param(lambda b: F.max_pool1d(S(torch.zeros(1, 1, 2 ** 20), b), 2 ** 19, stride=1), id="max_pool1d"),
    pytest.param(lambda b: F.avg_pool2d(S(torch.zeros(1, 1, 2 ** 10, 2 ** 10), b), 2 ** 9, stride=1), id="avg_pool2d"),
    pytest.param(lambda b: F.lp_pool1d(S(torch.zeros(1, 1, 2 ** 20), b), 2, 2 ** 19, stride=1), id="lp_pool1d"),
    pytest.param(lambda b: F.conv2d(S(torch.zeros(64, 8, 47, 47), b), S(torch.zeros(1024, 8, 16, 16), b)), id="conv2d"),
    pytest.param(lambda b: F.conv_transpose1d(S(torch.zeros(1024, 64, 64), b), S(torch.zeros(64, 512, 64), b)),
                 id="conv_transpose1d"),
])
def test_a_kernel_size_is_a_loop_count_and_is_capped(held, call):
    """Results and buffers within the element limit, but each output element reads a kernel as
    long as the input (or a convolution's channels x kernel): hours of work."""
    bob, x, y = held
    start = time.perf_counter()
    with pytest.raises(ResourceLimitError, match="MAX_OP_WORK"):
        call(bob)
    assert time.perf_counter() - start < 5
    assert F.max_pool1d(S(torch.arange(8.0).view(1, 1, 8), bob), 2).get().tolist() == [[[1.0, 3.0, 5.0, 7.0]]]
