"""Optimizers over remote parameters.

torch's own optimizers already work on pointers: each update is a torch call, so it runs on the
parameter's worker, and state they create (momentum, Adam's moments) is created there too. What
they cannot do alone is follow a model that moved: an optimizer used for a model on bob, then on
alice, holds state on bob. One step pre-hook, registered with torch (not a patch), moves each
parameter's state to where the parameter is before the step runs. It does nothing until a
parameter has been sent somewhere.
"""
from typing import Optional

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from .pointers import LIVE, PointerTensor

_handle = None
remote_parameters_seen = False  # set by the first send of a parameter; keeps local steps free


def _where(p: torch.Tensor):
    return p._location if isinstance(p, PointerTensor) and p._state == LIVE else None


def _check_group(group: dict, optimizer) -> Optional[bool]:
    params = group["params"]
    if not any(isinstance(p, PointerTensor) for p in params):
        return False
    for flag in ("foreach", "fused"):
        if group.get(flag):
            raise ValueError(
                f"{type(optimizer).__name__}({flag}=True) updates all parameters in one call, "
                "which cannot run when they live on workers; build it with "
                f"{flag}=False (the default picks the per-parameter path by itself)")
    return True


def _follow_parameters(optimizer, args, kwargs) -> None:
    if not remote_parameters_seen:
        return
    for group in optimizer.param_groups:
        if not _check_group(group, optimizer) and not optimizer.state:
            continue
        for p in group["params"]:
            state = optimizer.state.get(p)
            if not state:
                continue
            where = _where(p)
            for key, value in list(state.items()):
                if isinstance(value, PointerTensor):
                    if value._location is where:
                        continue
                    state[key] = value.get() if where is None else value.move(where)
                elif (where is not None and isinstance(value, torch.Tensor)
                      and value.shape == p.shape):  # per-element state made while p was local
                    state[key] = value.send(where)


def install() -> None:
    global _handle
    if _handle is None:
        _handle = register_optimizer_step_pre_hook(_follow_parameters)


def remove() -> None:
    global _handle
    if _handle is not None:
        _handle.remove()
        _handle = None
