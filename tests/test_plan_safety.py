"""Hostile plans and protocols at a worker's receive path: each refused before anything runs,
with an error naming what is wrong, and the worker keeps serving with its objects intact."""
import struct

import msgpack
import pytest
import torch

import jupyter_syft as sy
from jupyter_syft import codec
from jupyter_syft.codec import Var
from jupyter_syft.plans import validate
from jupyter_syft.plans.record import FORMAT_VERSION


def _plan_bytes(steps, arg_specs=([[2], torch.float32],), state=(), state_specs=None,
                outputs=None, name="hostile", version=FORMAT_VERSION) -> bytes:
    state = list(state)
    if state_specs is None:
        state_specs = [[list(t.shape), t.dtype] for t in state]
    n_values = len(state) + len(arg_specs) + len(steps)
    if outputs is None:
        outputs = Var(n_values - 1)
    return codec.encode([version, name, [list(s) for s in arg_specs], state_specs, state, steps, outputs])


def _serve(worker, kind, *fields):
    """Send raw request bytes, as anyone who can reach the worker could; (ok, value)."""
    reply = worker.recv_msg(codec.encode([kind, [], *fields]))
    return codec.decode_reply(reply, codec.ExtDecoder())


def _refused(worker, data: bytes, expected: str) -> None:
    ok, value = _serve(worker, "store_plan", data, 12345, [], None)
    assert not ok, "the plan was accepted"
    assert value[0] == "InvalidPlanError", value
    assert expected in value[1], value[1]
    assert len(value[1]) < 400  # bounded: no echo of what was sent


@pytest.fixture
def held(bob):
    """bob holds a tensor; every test checks it is still there, unchanged, and bob still serves."""
    x_ptr = torch.tensor([1.0, 2.0]).send(bob)
    yield x_ptr
    assert set(bob._objects) == {x_ptr.id_at_location}
    assert torch.equal((x_ptr * 2).get(), torch.tensor([2.0, 4.0]))


def test_an_unknown_operation_is_refused(bob, held):
    _refused(bob, _plan_bytes([["torch.no_such_op", [Var(0)], {}, 1, True]]),
             "plan hostile, step 1 (torch.no_such_op): the operation is not on this worker's allow-list")


@pytest.mark.parametrize("name", ["Tensor._foo", "Tensor.__class__", "Tensor.__reduce_ex__",
                                  "Tensor.__init_subclass__", "torch._C._nn.linear",
                                  "Tensor.storage", "Tensor.set_", "Tensor.apply_", "builtins.eval",
                                  "os.system"])
def test_private_and_denied_names_are_refused(bob, held, name):
    _refused(bob, _plan_bytes([[name, [Var(0)], {}, 1, True]]), "is not on this worker's allow-list")


def test_a_forward_reference_is_refused(bob, held):
    steps = [["torch.abs", [Var(2)], {}, 1, True], ["torch.neg", [Var(0)], {}, 2, True]]
    _refused(bob, _plan_bytes(steps), "plan hostile, step 1 (torch.abs) uses _3 before it is defined")


def test_a_cycle_is_refused(bob, held):
    # step 1 reads its own result: _2 = abs(_2)
    _refused(bob, _plan_bytes([["torch.abs", [Var(1)], {}, 1, True]]),
             "step 1 (torch.abs) uses _2 before it is defined")


def test_results_numbered_out_of_order_are_refused(bob, held):
    # redefining the argument _1 would let a later step see a value the checks did not follow
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 0, True]], outputs=Var(0)),
             "step 1 (torch.abs) defines _1 where _2 comes next")


def test_a_reference_hidden_in_kwargs_or_nested_lists_is_checked(bob, held):
    steps = [["torch.cat", [[Var(0), [Var(7)]]], {"dim": 0}, 1, True]]
    _refused(bob, _plan_bytes(steps), "uses _8 before it is defined")
    steps = [["torch.add", [Var(0)], {"other": Var(9)}, 1, True]]
    _refused(bob, _plan_bytes(steps), "uses _10 before it is defined")


def test_a_plan_cannot_name_stored_objects_or_carry_pointers(bob, held):
    ref = codec.Ref(held.id_at_location)
    _refused(bob, _plan_bytes([["torch.add", [Var(0), ref], {}, 1, True]]),
             "a plan cannot name a worker's stored objects")
    desc = codec.PointerDesc("alice", 1, 2, (2,), torch.float32, False)
    _refused(bob, _plan_bytes([["torch.add", [Var(0), desc], {}, 1, True]]),
             "a plan cannot carry pointers")


