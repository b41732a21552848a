"""Plans (Part 08): traced, sent as data, run on a worker in one request, printed as PySyft did."""
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import jupyter_syft as sy
from jupyter_syft.exceptions import PlanBuildError, TensorsNotCollocatedException
from plan_examples import Net


def _ids_masked(text: str) -> str:
    return re.sub(r"\d{5,}", "ID", text)


def test_unbuilt_and_built_plans_print_as_pysyft_did(hook, bob):
    @sy.func2plan()
    def plan_double_abs(x):
        x = x + x
        x = torch.abs(x)
        return x

    assert not plan_double_abs.is_built
    assert _ids_masked(repr(plan_double_abs)) == (
        "<Plan plan_double_abs id:ID owner:me>\ndef plan_double_abs():\n    return ")
    with pytest.raises(RuntimeError, match=r"^A plan needs to be built before being sent to a worker\.$"):
        plan_double_abs.send(bob)
    assert plan_double_abs.build(torch.tensor([1.0, -2.0])) is None
    assert plan_double_abs.is_built
    assert _ids_masked(repr(plan_double_abs)) == (
        "<Plan plan_double_abs id:ID owner:me built>\n"
        "def plan_double_abs(arg_1):\n"
        "    _2 = _1.__add__(_1)\n"
        "    _3 = torch.abs(_2)\n"
        "    return _3")
    pointer_plan = plan_double_abs.send(bob)
    assert repr(pointer_plan) == f"[PointerPlan | me:{pointer_plan.id} -> bob:{plan_double_abs.id}]"


def test_state_is_numbered_first_and_shown_as_state(hook):
    @sy.func2plan(args_shape=[(1,)], state=(torch.tensor([1]),))
    def plan_abs(x, state):
        bias, = state.read()
        x = x.abs()
        return x + bias

    assert plan_abs.is_built  # args_shape builds at once
    assert plan_abs.code() == ("def plan_abs(arg_2):\n    _3 = _2.abs()\n"
                               "    _4 = _3.__add__(_state)\n    return _4")
    assert [t.tolist() for t in plan_abs.state.read()] == [[1]]


def test_a_plan_computes_what_eager_torch_computes(hook, bob):
    torch.manual_seed(3)

    def f(x, y):
        z = torch.matmul(x, y.t()).relu()
        return F.log_softmax(z * 2 - x.sum(), dim=1), z.max(dim=0)

    plan = sy.func2plan()(f)
    plan.build(torch.randn(4, 3), torch.randn(5, 3))
    remote = plan.send(bob)
    for _ in range(5):
        x, y = torch.randn(4, 3), torch.randn(5, 3)
        expected = f(x, y)
        local = plan(x, y)
        out, (values, indices) = remote(x.send(bob), y.send(bob))
        for got in (local[0], out.get()):
            assert torch.equal(got, expected[0])
        assert torch.equal(values.get(), expected[1].values)
        assert torch.equal(indices.get(), expected[1].indices)


def test_a_plan_call_is_one_request_and_keeps_intermediates_on_the_worker(hook, bob):
    @sy.func2plan(args_shape=[(2, 3)])
    def many_steps(x):
        for _ in range(50):
            x = x * 1.01 + 0.5
        return x.sum()

    assert len(many_steps.record.steps) == 101
    remote = many_steps.send(bob)
    x_ptr = torch.ones(2, 3).send(bob)
    before = dict(bob.traffic)
    result = remote(x_ptr)
    assert bob.traffic["messages"] - before["messages"] == 1
    assert bob.traffic["bytes_out"] - before["bytes_out"] < 100  # one small description back
    assert set(bob._objects) == {remote.id_at_location, x_ptr.id_at_location, result.id_at_location}
    expected = torch.ones(2, 3)
    for _ in range(50):
        expected = expected * 1.01 + 0.5
    assert torch.allclose(result.get(), expected.sum())


def test_a_module_plan_takes_its_parameters_as_state(hook, bob):
    torch.manual_seed(0)
    net = Net()
    assert _ids_masked(repr(net)) == "<Net Net id:ID owner:me>\ndef Net():\n    return "
    net.build(torch.tensor([1.0, 2.0]))
    assert net.code() == (
        "def Net(arg_5):\n"
        "    _6 = torch.nn.functional.linear(_5, _state_1, _state_2)\n"
        "    _7 = torch.nn.functional.relu(_6)\n"
        "    _8 = torch.nn.functional.linear(_7, _state_3, _state_4)\n"
        "    _9 = torch.nn.functional.log_softmax(_8, dim=0)\n"
        "    return _9")
    x = torch.tensor([-1.0, 2.0])
    expected = F.log_softmax(net.fc2(F.relu(net.fc1(x))), dim=0)
    got = net.send(bob)(x.send(bob)).get()
    assert torch.equal(got, expected) and got.requires_grad  # as PySyft printed it
    # the parameters are sent as they are at send time, not as they were at build time
    with torch.no_grad():
        net.fc2.bias += 1.0
    shifted = net.send(bob)(x.send(bob)).get()
    assert torch.allclose(shifted, F.log_softmax(net.fc2(F.relu(net.fc1(x))), dim=0))


