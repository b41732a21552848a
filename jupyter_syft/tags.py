"""Tags and descriptions (Part 05): ``x.tag("#fun", "#boston").describe("...")``.

Only tensors that are tagged or described change: they become a ``TaggedTensor``, a subclass
whose ``__repr__`` adds PySyft's ``Tags:``, ``Description:`` and ``Shape:`` lines and whose
operations return plain tensors (as PySyft's did: tags do not spread to results). Every other
tensor is untouched. Tags travel with ``send``; workers find objects by them (``search``).
"""
from typing import Any, Iterable, List, Optional

import torch

MAX_TAGS = 64
MAX_TAG_CHARS = 256
MAX_DESCRIPTION_CHARS = 10_000


class TaggedTensor(torch.Tensor):
    """A local tensor with tags or a description; it computes exactly as a plain tensor."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __repr__(self, *, tensor_contents=None) -> str:
        return _as_plain(self, torch.Tensor.__repr__) + tag_lines(self, tensor_first=True)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return _as_plain(self, lambda t: torch.Tensor.__format__(t, spec))

    def __deepcopy__(self, memo):
        copy = _as_plain(self, lambda t: torch.Tensor.__deepcopy__(t, memo))  # keeps __dict__
        copy.__class__ = TaggedTensor
        return copy

    def __reduce_ex__(self, protocol):
        # Saved (pickle, torch.save) as a plain tensor: readable anywhere, by torch.load's
        # default weights_only too; the tags are not saved.
        return _as_plain(self, lambda t: torch.Tensor.__reduce_ex__(t, protocol))


def _as_plain(t: "TaggedTensor", action):
    """Run action on t seen as a plain tensor (printing it as `tensor(...)`, with its own
    requires_grad), then give it its class back."""
    t.__class__ = torch.Tensor
    try:
        return action(t)
    finally:
        t.__class__ = TaggedTensor


def tags_of(obj: Any) -> List[str]:
    return list(obj.__dict__.get("_syft_tags", ())) if hasattr(obj, "__dict__") else []


def description_of(obj: Any) -> Optional[str]:
    return obj.__dict__.get("_syft_description") if hasattr(obj, "__dict__") else None


def tag_lines(obj: Any, tensor_first: bool) -> str:
    """The lines PySyft printed under a tagged tensor (Tags, Description, Shape) or a tagged
    pointer (Tags, Shape, Description)."""
    tags, description = tags_of(obj), description_of(obj)
    text = ""
    if tags:
        text += "\n\tTags: " + "".join(f"{t} " for t in tags)
    shape = f"\n\tShape: {obj.shape}" if tags else ""
    described = f"\n\tDescription: {description.splitlines()[0] if description else ''}..." if description else ""
    return text + (described + shape if tensor_first else shape + described)


def _what(value: Any) -> str:
    """A bounded description of a bad value (an error never echoes input at length)."""
    if isinstance(value, (str, bytes)):
        return f"a {type(value).__name__} of {len(value)} characters" if len(value) > 40 else repr(value)
    return f"a {type(value).__name__}"


def check_tags(tags: Iterable[Any]) -> List[str]:
    tags = list(tags)
    if len(tags) > MAX_TAGS:  # before looking at any: a hostile list may be long
        raise ValueError(f"a tensor takes at most {MAX_TAGS} tags, not {len(tags)}")
    found: List[str] = []
    for t in tags:
        if type(t) is not str or not t or len(t) > MAX_TAG_CHARS:
            raise TypeError(f"a tag is a non-empty string of at most {MAX_TAG_CHARS} characters, "
                            f"not {_what(t)}")
        if t not in found:
            found.append(t)
    return found


def check_description(text: Any) -> str:
    if type(text) is not str or len(text) > MAX_DESCRIPTION_CHARS:
        raise TypeError(f"a description is a string of at most {MAX_DESCRIPTION_CHARS} "
                        f"characters, not {type(text).__name__}")
    return text


def _mark(t: torch.Tensor) -> None:
    if type(t) is torch.Tensor:  # a plain tensor gets the repr with tags; subclasses keep theirs
        t.__class__ = TaggedTensor


def set_tags(t: Any, tags: Iterable[str], description: Optional[str]) -> None:
    """Put tags and a description on a tensor or pointer (checked first)."""
    tags = check_tags(tags)
    if description is not None:
        check_description(description)
    if tags:
        t.__dict__["_syft_tags"] = check_tags([*tags_of(t), *tags])
    if description is not None:
        t.__dict__["_syft_description"] = description
    if isinstance(t, torch.Tensor) and (tags or description is not None):
        _mark(t)


def tag(self: torch.Tensor, *tags: str) -> torch.Tensor:
    """Add tags (kept in order, each once); returns the tensor, so calls chain."""
    if self.__dict__.get("_location") is not None:
        raise ValueError("tag the tensor before sending it: its tags travel with it")
    set_tags(self, tags, None)
    return self


def describe(self: torch.Tensor, description: str) -> torch.Tensor:
    if self.__dict__.get("_location") is not None:
        raise ValueError("describe the tensor before sending it: its description travels with it")
    set_tags(self, (), description)
    return self


def matches(obj_id: int, obj: Any, query: list) -> bool:
    """PySyft's search: every item must be a tag of the object (an AND)."""
    tags = tags_of(obj)
    return bool(tags) and all(item in tags for item in query)


def check_query(query: Any) -> list:
    """A search query: a tag, an id, or a list of them."""
    if isinstance(query, (str, int)) and not isinstance(query, bool):
        query = [query]
    if not isinstance(query, (list, tuple)) or len(query) > MAX_TAGS:
        raise TypeError("search takes a tag, an id, or a list of them, like bob.search(['#boston'])")
    for item in query:
        if not ((type(item) is str and len(item) <= MAX_TAG_CHARS) or type(item) is int):
            raise TypeError(f"a search term is a tag (a string) or an object id, not {_what(item)}")
    return list(query)


def search(objects: dict, query: Any) -> List[tuple]:
    """(id, object) for every object matching the query, in the order the worker got them.
    An item that is an object's id (or its text) gives just that object; an empty query gives
    every tagged object."""
    query = check_query(query)
    for item in query:  # ids are ints, as PySyft compared them (a string is always a tag)
        if type(item) is int and item in objects:
            return [(item, objects[item])]
    return [(i, obj) for i, obj in objects.items() if tags_of(obj) and matches(i, obj, query)]
