"""Pointers behave like the tensors they stand for, and fail clearly where they cannot."""
import copy
import pickle

import pytest
import torch
import torch.nn.functional as F

import jupyter_syft as sy
from jupyter_syft import (ObjectNotFoundError, OperationNotAllowedError, PointerFetchedError,
                          RemoteValueError, TensorsNotCollocatedException)

DATA = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]


@pytest.fixture
def x(bob):
    return torch.tensor(DATA).send(bob)


def test_send_returns_a_pointer_with_pysyft_attributes(bob):
    me = sy.local_worker
    t = torch.tensor([1, 2, 3])
    ptr = t.send(bob)
    assert isinstance(ptr, sy.PointerTensor) and isinstance(ptr, torch.Tensor)
    assert ptr.location is bob and ptr.owner is me and ptr.id_at_location == t.id
    assert ptr.shape == (3,) and ptr.dtype == torch.int64 and ptr.dim() == 1 and len(ptr) == 3
    assert repr(ptr) == f"(Wrapper)>[PointerTensor | me:{ptr.id} -> bob:{t.id}]"
    assert str(ptr) == f"{ptr}" == repr(ptr)


def test_worker_holds_a_copy(bob):
    t = torch.tensor([1.0, 2.0])
    ptr = t.send(bob)
    t.add_(10)
    assert torch.equal(bob._objects[ptr.id_at_location], torch.tensor([1.0, 2.0]))
    assert bob._objects[ptr.id_at_location] is not t


def test_send_by_worker_id_and_unknown_worker(bob):
    assert torch.ones(1).send("bob").location is bob
    with pytest.raises(sy.WorkerNotFoundError, match="carol"):
        torch.ones(1).send("carol")
    with pytest.raises(TypeError, match="needs a worker"):
        torch.ones(1).send()


def test_operators_and_methods_run_on_the_worker(bob, x):
    local = torch.tensor(DATA)
    cases = {
        "add": (lambda t: t + t), "rsub": (lambda t: 1 - t), "mul": (lambda t: t * 2 + 1),
        "matmul": (lambda t: t @ t.t()), "neg": (lambda t: -t), "pow": (lambda t: t ** 2),
        "cmp": (lambda t: t > 0), "index": (lambda t: t[0, 1:]), "fancy": (lambda t: t[[1, 0]]),
        "view": (lambda t: t.view(3, 2)), "view_tuple": (lambda t: t.view((3, 2))),
        "sum_kw": (lambda t: t.sum(dim=1, keepdim=True)), "to": (lambda t: t.to(torch.float64)),
        "ellipsis": (lambda t: t[..., 0]), "abs": (lambda t: abs(t)),
    }
    for name, f in cases.items():
        got = f(x)
        assert isinstance(got, sy.PointerTensor), name
        expected = f(local)
        assert got.shape == expected.shape and got.dtype == expected.dtype, name
        assert torch.equal(got.get(), expected), name


def test_torch_functions_and_functional(bob, x):
    local = torch.tensor(DATA)
    assert torch.equal(torch.add(x, x).get(), torch.add(local, local))
    assert torch.equal(F.relu(x).get(), F.relu(local))
    assert torch.allclose(F.softmax(x, dim=1).get(), F.softmax(local, dim=1))
    assert torch.allclose(torch.linalg.norm(x).get(), torch.linalg.norm(local))
    assert torch.equal(torch.cat([x, x]).get(), torch.cat([local, local]))
    assert torch.equal(torch.where(x > 0, x, x * 0).get(), torch.where(local > 0, local, local * 0))


def test_multi_output_ops_return_pointers(bob, x):
    values, indices = torch.max(x, 0)
    assert isinstance(values, sy.PointerTensor) and isinstance(indices, sy.PointerTensor)
    assert values.shape == (3,) and indices.dtype == torch.int64
    assert torch.equal(values.get(), torch.tensor([4.0, 5.0, 3.0]))
    assert torch.equal(indices.get(), torch.tensor([1, 1, 0]))
    parts = torch.split(x, 1)
    assert len(parts) == 2 and all(p.shape == (1, 3) for p in parts)
    assert torch.equal(parts[1].get(), torch.tensor([DATA[1]]))
    rows = list(x)  # iteration unbinds on the worker
    assert torch.equal(rows[0].get(), torch.tensor(DATA[0]))


def test_in_place_ops_return_the_same_pointer(bob, x):
    before = len(bob._objects)
    assert x.add_(1) is x
    x[0] = 0.0
    assert len(bob._objects) == before  # nothing new stored for in-place results
    assert torch.equal(x.get(), torch.tensor([[0.0, 0.0, 0.0], [5.0, 6.0, -5.0]]))


def test_remote_autograd(bob):
    x = torch.tensor([1, 2, 3, 4, 5.0], requires_grad=True).send(bob)
    y = torch.tensor([1, 1, 1, 1, 1.0], requires_grad=True).send(bob)
    assert x.requires_grad
    z = (x * y + y).sum()
    assert z.shape == () and z.requires_grad
    assert z.backward() is None
    grad = x.grad  # an attribute pointer, as in PySyft: it names x's grad on bob
    assert isinstance(grad, sy.PointerTensor) and grad.point_to_attr == "grad"
    assert repr(grad).endswith(f"-> bob:{x.id_at_location}]::grad")
    with pytest.raises(sy.CannotRequestObjectAttribute, match=r"x.grad.copy\(\).get\(\)"):
        grad.get()
    assert torch.equal(grad.copy().get(), torch.ones(5))
    x = x.get()
    assert x.requires_grad and x.is_leaf
    assert torch.equal(x.grad, torch.ones(5))
    assert torch.equal(y.get().grad, torch.tensor([2.0, 3.0, 4.0, 5.0, 6.0]))


