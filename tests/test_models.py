"""Remote models (Parts 02 and 04): nn.Module send/get/move/copy, forward passes on pointers,
optimizers on remote parameters, and federated training that equals local training."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn, optim

import jupyter_syft as sy


def test_send_and_get_keep_parameter_identity(bob):
    model = nn.Linear(2, 1)
    weight, bias = model.weight, model.bias
    before = weight.detach().clone()
    opt = optim.SGD(model.parameters(), lr=0.1)  # made before send: must keep working
    assert model.send(bob) is model
    assert model.weight is weight and isinstance(weight, sy.PointerTensor)
    assert isinstance(weight, nn.Parameter)  # still passes nn.Parameter checks
    assert repr(weight) == (f"Parameter containing:\n(Wrapper)>[PointerTensor | "
                            f"me:{weight.id} -> bob:{weight.id_at_location}]")
    assert repr(model) == "Linear(in_features=2, out_features=1, bias=True)"
    assert model.location is bob and model.owner is sy.local_worker and len(bob._objects) == 2
    data = torch.tensor([[1.0, 1.0]]).send(bob)
    opt.zero_grad()
    model(data).sum().backward()
    opt.step()
    assert model.get() is model and model.weight is weight and model.bias is bias
    assert type(weight) is nn.Parameter and weight.requires_grad
    assert torch.allclose(weight, before - 0.1)  # d(w.x+b)/dw = x = 1
    assert torch.equal(weight.grad, torch.ones(1, 2))  # the gradient came home too
    assert model.location is None and len(bob._objects) == 1  # only data is left


def test_model_send_and_get_are_one_message_each(bob):
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(), nn.Linear(24, 1))
    start = bob.traffic["messages"]
    model.send(bob)
    assert bob.traffic["messages"] - start == 1 and len(bob._objects) == 6
    model.get()
    assert bob.traffic["messages"] - start == 2 and bob._objects == {}


def test_buffers_travel_with_the_model(bob):
    model = nn.BatchNorm1d(3)
    model.send(bob)
    assert len(bob._objects) == 5  # weight, bias, running mean and var, batch count
    model(torch.randn(4, 3).send(bob))
    model.get()
    assert int(model.num_batches_tracked) == 1 and not torch.equal(model.running_mean, torch.zeros(3))


def test_parameter_send_get_round_trip(bob):
    p = nn.Parameter(torch.tensor([1.0, 2.0]))
    ptr = p.send(bob)
    assert repr(ptr).startswith("Parameter containing:\n(Wrapper)>[PointerTensor | me:")
    back = ptr.get()
    assert type(back) is nn.Parameter and back.requires_grad and torch.equal(back, p)


def test_forward_passes_of_common_layers_match_local(bob):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.5),
                        nn.Flatten(), nn.Linear(36, 10), nn.Tanh(), nn.Linear(10, 3),
                        nn.LogSoftmax(dim=1))
    net.eval()
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 1, 0])
    local_out = net(x)
    with pytest.raises(RuntimeError, match=r"Sequential.0.weight is still used by a local autograd graph"):
        net.send(bob)  # local_out's graph holds the parameters: refused before anything moves
    assert bob._objects == {} and type(net[0].weight) is nn.Parameter
    local_out = local_out.detach()
    local_losses = [F.nll_loss(local_out, y), F.cross_entropy(local_out, y),
                    F.mse_loss(local_out, torch.zeros(5, 3))]
    net.send(bob)
    out = net(x.send(bob))
    yp, zp = y.send(bob), torch.zeros(5, 3).send(bob)
    losses = [F.nll_loss(out, yp), F.cross_entropy(out, yp), F.mse_loss(out, zp)]
    assert torch.allclose(out.get(), local_out)
    for remote, local in zip(losses, local_losses):
        assert torch.allclose(remote.get(), local)
    x2 = torch.randn(2, 6).send(bob)
    for f in (F.avg_pool1d, lambda t, k: F.dropout(t, 0.5, training=False), ):
        assert f(x2.unsqueeze(0), 2).shape[0] == 1


def test_loss_get_prints_as_pysyft_printed(bob):
    torch.manual_seed(0)
    model = nn.Linear(2, 1).send(bob)
    data = torch.tensor([[0, 0], [0, 1.0]], requires_grad=True).send(bob)
    target = torch.tensor([[0], [0.0]], requires_grad=True).send(bob)
    loss = ((model(data) - target) ** 2).sum()
    text = str(loss.get())
    assert text.startswith("tensor(") and text.endswith(", requires_grad=True)")


def test_move_copy_and_weight_arithmetic_as_in_part04(bob, alice, secure_worker):
    model = nn.Linear(2, 1)
    bobs, alices = model.copy().send(bob), model.copy().send(alice)
    assert bobs is not model and model.location is None
    assert alices.move(secure_worker) is None and bobs.move(secure_worker) is None
    assert bobs.location is secure_worker and bob._objects == {} and alice._objects == {}
    with torch.no_grad():
        model.weight.set_(((alices.weight.data + bobs.weight.data) / 2).get())
        model.bias.set_(((alices.bias.data + bobs.bias.data) / 2).get())
    assert len(secure_worker._objects) == 4  # the averages came home; the models stay
    with pytest.raises(RuntimeError, match="on a worker"):
        bobs.copy()


def test_sending_a_model_that_is_elsewhere_is_refused(bob, alice):
    model = nn.Linear(2, 1).send(bob)
    assert model.send(bob) is model  # already there: nothing to do
    with pytest.raises(ValueError, match=r"on bob already.*\.move\(alice\)"):
        model.send(alice)
    assert len(bob._objects) == 2 and alice._objects == {}
    with pytest.raises(ValueError, match="not on a worker"):
        nn.Linear(1, 1).move(alice)


def test_get_of_a_model_whose_worker_lost_a_parameter_loses_nothing_else(bob):
    model = nn.Linear(2, 1).send(bob)
    del bob._objects[model.bias.id_at_location]
    with pytest.raises(sy.ObjectNotFoundError):
        model.get()
    assert len(bob._objects) == 1 and isinstance(model.weight, sy.PointerTensor)  # all or nothing


# --- optimizers -------------------------------------------------------------------------------
def _batches():
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(8, 13, generator=g), torch.randn(8, 1, generator=g)) for _ in range(4)]


def _mlp():
    torch.manual_seed(7)
    return nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(), nn.Linear(24, 1))


def _train(model, opt, batches, workers=None):
    for i, (x, y) in enumerate(batches * 3):
        if workers:
            w = workers[i % 2]
            x, y = x.send(w), y.send(w)
            model.send(w)
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        if workers:
            model.get()


@pytest.mark.parametrize("make_opt", [
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    lambda p: optim.Adam(p, lr=0.01),
    lambda p: optim.RMSprop(p, lr=0.01),
], ids=["sgd-momentum", "adam", "rmsprop"])
def test_federated_training_equals_local_training(bob, alice, make_opt):
    """One optimizer, the model alternating between bob and alice: its state follows the model
    (PySyft 0.2 failed here with `add_() takes 1 positional argument but 2 were given`)."""
    batches = _batches()
    local = _mlp()
    _train(local, make_opt(local.parameters()), batches)
    fed = _mlp()
    opt = make_opt(fed.parameters())
    _train(fed, opt, batches, workers=[bob, alice])
    for a, b in zip(fed.parameters(), local.parameters()):
        assert type(a) is nn.Parameter
        assert torch.allclose(a, b, atol=1e-6), (a - b).abs().max()
    # the state ended where the model last trained (alice), and moved there worker to worker
    states = [v for s in opt.state.values() for v in s.values() if isinstance(v, sy.PointerTensor)]
    assert states and all(v.location is alice for v in states)
    assert len(bob._objects) == 0 and len(alice._objects) == len(states)


def test_optims_gives_one_optimizer_per_worker(bob, alice):
    from syft.federated.floptimizer import Optims  # noqa: the PySyft path Part 02 imports

    model = nn.Linear(2, 1)
    optims = Optims(["bob", "alice"], optim=optim.Adam(params=model.parameters(), lr=0.1))
    ob, oa = optims.get_optim("bob"), optims.get_optim(alice)
    assert ob is not oa and optims.count() == 2
    assert ob.param_groups[0]["params"][0] is model.weight  # the same Parameter objects
    for opt, w in ((ob, bob), (oa, alice)):
        model.send(w)
        opt.zero_grad()
        model(torch.ones(1, 2).send(w)).sum().backward()
        opt.step()
        model.get()
    assert ob.state is not oa.state and len(ob.state) == len(oa.state) == 2
    with pytest.raises(KeyError, match="carol"):
        optims.get_optim("carol")


def test_parameters_spread_over_workers_step_each_where_it_is(bob, alice):
    a, b = nn.Linear(2, 1).send(bob), nn.Linear(2, 1).send(alice)
    opt = optim.SGD([*a.parameters(), *b.parameters()], lr=0.1, momentum=0.5)
    for model, w in ((a, bob), (b, alice)):
        model(torch.ones(1, 2).send(w)).sum().backward()
    opt.step()
    assert all(v["momentum_buffer"].location is p.location for p, v in opt.state.items())


def test_a_foreach_optimizer_on_remote_parameters_is_refused_clearly(bob):
    model = nn.Linear(2, 1)
    opt = optim.Adam(model.parameters(), lr=0.1, foreach=True)
    model.send(bob)
    model(torch.ones(1, 2).send(bob)).sum().backward()
    kept = {k: v.clone() for k, v in bob._objects.items()}
    with pytest.raises(ValueError, match="foreach=False"):
        opt.step()
    assert all(torch.equal(bob._objects[k], v) for k, v in kept.items())


def test_local_optimizers_are_untouched(bob):
    model = nn.Linear(2, 1)
    twin = copy.deepcopy(model)
    opt, twin_opt = optim.Adam(model.parameters()), optim.Adam(twin.parameters())
    for m, o in ((model, opt), (twin, twin_opt)):
        m(torch.ones(1, 2)).sum().backward()
        o.step()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))


def test_a_federated_step_is_twelve_messages(bob):
    """send, 3 linear + 2 relu, 3 loss ops, backward, one optimizer step, get; zero_grad's
    grad clears ride along with the forward pass (PySyft 0.2.4: 96 messages)."""
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 13).send(bob), torch.randn(8, 1).send(bob)
    counts = []
    for _ in range(3):
        start = bob.traffic["messages"]
        model.send(bob)
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        model.get()
        counts.append(bob.traffic["messages"] - start)
    assert counts == [12, 12, 12]
    assert model[0].weight.grad is not None and len(bob._objects) == 3  # x, y and the loss


def test_zero_grad_without_set_to_none_zeroes_on_the_worker(bob):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.send(bob)
    model(torch.ones(1, 2).send(bob)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert torch.equal(model.weight.grad.copy().get(), torch.zeros(1, 2))
    x = torch.ones(2, requires_grad=True).send(bob)
    assert repr((x * 2).grad_fn) == "<MulBackward0 on bob>" and x.grad_fn is None


def test_an_optimizers_own_pre_hooks_run_before_the_update(bob):
    torch.manual_seed(3)
    local, fed = nn.Linear(2, 1), nn.Linear(2, 1)
    fed.load_state_dict(local.state_dict())
    results = []
    for model, worker in ((local, None), (fed, bob)):
        opt = optim.SGD(model.parameters(), lr=0.1)
        def silence(o, args, kwargs):  # e.g. gradient clipping or masking
            for p in o.param_groups[0]["params"]:
                p.grad.mul_(0)
        opt.register_step_pre_hook(silence)
        x = torch.ones(1, 2)
        if worker:
            model.send(worker)
            x = x.send(worker)
        model(x).sum().backward()
        opt.step()
        if worker:
            model.get()
        results.append(model.weight.detach().clone())
    assert torch.equal(results[0], results[1])  # the hook zeroed the grads: no change in either


def test_a_lost_optimizer_state_gets_a_clear_error(bob):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.send(bob)
    model(torch.ones(1, 2).send(bob)).sum().backward()
    opt.step()
    model.get()
    bob.clear_objects()
    model(torch.ones(1, 2)).sum().backward()
    with pytest.raises(RuntimeError, match=r"optimizer.state.clear\(\)"):
        opt.step()
    opt.state.clear()
    opt.step()  # works again, from fresh state


def test_model_get_across_workers_is_all_or_nothing(bob, alice):
    a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    a.send(bob)
    b.send(alice)
    model = nn.Sequential(a, b)
    alice.clear_objects()
    with pytest.raises(sy.ObjectNotFoundError):
        model.get()
    assert isinstance(a.weight, sy.PointerTensor) and a.weight.state == "live"
    assert len(bob._objects) == 2  # bob's parameters went back
    a.get()
    assert type(a.weight) is nn.Parameter


def test_model_move_is_all_or_nothing(hook, bob, alice):
    model = nn.Sequential(nn.Linear(2, 1), nn.Linear(1, 1)).send(bob)
    del bob._objects[model[1].bias.id_at_location]  # the last parameter cannot move
    with pytest.raises(sy.ObjectNotFoundError):
        model.move(alice)
    assert {p.location.id for p in model.parameters()} == {"bob"}
    assert len(bob._objects) == 3 and alice._objects == {}


def test_optims_accepts_workers_or_ids(bob, alice):
    from syft.federated.floptimizer import Optims

    model = nn.Linear(2, 1)
    optims = Optims([bob, alice], optim=optim.SGD(model.parameters(), lr=0.1))
    assert optims.get_optim("bob") is optims.get_optim(bob)


def test_converting_a_remote_model_says_get_first(bob):
    model = nn.Linear(2, 1).send(bob)
    with pytest.raises(sy.RemoteValueError, match=r"model.get\(\) first"):
        model.double()
    assert len(bob._objects) == 2


def test_after_remote_steps_an_op_by_op_step_still_works(bob):
    """Adam's step count stays a local tensor: a closure step (op by op) reads it with .item()."""
    torch.manual_seed(5)
    local, fed = nn.Linear(2, 1), nn.Linear(2, 1)
    fed.load_state_dict(local.state_dict())
    x = torch.ones(3, 2)
    results = []
    for model, worker in ((local, None), (fed, bob)):
        opt = optim.Adam(model.parameters(), lr=0.1)
        data = x.send(worker) if worker else x
        if worker:
            model.send(worker)
        for _ in range(2):
            opt.zero_grad()
            model(data).sum().backward()
            opt.step()  # remote: one message
        step = opt.state[model.weight]["step"]
        assert type(step) is torch.Tensor and float(step) == 2.0

        def closure():
            opt.zero_grad()
            loss = model(data).sum()
            loss.backward()
            return loss
        opt.step(closure)  # op by op
        if worker:
            model.get()
        results.append(model.weight.detach().clone())
    assert torch.equal(results[0], results[1])


def test_a_remote_step_keeps_no_state_for_parameters_without_grads(bob):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    opt = optim.SGD([p for p in model.parameters()], lr=0.1, momentum=0.9)
    model.send(bob)
    model(torch.ones(1, 2).send(bob)).sum().backward()
    opt.step()
    assert len(opt.state) == 2  # as a local step keeps it: only the trained layer's


def test_zero_grad_through_a_chain_clears_the_far_grad(bob, alice):
    y = torch.ones(3, requires_grad=True).send(bob).send(alice)
    opt = optim.SGD([y], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (y * 2).sum().backward()
        opt.step()
    assert torch.allclose(y.get().get(), torch.full((3,), 1 - 3 * 0.2))