def test_building_leaves_the_example_tensors_and_the_model_alone(hook):
    model = nn.Linear(2, 1)
    weight = model.weight.detach().clone()

    @sy.func2plan()
    def step(x, w, b):
        loss = F.linear(x, w, b).sum()
        g_w, g_b = torch.autograd.grad(loss, (w, b))
        with torch.no_grad():
            w -= g_w
            b -= g_b
        return loss

    w = model.weight.detach().clone().requires_grad_()
    b = model.bias.detach().clone().requires_grad_()
    w_before = w.detach().clone()
    step.build(torch.ones(3, 2), w, b)
    assert torch.equal(w, w_before) and torch.equal(model.weight, weight)
    # ...while running the plan updates its arguments in place, as the traced code did
    step(torch.ones(3, 2), w, b)
    assert torch.allclose(w, w_before - 3.0)


def _train_plan(lr: float):
    @sy.func2plan()
    def train_step(x, y, w1, b1, w2, b2):
        h = F.relu(F.linear(x, w1, b1))
        loss = F.mse_loss(F.linear(h, w2, b2), y)
        grads = torch.autograd.grad(loss, (w1, b1, w2, b2))
        with torch.no_grad():
            for p, g in zip((w1, b1, w2, b2), grads):
                p -= lr * g
        return loss

    return train_step


def test_a_plan_trains_a_federated_model_as_plain_torch_does(hook, bob, alice):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    reference = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    reference.load_state_dict(model.state_dict())
    data = {w: (torch.randn(6, 4), torch.randn(6, 1)) for w in ("bob", "alice")}
    plan = _train_plan(0.05)
    plan.build(*data["bob"], *[p.detach().requires_grad_() for p in model.parameters()])

    workers = {"bob": bob, "alice": alice}
    remote = {name: (plan.send(w), data[name][0].send(w), data[name][1].send(w))
              for name, w in workers.items()}
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05)
    for _ in range(3):
        for name, worker in workers.items():
            model.send(worker)
            pointer_plan, x_ptr, y_ptr = remote[name]
            before = worker.traffic["messages"]
            loss = pointer_plan(x_ptr, y_ptr, *model.parameters())
            assert worker.traffic["messages"] - before == 1
            model.get()
            optimizer.zero_grad()
            expected = F.mse_loss(reference(data[name][0]), data[name][1])
            expected.backward()
            optimizer.step()
            assert torch.allclose(loss.get(), expected.detach(), atol=1e-6)
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(ours, theirs, atol=1e-6)


def test_calls_that_do_not_fit_the_plan_are_refused_clearly(hook, bob):
    @sy.func2plan(args_shape=[(-1, 1)])
    def double(x):
        return x * 2

    remote = double.send(bob)
    with pytest.raises(TypeError, match=r"double\(\) takes 1 positional argument but 2 were given"):
        double(torch.ones(3, 1), torch.ones(3, 1))
    with pytest.raises(TypeError, match=r"takes 1 positional argument but 2 were given"):
        remote(torch.ones(3, 1).send(bob), torch.ones(3, 1).send(bob))
    with pytest.raises(ValueError, match="argument 1 has 1 dimensions; the plan was built for 2"):
        remote(torch.ones(3).send(bob))
    assert double(torch.ones(5, 1)).shape == (5, 1)  # -1: any size
    with pytest.raises(TensorsNotCollocatedException, match="send the plan there first"):
        double(torch.ones(2, 1).send(bob))
    with pytest.raises(TensorsNotCollocatedException, match="not a local Tensor"):
        remote(torch.ones(2, 1))


def test_what_a_plan_cannot_record_is_named_at_build_time(hook):
    @sy.func2plan()
    def branches(x):
        if x.sum() > 0:
            return x
        return -x

    with pytest.raises(PlanBuildError, match=r"branches: __bool__\(\) reads a tensor's values"):
        branches.build(torch.ones(2))

    @sy.func2plan()
    def leaks(x):
        return x.numpy()

    with pytest.raises(PlanBuildError, match=r"numpy\(\) reads a tensor's values"):
        leaks.build(torch.ones(2))

    @sy.func2plan()
    def hooks(x):
        x.register_hook(print)
        return x

    with pytest.raises(PlanBuildError, match="step 1: .*not on jupyter_syft's allow-list"):
        hooks.build(torch.ones(2, requires_grad=True))

    @sy.func2plan()
    def sets_storage(x):  # Tensor.set_ never reaches __torch_function__: the replay notices
        x.set_(torch.zeros(3))
        return x * 2

    with pytest.raises(PlanBuildError, match="bypasses torch's __torch_function__"):
        sets_storage.build(torch.ones(2))


