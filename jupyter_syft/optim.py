"""Optimizers over remote parameters.

torch's own optimizers already work on pointers: every update is a torch call, so it runs on the
parameter's worker and the state it creates (momentum, Adam's moments) lives there too. That path
costs several messages per parameter, and it cannot follow a model that moved. So one step
pre-hook, registered with torch (no patching), does two things before a step:

- it moves each parameter's state to where the parameter is now (worker to worker), so one
  optimizer can serve a model that trains on bob, then on alice;
- for the optimizers listed in ``REMOTE_STEP`` (no closure), it runs the whole step on each
  worker in one message: the worker builds the same optimizer over its own tensors, loads the
  state, steps, and replies with the new state; the local step then runs on an empty copy.

It does nothing until a parameter has been sent somewhere, so local training pays nothing.
"""
import copy
import functools
import inspect
from typing import Any, Dict, List

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from .exceptions import ObjectNotFoundError, PointerFetchedError, WorkerNotFoundError
from .pointers import LIVE, PointerTensor, _scan

# Optimizers a worker may build by name for a remote step; their hyper-parameters are numbers.
REMOTE_STEP = {cls.__name__: cls for cls in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW,
                                             torch.optim.RMSprop, torch.optim.Adagrad)}
# Options a worker always sets itself: the per-parameter path, nothing compiled or captured.
_WORKER_OPTIONS = {"foreach": False, "fused": False, "capturable": False, "differentiable": False}

_handle = None
_serving = False  # True while a worker runs a step it was sent
remote_parameters_seen = False  # set by the first send of a parameter; keeps local steps free


def _where(p: torch.Tensor):
    return p._location if isinstance(p, PointerTensor) and p._state == LIVE else None


def _follow_parameters(optimizer, state: dict, p: torch.Tensor) -> None:
    """Put each state tensor of parameter p where p is."""
    where = _where(p)
    for key, value in list(state.items()):
        if isinstance(value, PointerTensor):
            if value._location is not where:
                try:
                    state[key] = value.get() if where is None else value.move(where)
                except (ObjectNotFoundError, PointerFetchedError, WorkerNotFoundError) as e:
                    raise RuntimeError(
                        f"{type(optimizer).__name__}'s {key!r} for a parameter was kept on "
                        f"{value._location.id}, and it is gone from there ({e}). Start the "
                        "optimizer's state afresh with optimizer.state.clear(), or build a new "
                        "optimizer") from None
        elif (where is not None and isinstance(value, torch.Tensor)
              and value.shape == p.shape):  # per-element state made while p was local
            state[key] = value.send(where)


def _before_step(optimizer, args, kwargs):
    if not remote_parameters_seen or _serving:  # a worker's own step is over local tensors
        return None
    all_remote = True
    for group in optimizer.param_groups:
        params = group["params"]
        remote = [isinstance(p, PointerTensor) for p in params]
        if any(remote):
            for flag in ("foreach", "fused"):
                if group.get(flag):
                    raise ValueError(
                        f"{type(optimizer).__name__}({flag}=True) updates all parameters in one "
                        "call, which cannot run when they live on workers; build it with "
                        f"{flag}=False (the default picks the per-parameter path by itself)")
        all_remote = all_remote and all(remote) and not any(p._may_chain for p in params)
        for p in params:
            state = optimizer.state.get(p)
            if state:
                _follow_parameters(optimizer, state, p)
    if (not all_remote or type(optimizer).__name__ not in REMOTE_STEP
            or REMOTE_STEP[type(optimizer).__name__] is not type(optimizer)
            or len(args) > 1 or kwargs  # a closure must run before the update
            or optimizer._optimizer_step_pre_hooks):  # so must the optimizer's own pre-hooks
        return None  # op by op: slower, same result
    _remote_step(optimizer)
    idle = copy.copy(optimizer)  # the real step, run on no parameters at all
    idle.param_groups = []
    return (idle,), {}


def _remote_step(optimizer) -> None:
    """One message per worker: [optimizer name, [[hyper-parameters, params, states], ...]]."""
    by_worker: Dict[Any, List[list]] = {}
    for group in optimizer.param_groups:
        hyper = {k: v for k, v in group.items() if k != "params" and k not in _WORKER_OPTIONS}
        per_worker: Dict[Any, list] = {}
        for p in group["params"]:
            p.check_live()
            per_worker.setdefault(p._location, []).append(p)
        for location, params in per_worker.items():
            states = [dict(optimizer.state.get(p, {})) for p in params]
            by_worker.setdefault(location, []).append([hyper, params, states])
    for location, groups in by_worker.items():
        owner = groups[0][1][0]._owner
        known: List[torch.Tensor] = []  # every pointer sent, in message order: replies name
        _scan(groups, known, [])        # state tensors updated in place by their position
        new_states = owner.optimizer_step(location, type(optimizer).__name__, groups, known)
        for (_, params, _), group_states in zip(groups, new_states):
            for p, state in zip(params, group_states):
                if state:  # a parameter with no grad keeps no state, as in a local step
                    _keep_step_local(optimizer.state.get(p), state)
                    optimizer.state[p] = state


