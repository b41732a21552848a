"""MultiPointerTensor: ``x.send(bob, alice)``, one pointer per worker, used as one value.

Any torch call on it runs once per worker, on that worker's pointer (other multi-pointers in the
call give their pointer for the same worker), and gives a new MultiPointerTensor. ``get()``
brings every copy home; ``get(sum_results=True)`` adds them up.
"""
from typing import Any, Dict, List

import torch


class MultiPointerTensor:
    def __init__(self, pointers: List[torch.Tensor]) -> None:
        self.child: Dict[Any, torch.Tensor] = {p.location.id: p for p in pointers}
        if len(self.child) != len(pointers):
            raise ValueError("a MultiPointerTensor holds at most one pointer per worker")

    @property
    def locations(self) -> list:
        return [p.location for p in self.child.values()]

    @property
    def shape(self) -> torch.Size:
        return next(iter(self.child.values())).shape

    def __repr__(self) -> str:
        lines = "".join("\n\t-> " + repr(p).replace("(Wrapper)>", "", 1) for p in self.child.values())
        return "(Wrapper)>[MultiPointerTensor]" + lines

    __str__ = __repr__

    def get(self, sum_results: bool = False):
        """Every copy, brought home; all or none (copies already fetched go back on failure)."""
        for p in self.child.values():
            p.check_live()
        results = []
        try:
            for p in self.child.values():
                results.append(p.get())
        except BaseException:
            for p, value in zip(self.child.values(), results):
                p._owner.restore([p], [value])
            raise
        if sum_results:
            total = results[0]
            for r in results[1:]:
                total = total + r
            return total
        return results

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        first = next(a for a in _walk(args, kwargs) if isinstance(a, MultiPointerTensor))
        results = []
        for worker_id in first.child:
            a = _pick(args, worker_id)
            k = _pick(kwargs, worker_id)
            results.append(func(*a, **k))
        return MultiPointerTensor(results)

    # Operators, so ``mpt + mpt`` works like a tensor's.
    def _op(name):
        method = getattr(torch.Tensor, name)

        def op(self, *args):
            return MultiPointerTensor.__torch_function__(method, (), (self, *args))
        op.__name__ = name
        return op

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                  "__truediv__", "__matmul__", "__neg__", "__pow__", "__getitem__"):
        locals()[_name] = _op(_name)
    del _op, _name

    def __getattr__(self, name: str):
        if name.startswith("_") or not hasattr(torch.Tensor, name):
            raise AttributeError(
                f"a MultiPointerTensor has no {name!r}; its pointers, one per worker, are in "
                f".child (e.g. .child[{next(iter(self.child))!r}].{name})")
        method = getattr(torch.Tensor, name)
        return lambda *args, **kwargs: MultiPointerTensor.__torch_function__(
            method, (), (self, *args), kwargs)


def _walk(args, kwargs):
    yield from args
    yield from kwargs.values()


def _pick(value, worker_id):
    if isinstance(value, MultiPointerTensor):
        try:
            return value.child[worker_id]
        except KeyError:
            raise ValueError(f"the MultiPointerTensors in this call are not on the same workers "
                             f"(one has no pointer on {worker_id})") from None
    if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
        return type(value)(_pick(v, worker_id) for v in value)
    if isinstance(value, dict):
        return {k: _pick(v, worker_id) for k, v in value.items()}
    return value