def test_an_op_that_fails_on_the_worker_names_its_step_and_keeps_the_worker_serving(hook, bob):
    @sy.func2plan(args_shape=[(3, 3)])
    def bad_matmul(x):
        y = x.abs()
        return y.matmul(x)

    remote = bad_matmul.send(bob)
    x_ptr = torch.ones(2, 3).send(bob)
    before = set(bob._objects)
    with pytest.raises(RuntimeError, match=r"bad_matmul, step 2 \(Tensor.matmul\): .*cannot be multiplied"):
        remote(x_ptr)
    assert set(bob._objects) == before
    assert torch.equal((x_ptr + 1).get(), torch.full((2, 3), 2.0))


def test_a_plan_comes_home_checked_and_runs_locally(hook, bob):
    @sy.func2plan(args_shape=[(1,)], state=(torch.tensor([5.0]),))
    def add_state(x, state):
        s, = state.read()
        return x + s

    remote = add_state.send(bob)
    back = remote.get()
    assert remote.id_at_location not in bob._objects
    assert back.id == remote.id_at_location and back.is_built
    assert back.code() == add_state.code()
    assert torch.equal(back(torch.tensor([1.0, 2.0])), torch.tensor([6.0, 7.0]))
    with pytest.raises(RuntimeError, match="brought home with .get()"):
        remote(torch.ones(1).send(bob))


def test_dropping_a_pointer_plan_deletes_the_plan_on_the_worker(hook, bob):
    @sy.func2plan(args_shape=[(1,)])
    def inc(x):
        return x + 1

    remote = inc.send(bob)
    assert remote.id_at_location in bob._objects
    del remote
    assert len(bob._objects) == 0


def test_part08_set_up_me_stores_and_worker_data_keeps_tags(hook):
    hook.local_worker.is_client_worker = False
    try:
        x11 = torch.tensor([-1, 2.0]).tag("input_data")
        x12 = torch.tensor([1, -2.0]).tag("input_data2")
        device_1 = sy.VirtualWorker(hook, id="device_1", data=(x11, x12))
        found = device_1.search("input_data")[0]
        assert repr(found) == "tensor([-1.,  2.])\n\tTags: input_data \n\tShape: torch.Size([2])"

        @sy.func2plan()
        def plan_double_abs(x):
            return torch.abs(x + x)

        plan_double_abs.build(torch.tensor([1.0, -2.0]))
        result = plan_double_abs.send(device_1)(found)  # the worker's own tensor, named by its id
        assert torch.equal(result.get(), torch.tensor([2.0, 4.0]))
        assert torch.equal(found, torch.tensor([-1.0, 2.0]))
    finally:
        hook.local_worker.is_client_worker = True
        sy.remove_worker(sy.get_worker("device_1"))


def test_random_and_factory_calls_are_steps_not_frozen_constants(hook, bob):
    @sy.func2plan(args_shape=[(3,)])
    def add_noise(x):
        return x + torch.randn(x.shape)

    assert "torch.randn((3,))" in add_noise.code()
    remote = add_noise.send(bob)
    x_ptr = torch.zeros(3).send(bob)
    draws = [remote(x_ptr).get() for _ in range(2)] + [add_noise(torch.zeros(3)) for _ in range(2)]
    assert len({tuple(d.tolist()) for d in draws}) == 4


def test_a_plan_called_under_no_grad_builds_no_graph(hook):
    torch.manual_seed(0)
    net = Net()
    net.build(torch.tensor([1.0, 2.0]))
    assert net(torch.ones(2)).requires_grad
    with torch.no_grad():
        assert not net(torch.ones(2)).requires_grad


def test_a_module_plan_runs_with_the_layers_it_has_now(hook):
    torch.manual_seed(0)
    net = Net()
    net.build(torch.tensor([1.0, 2.0]))
    net.fc2 = nn.Linear(3, 2)
    x = torch.tensor([0.5, -1.0])
    assert torch.equal(net(x), F.log_softmax(net.fc2(F.relu(net.fc1(x))), dim=0))


def test_building_twice_does_not_apply_in_place_updates_twice(hook):
    counter = torch.zeros(1)

    @sy.func2plan(args_shape=[(1,)])
    def bump(x):
        counter.add_(x)
        return x * 2

    assert torch.equal(counter, torch.ones(1))  # the trace ran once; the check replays on copies


def test_a_first_call_that_builds_draws_the_same_random_numbers_as_eager(hook):
    def noisy(x):
        return F.dropout(x, 0.5, training=True)

    torch.manual_seed(7)
    expected = noisy(torch.ones(8))
    torch.manual_seed(7)
    assert torch.equal(sy.func2plan()(noisy)(torch.ones(8)), expected)


def test_names_and_shapes_are_checked_where_they_are_given(hook, bob):
    plan = sy.func2plan(args_shape=[(2,)])(lambda x: x + 1)
    assert plan.name == "lambda"
    assert torch.equal(plan.send(bob)(torch.ones(2).send(bob)).get(), torch.full((2,), 2.0))
    with pytest.raises(TypeError, match=r"args_shape is a list with one shape per argument"):
        sy.func2plan(args_shape=(2,))(lambda x: x)