def _keep_step_local(old: Any, new: dict) -> None:
    """The step count comes back as a number; it stays a local tensor, as torch keeps it (an
    op-by-op step or state_dict() reads it with .item())."""
    count = new.get("step")
    if count is None or isinstance(count, torch.Tensor):
        return
    previous = old.get("step") if old else None
    if isinstance(previous, torch.Tensor) and not isinstance(previous, PointerTensor):
        previous.fill_(count)
        new["step"] = previous
    else:
        new["step"] = torch.tensor(float(count))


def serve_step(worker, fields: list, inputs) -> Any:
    """Worker side of a remote step: build the named optimizer over the worker's own tensors,
    load the state sent with it, step, and describe the new state (tensors stay here)."""
    from .exceptions import MalformedMessageError, OperationNotAllowedError

    if (len(fields) != 2 or type(fields[0]) is not str or type(fields[1]) is not list
            or not fields[1]):
        raise MalformedMessageError("optim_step needs an optimizer name and a list of groups")
    cls = REMOTE_STEP.get(fields[0])
    if cls is None:
        raise OperationNotAllowedError(f"optimizer {fields[0]!r} cannot step on a worker")
    steps, all_params, all_states = [], [], []
    for group in fields[1]:
        if (type(group) is not list or len(group) != 3 or type(group[0]) is not dict
                or type(group[1]) is not list or type(group[2]) is not list
                or len(group[1]) != len(group[2]) or not group[1]):
            raise MalformedMessageError("an optimizer group is [hyper-parameters, params, states]")
        hyper, params, states = group
        for name in hyper:
            if type(name) is not str or name.startswith("_"):
                raise MalformedMessageError(f"bad hyper-parameter name {name!r}")
        for p in params:
            if type(p) is not torch.Tensor or not p.is_leaf or not p.is_floating_point():
                raise MalformedMessageError("an optimizer steps leaf float tensors only")
        for p, s in zip(params, states):
            _check_state(p, s)
        all_params.extend(params)
        all_states.extend(states)
        # Only the optimizer's own arguments count (a group may carry others, like a
        # scheduler's initial_lr); the constructor checks their values.
        accepted = _arguments(cls)
        kwargs = {k: v for k, v in hyper.items() if k in accepted}
        kwargs.update(_forced_options(cls))
        try:
            opt = cls(params, **kwargs)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{fields[0]} refused its hyper-parameters: {e}") from None
        for p, s in zip(params, states):
            opt.state[p] = s
        steps.append((opt, params))
    _check_no_shared_memory(all_params, all_states)
    global _serving
    _serving = True
    try:
        for opt, _ in steps:  # every group was checked before any parameter changes
            opt.step()
    finally:
        _serving = False
    return [[opt.state[p] for p in params] for opt, params in steps]


# State the optimizers in REMOTE_STEP keep per parameter: 'step' is a count, every other entry
# a tensor shaped like the parameter. Checked before the step, so a bad one changes nothing.
_STATE_KEYS = {"step", "momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq",
               "square_avg", "grad_avg", "sum"}


def _check_state(p: torch.Tensor, state: Any) -> None:
    from .exceptions import MalformedMessageError

    if type(state) is not dict:
        raise MalformedMessageError("an optimizer state is a dict of named values")
    for key, value in state.items():
        if key not in _STATE_KEYS:
            raise MalformedMessageError(f"unknown optimizer state {key!r}")
        if key == "step":
            ok = (type(value) in (int, float) or
                  (type(value) is torch.Tensor and value.numel() == 1 and value.is_floating_point()))
        else:  # written in place by the step: its own memory, nothing shared, no overlaps
            ok = value is None or (type(value) is torch.Tensor and value.shape == p.shape
                                   and value.dtype == p.dtype and value.is_contiguous())
        if not ok:
            raise MalformedMessageError(f"optimizer state {key!r} does not fit its parameter")


def _check_no_shared_memory(params: list, states: list) -> None:
    """Parameters and state tensors are all written by a step: none may share memory with
    another (a hostile state aliasing a parameter would change it half way through a step)."""
    from .exceptions import MalformedMessageError

    seen = set()
    for t in [*params, *(v for s in states for v in s.values() if type(v) is torch.Tensor)]:
        if t.numel() == 0:
            continue
        address = t.untyped_storage().data_ptr()
        if address in seen:
            raise MalformedMessageError("optimizer parameters and states must not share memory")
        seen.add(address)


@functools.lru_cache(maxsize=None)
def _arguments(cls) -> frozenset:
    return frozenset(inspect.signature(cls.__init__).parameters) - {"self", "params"}


@functools.lru_cache(maxsize=None)
def _forced_options(cls) -> dict:
    """The options of _WORKER_OPTIONS that this optimizer class accepts."""
    return {k: v for k, v in _WORKER_OPTIONS.items() if k in _arguments(cls)}


def install() -> None:
    global _handle
    if _handle is None:
        _handle = register_optimizer_step_pre_hook(_before_step)


def remove() -> None:
    global _handle
    if _handle is not None:
        _handle.remove()
        _handle = None
