"""The notebook's variables that hold something remote: what the dashboard and the side panel
draw on their left (a shared tensor: the name on its shared value's box). Hidden names (IPython's
own, and names starting with "_") are skipped."""
from typing import Any, List, Tuple

from torch import nn

from ..crypto import AdditiveSharingTensor, FixedPrecisionTensor, SharedPointer
from ..multi_pointer import MultiPointerTensor
from ..plans import PointerPlan, PointerProtocol, Protocol
from ..pointers import PointerTensor
from .output_cache import CachedPointer

_KINDS = (PointerTensor, MultiPointerTensor, nn.Module, PointerPlan, PointerProtocol, Protocol,
          AdditiveSharingTensor, FixedPrecisionTensor, SharedPointer)


def user_variables(shell) -> List[Tuple[str, Any]]:
    """(name, value) for each visible variable holding a pointer, a multi-pointer, a module, a
    plan pointer, a protocol or a fixed-precision or shared tensor, in the namespace's order (a
    module without remote parameters, a tensor that is not shared, are dropped later, when the
    board is drawn). A weakly cached pointer (``v = _``) counts as the
    pointer."""
    hidden = getattr(shell, "user_ns_hidden", {})
    found = []
    for name, value in list(shell.user_ns.items()):
        if name[:1] == "_" or name in hidden:
            continue
        if type(value) is CachedPointer:
            value = value._ref()
        # by type, not isinstance: a proxy's __class__ may raise, or make a lazy object load
        if issubclass(type(value), _KINDS):
            found.append((name, value))
    return found
