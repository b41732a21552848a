"""TorchHook: gives torch.Tensor and nn.Module the few methods the PySyft 0.2 API needs
(send, get, id; module send/get/move/copy/location/owner), and one optimizer step hook.

No torch function is wrapped: remote work happens in PointerTensor.__torch_function__, so plain
local tensors run exactly as fast as before the hook.
"""
import warnings

import torch
from torch import nn

from . import optim as _optim, tags
from .crypto import MODULE_API as _CRYPTO_MODULE_API, OPTIMIZER_API, TENSOR_API as _CRYPTO_TENSOR_API
from .federated.dataset import federate
from .ids import new_id
from .multi_pointer import MultiPointerTensor
from .nn import MODULE_API, ParameterPointer
from .workers import get_worker


def _tensor_id(self: torch.Tensor) -> int:
    obj_id = self.__dict__.get("_syft_id")
    if obj_id is None:
        obj_id = self.__dict__["_syft_id"] = new_id()
    return obj_id


def _set_tensor_id(self: torch.Tensor, value: int) -> None:
    self.__dict__["_syft_id"] = value


def _send(self: torch.Tensor, *locations, garbage_collect_data: bool = True):
    """Send a copy of this tensor to a worker; returns a pointer to it. Sent to several
    workers, it returns a MultiPointerTensor holding one pointer per worker."""
    import jupyter_syft

    if not locations:
        raise TypeError("send() needs a worker to send the tensor to, like x.send(bob)")
    workers = [get_worker(w) for w in locations]
    if len(workers) > 1:
        return MultiPointerTensor([_send(self, w, garbage_collect_data=garbage_collect_data)
                                   for w in workers])
    ptr = jupyter_syft.local_worker.send_tensor(self, workers[0], garbage_collect_data)
    if isinstance(self, nn.Parameter):
        ptr.__class__ = ParameterPointer  # .get() gives a Parameter back
        _optim.remote_parameters_seen = True
    return ptr


def _get(self: torch.Tensor):
    raise RuntimeError(
        ".get() brings home the tensor a pointer points to, but this tensor is already local "
        "(was .get() called twice?)"
    )


# Attribute name -> what TorchHook puts on torch.Tensor. PointerTensor overrides get/send/id.
_TENSOR_API = {
    "send": _send,
    "get": _get,
    "id": property(_tensor_id, _set_tensor_id),
    "tag": tags.tag,
    "describe": tags.describe,
    "tags": property(tags.tags_of),
    "description": property(tags.description_of),
    **_CRYPTO_TENSOR_API,
}


_DATASET_API = {"federate": federate}


_APIS = ((torch.Tensor, _TENSOR_API), (nn.Module, {**MODULE_API, **_CRYPTO_MODULE_API}),
         (torch.utils.data.Dataset, _DATASET_API), (torch.optim.Optimizer, OPTIMIZER_API))


def install_tensor_api() -> None:
    for cls, api in _APIS:
        for name, value in api.items():
            if name not in cls.__dict__:
                setattr(cls, name, value)
    _optim.install()


def remove_tensor_api() -> None:
    for cls, api in _APIS:
        for name, value in api.items():
            if cls.__dict__.get(name) is value:
                delattr(cls, name)
    _optim.remove()


class TorchHook:
    """``hook = sy.TorchHook(torch)``: installs the tensor API; prints nothing."""

    def __init__(self, torch_module=torch, local_worker=None, is_client: bool = True,
                 verbose: bool = False, seed=None) -> None:
        import jupyter_syft

        if torch_module is not torch:
            raise TypeError("TorchHook expects the torch module: sy.TorchHook(torch)")
        install_tensor_api()
        # A tensor fetched with .get() keeps requires_grad (PySyft printed it so), and current
        # torch warns when such a tensor becomes a Python number (`float(loss)` in Part 07).
        warnings.filterwarnings("ignore", category=UserWarning,
                                message="Converting a tensor with requires_grad=True to a scalar")
        self.torch = torch_module
        if local_worker is not None:
            jupyter_syft.local_worker = get_worker(local_worker)
        self.local_worker = jupyter_syft.local_worker
        self.local_worker.hook = self
        jupyter_syft.hook = self
        jupyter_syft.torch = torch_module

