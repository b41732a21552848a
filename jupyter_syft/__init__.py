"""jupyter_syft: PySyft 0.2's remote tensors (hook, virtual workers, pointers) on current PyTorch.

    import torch
    import jupyter_syft as sy          # the original `import syft as sy` works too, after this
    hook = sy.TorchHook(torch)
    bob = sy.VirtualWorker(hook, id="bob")
    x_ptr = torch.tensor([1, 2, 3, 4, 5]).send(bob)
"""
from . import exceptions
from .exceptions import (CannotRequestObjectAttribute, MalformedMessageError, ObjectNotFoundError,
                         OperationNotAllowedError, PointerDeletedError, PointerFetchedError,
                         RemoteValueError, TensorsNotCollocatedException, UnsupportedTypeError,
                         WorkerNotFoundError)
from .torch_hook import TorchHook
from .pointers import PointerTensor
from .multi_pointer import MultiPointerTensor
from .nn import ParameterPointer
from .grid import PrivateGridNetwork
from .federated.dataset import BaseDataset, FederatedDataset
from .federated.dataloader import FederatedDataLoader
from .sandbox import create_sandbox
from .workers import BaseWorker, NetworkWorker, VirtualWorker, all_workers, get_worker, remove_worker
from .plans import Plan, PointerPlan, PointerProtocol, Protocol, func2plan

__version__ = "0.1.0"

# The worker that owns this process's pointers; "me", as in PySyft. It stores nothing itself.
local_worker = VirtualWorker(None, id="me", is_client_worker=True)
hook = None  # set by TorchHook

from . import compat  # noqa: E402  (needs the names above)

compat.install_syft_alias()

__all__ = [
    "TorchHook", "VirtualWorker", "BaseWorker", "PointerTensor", "get_worker", "all_workers",
    "remove_worker", "local_worker",
    "hook", "exceptions", "TensorsNotCollocatedException", "ObjectNotFoundError",
    "PointerFetchedError", "PointerDeletedError", "CannotRequestObjectAttribute",
    "MultiPointerTensor", "ParameterPointer", "PrivateGridNetwork", "BaseDataset",
    "FederatedDataset", "FederatedDataLoader", "create_sandbox", "RemoteValueError", "OperationNotAllowedError",
    "MalformedMessageError", "UnsupportedTypeError", "WorkerNotFoundError",
    "Plan", "PointerPlan", "func2plan", "Protocol", "PointerProtocol", "NetworkWorker",
    "WebsocketClientWorker", "serve",
]

# PySyft's name for a client of a worker on the network.
WebsocketClientWorker = NetworkWorker


def serve(worker, host: str = "127.0.0.1", port: int = 0, token=None, private=(), **options):
    """Serve a data owner's worker (its objects, read-only to clients) from this process, in a
    background thread; returns the running server (``.address``, ``.token``, ``.audit``,
    ``.stop()``). ``private``: tensors (or ids) of the worker that may compute, never leave."""
    from .workers.server import WorkerServer

    objects = worker._store.objects
    private_ids = set()
    for item in private:
        matches = [i for i, obj in objects.items() if obj is item] if not isinstance(item, int) else [item]
        if not matches:
            raise ValueError("a private tensor must be one that the worker holds")
        private_ids.update(matches)
    return WorkerServer(worker.id, host=host, port=port, token=token, objects=objects,
                        private=private_ids, **options).start()


def load_ipython_extension(shell) -> None:
    """`%load_ext jupyter_syft` (imports IPython and ipywidgets only now)."""
    from .ipython.extension import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell) -> None:
    from .ipython.extension import unload_ipython_extension as unload

    unload(shell)
