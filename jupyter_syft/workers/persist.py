"""``jupyter-syft worker --store DIR``: a client's objects kept on disk, so a server that is killed
and started again loses nothing it had acknowledged.

Each object is one file, written (to a temporary name, then renamed) before the reply that
acknowledges it leaves: tensors as safetensors (data, grad, requires_grad and tags in its
metadata), plans and protocols in their checked wire form. Reading them back goes through the
same checks as any message. Durable against the process dying, not against the machine losing
power (no fsync).
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Set, Tuple

import torch

from .. import tags


def client_dir(root: Path, client: str) -> Path:
    return root / hashlib.sha256(client.encode()).hexdigest()[:32]


def save(directory: Path, obj_id: int, obj: Any, private: bool) -> None:
    from ..plans.protocol import StoredProtocol
    from ..plans.record import PlanRecord

    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, torch.Tensor):
        from safetensors.torch import save as to_bytes

        tensors = {"data": obj.detach().contiguous()}
        if obj.requires_grad and obj.is_leaf and obj.grad is not None:
            tensors["grad"] = obj.grad.detach().contiguous()
        meta = {"requires_grad": json.dumps(bool(obj.requires_grad)), "tags": json.dumps(tags.tags_of(obj)),
                "description": json.dumps(tags.description_of(obj)), "private": json.dumps(private)}
        data, suffix = to_bytes(tensors, metadata=meta), ".safetensors"
    elif isinstance(obj, PlanRecord):
        data, suffix = obj.to_bytes(), ".plan"
    elif isinstance(obj, StoredProtocol):
        data, suffix = obj.to_wire(), ".protocol"
    else:
        return
    target = directory / f"{obj_id}{suffix}"
    temporary = directory / f".{obj_id}{suffix}.tmp"
    temporary.write_bytes(data)
    os.replace(temporary, target)


def remove(directory: Path, ids: Iterable[int]) -> None:
    for obj_id in ids:
        for suffix in (".safetensors", ".plan", ".protocol"):
            try:
                (directory / f"{obj_id}{suffix}").unlink()
            except FileNotFoundError:
                pass


def load(directory: Path) -> Tuple[Dict[int, Any], Set[int]]:
    """The objects kept in directory, by id, and which of them are private."""
    from safetensors.torch import load as from_bytes

    from ..plans.protocol import read_protocol
    from ..plans.validate import read_plan

    objects: Dict[int, Any] = {}
    private: Set[int] = set()
    if not directory.is_dir():
        return objects, private
    for path in sorted(directory.iterdir(), key=lambda p: p.stat().st_mtime):
        stem, suffix = path.stem, path.suffix
        if not stem.isdigit():
            continue
        obj_id, data = int(stem), path.read_bytes()
        if suffix == ".safetensors":
            tensors = from_bytes(data)
            meta = _metadata(data)
            tensor = tensors["data"]
            if json.loads(meta.get("requires_grad", "false")) and tensor.is_floating_point():
                tensor.requires_grad_(True)
                if "grad" in tensors:
                    tensor.grad = tensors["grad"]
            labels = json.loads(meta.get("tags", "[]"))
            description = json.loads(meta.get("description", "null"))
            if labels or description is not None:
                tags.set_tags(tensor, labels, description)
            if json.loads(meta.get("private", "false")):
                private.add(obj_id)
            objects[obj_id] = tensor
        elif suffix == ".plan":
            objects[obj_id] = read_plan(data)
        elif suffix == ".protocol":
            objects[obj_id] = read_protocol(data)
    return objects, private


def _metadata(data: bytes) -> Dict[str, str]:
    # safetensors: an 8-byte little-endian header length, then a JSON header
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    meta = header.get("__metadata__", {})
    return meta if isinstance(meta, dict) else {}
