"""TorchHook: gives torch.Tensor the few methods the PySyft 0.2 API needs, and nothing else.

No torch function is wrapped: remote work happens in PointerTensor.__torch_function__, so plain
local tensors run exactly as fast as before the hook.
"""
import torch

from .ids import new_id
from .pointers import PointerTensor
from .workers import get_worker


def _tensor_id(self: torch.Tensor) -> int:
    obj_id = self.__dict__.get("_syft_id")
    if obj_id is None:
        obj_id = self.__dict__["_syft_id"] = new_id()
    return obj_id


def _set_tensor_id(self: torch.Tensor, value: int) -> None:
    self.__dict__["_syft_id"] = value


def _send(self: torch.Tensor, *locations, garbage_collect_data: bool = True) -> PointerTensor:
    """Send a copy of this tensor to a worker; returns a pointer to it."""
    if len(locations) != 1:
        if not locations:
            raise TypeError("send() needs a worker to send the tensor to, like x.send(bob)")
        raise NotImplementedError("sending to several workers at once is not supported yet")
    import jupyter_syft

    location = get_worker(locations[0])
    return jupyter_syft.local_worker.send_tensor(self, location, garbage_collect_data)


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
}


def install_tensor_api() -> None:
    for name, value in _TENSOR_API.items():
        if name not in torch.Tensor.__dict__:
            setattr(torch.Tensor, name, value)


def remove_tensor_api() -> None:
    for name, value in _TENSOR_API.items():
        if torch.Tensor.__dict__.get(name) is value:
            delattr(torch.Tensor, name)


class TorchHook:
    """``hook = sy.TorchHook(torch)``: installs the tensor API; prints nothing."""

    def __init__(self, torch_module=torch, local_worker=None, is_client: bool = True,
                 verbose: bool = False, seed=None) -> None:
        import jupyter_syft

        if torch_module is not torch:
            raise TypeError("TorchHook expects the torch module: sy.TorchHook(torch)")
        install_tensor_api()
        self.torch = torch_module
        if local_worker is not None:
            jupyter_syft.local_worker = get_worker(local_worker)
        self.local_worker = jupyter_syft.local_worker
        self.local_worker.hook = self
        jupyter_syft.hook = self
        jupyter_syft.torch = torch_module

    def __repr__(self) -> str:
        return f"<TorchHook local_worker:{self.local_worker.id}>"
