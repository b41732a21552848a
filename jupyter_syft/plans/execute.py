"""Running a plan's steps: the same code on a worker and in the notebook.

Values live in one list, numbered as the record numbers them; a step's arguments are looked up
there, its results appended. Intermediate values never leave this function.
"""
from typing import Any, Sequence

import torch

from ..codec import Var
from ..exceptions import RemoteValueError
from .record import PlanRecord, substitute

_NESTED = (list, tuple, dict)  # what substitute() looks inside
_set_grad_enabled = torch._C._set_grad_enabled  # what torch.set_grad_enabled calls

# Exception types a failing step keeps (with the step named in the message); others become
# RuntimeError, since not every exception type can be rebuilt from a message.
_KEPT = (RuntimeError, TypeError, ValueError, IndexError, ZeroDivisionError, NotImplementedError)


def check_args(record: PlanRecord, args: Sequence[Any]) -> None:
    """The call matches the plan: as many tensors as it was built with, each with as many
    dimensions (sizes may differ, as PySyft allowed: the steps are re-run, not re-traced)."""
    if len(args) != len(record.arg_specs):
        n = len(record.arg_specs)
        raise TypeError(f"{record.name}() takes {n} positional argument{'s' if n != 1 else ''} "
                        f"but {len(args)} {'were' if len(args) != 1 else 'was'} given")
    for i, (arg, (shape, _)) in enumerate(zip(args, record.arg_specs)):
        if not isinstance(arg, torch.Tensor) or hasattr(arg, "_id_at_location"):
            raise TypeError(f"{record.name}: argument {i + 1} must be a tensor held where the plan "
                            f"runs, not a {type(arg).__name__}")
        if arg.dim() != len(shape):
            raise ValueError(f"{record.name}: argument {i + 1} has {arg.dim()} dimensions; the plan "
                             f"was built for {len(shape)} (shape {list(shape)}, -1 = any size)")


def run(record: PlanRecord, args: Sequence[torch.Tensor]) -> Any:
    check_args(record, args)
    values = list(record.state)
    values.extend(args)
    grad_mode = torch.is_grad_enabled()
    mode = grad_mode  # the grad mode set now; put back to grad_mode at the end, as it was
    # A step traced under no_grad runs without grad; one traced with grad runs in the caller's
    # mode, so a plan called under torch.no_grad() builds no graph.
    try:
        for number, step in enumerate(record.steps, 1):
            # substitute(), inlined for a step's usual arguments: Vars and constants
            call_args = [values[a.index] if type(a) is Var
                         else substitute(a, values) if type(a) in _NESTED else a
                         for a in step.args] if type(step.args) is list else substitute(step.args, values)
            kwargs = step.kwargs
            call_kwargs = {k: values[v.index] if type(v) is Var
                           else substitute(v, values) if type(v) in _NESTED else v
                           for k, v in kwargs.items()} if kwargs else {}
            wanted = step.grad_enabled and grad_mode
            if wanted is not mode:  # switched once per run of steps, not per step
                mode = wanted
                _set_grad_enabled(mode)
            try:
                result = step.func(*call_args, **call_kwargs)
            except Exception as e:
                raise _step_error(record, number, step.op, e) from None
            out = step.out
            if out is None:
                continue
            if type(out) is int:
                if type(result) is torch.Tensor and result.layout is _STRIDED and result.is_cpu:
                    values.append(result)  # _keep(), inlined for the common case
                else:
                    _keep(values, result, record, number, step.op)  # checks it, then keeps it
            else:
                if not isinstance(result, (tuple, list)) or len(result) != len(out):
                    raise RemoteValueError(f"{record.name}, step {number} ({step.op}) gave "
                                           f"{type(result).__name__}, not {len(out)} results")
                for index, item in zip(out, result):
                    if index is not None:
                        _keep(values, item, record, number, step.op)
        return substitute(record.outputs, values)
    finally:
        if mode is not grad_mode:
            _set_grad_enabled(grad_mode)
        values.clear()  # drop intermediate tensors (and their graphs) now


_STRIDED = torch.strided


def _keep(values: list, result: Any, record: PlanRecord, number: int, op: str) -> None:
    if not isinstance(result, torch.Tensor):
        raise RemoteValueError(f"{record.name}, step {number} ({op}) gave a "
                               f"{type(result).__name__}, not a tensor")
    # Only dense CPU tensors, as a worker stores: a sparse tensor's index tensors alias its
    # internals, and writing through them corrupts memory.
    if result.layout is not _STRIDED or not result.is_cpu:
        raise RemoteValueError(f"{record.name}, step {number} ({op}) gave a {result.layout} "
                               f"tensor on {result.device}; plans compute with dense CPU tensors")
    values.append(result)


def _step_error(record: PlanRecord, number: int, op: str, error: Exception) -> Exception:
    text = str(error).split("\n", 1)[0][:300]
    message = f"{record.name}, step {number} ({op}): {text}"
    for cls in _KEPT:
        if isinstance(error, cls):
            return cls(message)
    return RuntimeError(f"{type(error).__name__}: {message}")