def test_a_million_steps_are_refused_before_one_is_read(bob, held):
    one_step = msgpack.packb(["torch.abs", [msgpack.ExtType(codec.VAR, struct.pack("<I", 0))], {}, 1, True])
    head = codec.encode([FORMAT_VERSION, "hostile", [[[2], torch.float32]], [], []])
    # a 7-field plan: those five fields, an array of 10**6 steps, then the output
    data = (bytes([0x97]) + head[1:] + b"\xdd" + struct.pack(">I", 10 ** 6) + one_step * 10 ** 6
            + codec.encode(Var(1)))
    assert len(data) > 10 ** 7
    _refused(bob, data, f"plan hostile has 1000000 steps; this worker runs at most {validate.MAX_PLAN_STEPS}")


def test_a_state_tensor_that_disagrees_with_its_declaration_is_refused(bob, held):
    state = [torch.ones(4)]
    _refused(bob, _plan_bytes([["torch.add", [Var(1), Var(0)], {}, 2, True]], state=state,
                              state_specs=[[[3, 2], torch.float32]]),
             "plan hostile: state tensor 1 is declared as [3, 2] torch.float32 but holds [4] torch.float32")


def test_a_state_tensor_whose_bytes_are_short_of_its_shape_is_refused(bob, held):
    record = codec.tensor_to_bytes(torch.ones(4))
    short = record[:-4]  # a shape of [4] over the bytes of 3 floats
    data = _plan_bytes([["torch.add", [Var(1), Var(0)], {}, 2, True]], state=[torch.ones(4)])
    whole = msgpack.packb(msgpack.ExtType(codec.TENSOR, record))
    assert whole in data
    data = data.replace(whole, msgpack.packb(msgpack.ExtType(codec.TENSOR, short)))
    _refused(bob, data, "the plan is malformed: tensor data is shorter than its shape says")


def test_wrong_layouts_are_refused(bob, held):
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]], version=99), "plan format 99 is not 1")
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]], name="import os"),
             "a plan's name must be a Python identifier")
    _refused(bob, _plan_bytes([["torch.abs", Var(0), {}, 1, True]]), "args must be a list")
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 1]]), "a step is [operation, args, kwargs")
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]], outputs=[Var(1), 3]),
             "its result must be values the plan computed")
    _refused(bob, b"\x93\x01\x02", "a plan has 7 fields")
    _refused(bob, b"\xc1garbage", "the plan is malformed")
    _refused(bob, _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]]) + b"\x00", "trailing bytes")
    ok, value = _serve(bob, "store_plan", "not bytes", 1, [], None)
    assert not ok and "store_plan needs the plan's bytes" in value[1]


def test_a_stored_plan_checks_its_arguments_and_reports_a_failing_step(hook, bob, held):
    ok, plan_id = _serve(bob, "store_plan", _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]]), 777, [], None)
    assert ok
    for args, expected in (([], "hostile() takes 1 positional argument but 0 were given"),
                           ([codec.Ref(plan_id)], "argument 1 must be a tensor held where the plan runs"),
                           ([7], "argument 1 must be a tensor"),
                           ([codec.Ref(424242)], "object 424242 is not on")):
        ok, value = _serve(bob, "run_plan", plan_id, args)
        assert not ok and expected in value[1], value
    ok, value = _serve(bob, "run_plan", held.id_at_location, [codec.Ref(held.id_at_location)])
    assert not ok and value[0] == "TypeError" and "is not a plan" in value[1]
    bob._store.discard([plan_id])


def test_a_step_that_claims_more_results_than_it_gives_fails_cleanly(bob, held):
    data = _plan_bytes([["torch.abs", [Var(0)], {}, [1, 2], True]], outputs=Var(2))
    ok, plan_id = _serve(bob, "store_plan", data, 778, [], None)
    assert ok
    ok, value = _serve(bob, "run_plan", plan_id, [codec.Ref(held.id_at_location)])
    assert not ok and "step 1 (torch.abs) gave Tensor, not 2 results" in value[1]
    bob._store.discard([plan_id])