def test_requires_grad_in_place_updates_the_pointer(bob):
    y = torch.tensor([1.0, 2.0]).send(bob)
    assert y.requires_grad_() is y and y.requires_grad


def test_values_need_get_first(bob, x):
    for call in (lambda: x.sum().item(), lambda: bool(x.sum()), lambda: x.tolist(),
                 lambda: float(x.sum()), lambda: x.numpy(), lambda: int(x[0, 0])):
        with pytest.raises(RemoteValueError, match=r"call \.get\(\) first"):
            call()
    with pytest.raises(RemoteValueError, match="cannot be pickled"):
        pickle.dumps(x)
    with pytest.raises(RemoteValueError, match="cannot be pickled"):
        copy.deepcopy(x)


def test_get_twice_and_using_a_fetched_pointer_are_clear_errors(bob, x):
    x.get()
    with pytest.raises(PointerFetchedError, match=r"already brought home with \.get\(\)"):
        x.get()
    with pytest.raises(PointerFetchedError, match="already brought home"):
        x + x
    assert "fetched" in repr(x)
    local = torch.ones(1)
    with pytest.raises(RuntimeError, match="already local"):
        local.get()


def test_pointers_on_two_workers_are_not_collocated(bob, alice, x):
    a = torch.ones(2, 3).send(alice)
    with pytest.raises(TensorsNotCollocatedException) as info:
        x + a
    message = str(info.value)
    assert "id:bob" in message and "id:alice" in message and ".move()" in message
    with pytest.raises(TensorsNotCollocatedException):
        torch.cat([x, a])


def test_pointer_with_a_local_tensor_is_not_collocated(bob, x):
    with pytest.raises(TensorsNotCollocatedException) as info:
        x + torch.ones(2, 3)
    assert "id:bob" in str(info.value) and ".send(bob)" in str(info.value)
    with pytest.raises(TensorsNotCollocatedException):
        torch.ones(2, 3) * x


def test_worker_errors_keep_their_type_and_the_worker_keeps_its_data(bob, x):
    y = torch.tensor([1.0, 2.0]).send(bob)
    before = dict(bob._objects)
    with pytest.raises(RuntimeError, match="must match the size"):
        x + y
    with pytest.raises(IndexError, match="out of bounds"):
        x[10]
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    assert bob._objects.keys() == before.keys()
    assert torch.equal((y + y).get(), torch.tensor([2.0, 4.0]))


def test_missing_remote_object_is_object_not_found(bob, x):
    bob._objects.clear()  # the object vanished behind the pointer's back
    with pytest.raises(ObjectNotFoundError, match="not on <VirtualWorker id:bob"):
        x + x
    with pytest.raises(ObjectNotFoundError):
        x.get()


def test_private_torch_calls_are_refused_before_sending(bob, x):
    with pytest.raises(OperationNotAllowedError, match="allow-list"):
        x._is_view()


def test_dtypes_and_layouts_round_trip(bob):
    for t in (torch.tensor([True, False]), torch.tensor([1.5], dtype=torch.bfloat16),
              torch.tensor([1 + 2j]), torch.arange(6.0).view(2, 3).t(), torch.tensor(3.0),
              torch.empty(0, 3), torch.tensor([1, 2], dtype=torch.uint8),
              torch.tensor([1.0], dtype=torch.float16), torch.tensor([7], dtype=torch.int8)):
        back = t.send(bob).get()
        assert back.dtype == t.dtype and back.shape == t.shape and torch.equal(back, t)
    with pytest.raises(sy.UnsupportedTypeError, match="dense CPU"):
        torch.eye(2).to_sparse().send(bob)


def test_recreating_a_worker_keeps_its_objects(hook, bob):
    ptr = torch.tensor([1, 2]).send(bob)
    again = sy.VirtualWorker(hook, id="bob")
    assert again is bob and ptr.id_at_location in again._objects


def test_local_worker_and_hook_attributes(hook):
    assert sy.hook is hook and hook.local_worker is sy.local_worker
    assert repr(sy.local_worker) == "<VirtualWorker id:me #objects:0>"


def test_worker_data_argument_stores_copies(hook):
    t = torch.tensor([1.0])
    carol = sy.VirtualWorker(hook, id="carol_data", data=[t])
    try:
        assert torch.equal(carol._objects[t.id], t) and carol._objects[t.id] is not t
    finally:
        sy.remove_worker(carol)


def test_named_results_keep_their_names(bob, x):
    result = torch.max(x, 0)
    assert type(result) is torch.return_types.max
    assert torch.equal(result.values.get(), torch.tensor([4.0, 5.0, 3.0]))
    top = x.topk(2)
    assert torch.equal(top.indices.get(), torch.tensor([[2, 0], [1, 0]]))


def test_optimizer_on_remote_parameters(bob):
    w = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    opt = torch.optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    opt.zero_grad()  # sets w.grad = None on bob
    assert w.grad is None
    w.requires_grad = False
    assert w.requires_grad is False
    assert torch.equal(w.get(), torch.tensor([0.0, 0.0]))


def test_pointers_to_a_removed_worker_say_so(hook):
    carol = sy.VirtualWorker(hook, id="carol_removed")
    ptr = torch.tensor([1]).send(carol)
    sy.remove_worker(carol)
    with pytest.raises(sy.WorkerNotFoundError, match="was removed"):
        ptr + ptr
    del ptr  # nothing is queued for a removed worker
    assert carol not in sy.local_worker._pending_deletes
