"""Metadata of workers and pointers, as plain dicts: all a view ever holds (no tensors, no pointers)."""
import itertools
from typing import Any, Dict

import torch

PAGE_SIZE = 50  # rows a worker view shows; a worker with 100,000 objects renders its first page
PREVIEW_CHARS = 48


def _first_values(t: torch.Tensor, k: int) -> list:
    """The first k values in row-major order, gathered by index: never a copy of the whole
    tensor (flatten() would copy an expanded one, which can be far larger than its storage)."""
    t = t.detach()
    if t.is_contiguous():
        return t.view(-1)[:k].tolist()
    index = torch.unravel_index(torch.arange(min(k, t.numel())), t.shape)
    return t[index].tolist()


def _preview(t: Any) -> str:
    if not isinstance(t, torch.Tensor):
        return type(t).__name__
    try:
        values = _first_values(t, 8) if t.numel() else []
    except Exception:  # a tensor with no readable data (meta, ...): say so, never fail the view
        return "(no data)"
    text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values)
    text = f"[{text}{', …' if t.numel() > 8 else ''}]"
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def object_row(obj_id: int, t: Any) -> Dict[str, Any]:
    is_tensor = isinstance(t, torch.Tensor)
    return {
        "id": obj_id,
        "dtype": str(t.dtype).replace("torch.", "") if is_tensor else type(t).__name__,
        "shape": list(t.shape) if is_tensor else [],
        "requires_grad": bool(is_tensor and t.requires_grad),
        "grad": bool(is_tensor and t.is_leaf and t.grad is not None),
        "preview": _preview(t),
        "tags": sorted(str(tag) for tag in (getattr(t, "tags", None) or ())),
    }


def worker_snapshot(worker_id: Any, objects: Dict[int, Any], limit: int = PAGE_SIZE) -> Dict[str, Any]:
    """The first `limit` objects of a worker in insertion order, and how many there are."""
    rows = [object_row(i, t) for i, t in itertools.islice(objects.items(), limit)]
    return {"worker_id": str(worker_id), "count": len(objects), "rows": rows, "gone": False}


def gone_worker_snapshot(worker_id: Any) -> Dict[str, Any]:
    return {"worker_id": str(worker_id), "count": 0, "rows": [], "gone": True}


def pointer_snapshot(ptr) -> Dict[str, Any]:
    return {
        "id": ptr._id,
        "owner": str(ptr._owner.id),
        "location": str(ptr._location.id),
        "id_at_location": ptr._id_at_location,
        "shape": list(ptr.shape),
        "dtype": str(ptr.dtype).replace("torch.", ""),
        "state": ptr._state,
    }