def test_hostile_protocols_are_refused(bob, held):
    def refused(data, expected):
        ok, value = _serve(bob, "store_protocol", data, 1, [], None)
        assert not ok and value[0] == "InvalidPlanError" and expected in value[1], value

    good_plan = _plan_bytes([["torch.abs", [Var(0)], {}, 1, True]])
    bad_plan = _plan_bytes([["os.system", [Var(0)], {}, 1, True]])
    refused(codec.encode([1, [["w1", "plan", [5, bad_plan]]]]), "is not on this worker's allow-list")
    refused(codec.encode([1, []]), "a protocol holds 1 to 64 plans")
    refused(codec.encode([1, [["w1", "plan", [5, good_plan]]] * 65]), "a protocol holds 1 to 64 plans")
    refused(codec.encode([1, [["w1", "exec", [5, good_plan]]]]), "a plan's bytes or a deployed plan's")
    refused(codec.encode([1, [["w1", "plan", [5, good_plan]], ["w2", "pointer", ["alice", 9]]]]),
            "either deployed everywhere or nowhere")
    refused(b"\xc1", "the protocol is malformed")
    # a deployed protocol naming a worker that does not exist fails when run, and says so
    ok, protocol_id = _serve(bob, "store_protocol", codec.encode([1, [["w1", "pointer", ["nobody", 9]]]]),
                             31, [], None)
    assert ok
    ok, value = _serve(bob, "run_protocol", protocol_id, [codec.Ref(held.id_at_location)])
    assert not ok and value[0] == "WorkerNotFoundError" and "nobody" in value[1]
    bob._store.discard([protocol_id])


def test_a_plan_from_a_worker_is_checked_when_it_comes_home(hook, bob):
    @sy.func2plan(args_shape=[(1,)])
    def inc(x):
        return x + 1

    remote = inc.send(bob)
    stored = bob._store.objects[remote.id_at_location]
    stored.steps[0].op = "os.system"  # a worker that lies about what it holds
    with pytest.raises(sy.exceptions.InvalidPlanError, match="not on this worker's allow-list"):
        remote.get()


def test_a_plan_cannot_make_sparse_intermediates(bob, held):
    # indices() of a sparse tensor aliases its internals; writing through it corrupted memory.
    # Sparse layouts are off the allow-list: the plan is refused before any of it is kept.
    steps = [["Tensor.to_sparse", [Var(0)], {}, 1, True], ["Tensor.coalesce", [Var(1)], {}, 2, True],
             ["Tensor.indices", [Var(2)], {}, 3, True], ["Tensor.fill_", [Var(3), 10 ** 9], {}, 4, True],
             ["Tensor.to_dense", [Var(2)], {}, 5, True]]
    _refused(bob, _plan_bytes(steps), "step 1 (Tensor.to_sparse): the operation is not on this worker's allow-list")


def test_deeply_nested_arguments_are_refused(bob, held):
    nested = Var(0)
    for _ in range(40):
        nested = [nested]
    _refused(bob, _plan_bytes([["torch.cat", [nested], {}, 1, True]]), "arguments nest deeper than 32 levels")


def test_keyword_names_and_protocol_worker_ids_cannot_forge_listing_lines(bob, held):
    _refused(bob, _plan_bytes([["torch.sum", [Var(0)], {"dim\n    return _1\ndef x(": 0}, 1, True]]),
             "kwargs a dict with names for keys")
    ok, value = _serve(bob, "store_protocol", codec.encode([1, [["w1\ndef", "pointer", ["alice", 1]]]]), 0, [], None)
    assert not ok and "a worker name is printable" in value[1]
    huge = "w" * 2 ** 20  # stored once, it would have been echoed by every run request
    ok, value = _serve(bob, "store_protocol", codec.encode([1, [["w1", "pointer", [huge, 1]]]]), 0, [], None)
    assert not ok and len(value[1]) < 400


def test_a_var_hidden_in_a_named_tuple_record_is_checked(bob, held):
    hidden = torch.return_types.max([Var(0), Var(999)])
    _refused(bob, _plan_bytes([["torch.stack", [list(hidden)], {}, 1, True]]), "uses _1000 before it is defined")
    _refused(bob, _plan_bytes([["torch.stack", [hidden], {}, 1, True]]), "uses _1000 before it is defined")


def test_a_result_never_shares_memory_with_the_plans_state(hook, bob):
    @sy.func2plan(args_shape=[(1,)], state=(torch.tensor([1.0]),))
    def leaky(x, state):
        b, = state.read()
        return x + b, b.view(1)

    remote = leaky.send(bob)
    x_ptr = torch.zeros(1).send(bob)
    _, b_ptr = remote(x_ptr)
    b_ptr.mul_(100)  # a caller changing what it got back...
    out, _ = remote(x_ptr)
    assert torch.equal(out.get(), torch.tensor([1.0]))  # ...does not change the plan for the next one
