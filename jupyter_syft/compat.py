"""`import syft as sy` for the original tutorials: `syft` names resolve to jupyter_syft.

Installed only when no other `syft` distribution is importable; if one is, we say so once and
leave it alone.
"""
import importlib
import importlib.util
import sys
import warnings

# The PySyft 0.2 module paths the tutorials import, and what stands in for them.
ALIASES = {
    "syft": "jupyter_syft",
    "syft.exceptions": "jupyter_syft.exceptions",
    "syft.federated": "jupyter_syft.federated",
    "syft.federated.floptimizer": "jupyter_syft.federated.floptimizer",
    "syft.workers": "jupyter_syft.workers",
    "syft.workers.websocket_client": "jupyter_syft.workers.client",
    "syft.workers.websocket_server": "jupyter_syft.workers.server",
}

_warned = False


def _other_syft_installed() -> bool:
    current = sys.modules.get("syft")
    if current is not None:
        return getattr(current, "__name__", "") != "jupyter_syft"
    try:
        return importlib.util.find_spec("syft") is not None
    except (ImportError, ValueError):
        return False


def install_syft_alias() -> bool:
    """Make `import syft` give jupyter_syft. Returns False if a real syft is in the way."""
    global _warned
    if _other_syft_installed():
        if not _warned:
            _warned = True
            warnings.warn(
                "another `syft` package is installed, so `import syft` keeps giving that one; "
                "use `import jupyter_syft as sy` for jupyter_syft",
                stacklevel=3,
            )
        return False
    for alias, target in ALIASES.items():
        sys.modules[alias] = importlib.import_module(target)
        parent, _, leaf = alias.rpartition(".")
        if parent and not hasattr(sys.modules[parent], leaf):  # `import syft.a.b as m` reads it
            setattr(sys.modules[parent], leaf, sys.modules[alias])
    return True


def install_torchvision_stand_in() -> bool:
    """Name jupyter_syft.vision `torchvision` when no torchvision is installed (Part 06)."""
    if "torchvision" in sys.modules or importlib.util.find_spec("torchvision") is not None:
        return False
    vision = importlib.import_module("jupyter_syft.vision")
    sys.modules["torchvision"] = vision
    sys.modules["torchvision.datasets"] = vision.datasets
    sys.modules["torchvision.transforms"] = vision.transforms
    return True


def remove_syft_alias() -> None:
    for alias, target in ALIASES.items():
        module = sys.modules.get(alias)
        if module is not None and module.__name__ == target:
            del sys.modules[alias]
