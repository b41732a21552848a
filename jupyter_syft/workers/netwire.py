"""The frames a network worker and its clients exchange over ZeroMQ.

A request is ``[MAGIC, header, body, *tensor frames]`` where header is msgpack ``[request id, session id, token]``
and body is exactly the bytes a virtual worker's ``recv_msg`` takes. A reply is
``[MAGIC, header, body, *tensor frames]`` with header ``[request id]`` and body the worker's
reply bytes. Large tensors travel as frames of their own (codec.collect_frames). The
server's ROUTER socket adds the connection's routing id in front. Nothing here is unpickled.
"""
from typing import Any, List, Optional, Sequence, Tuple

import msgpack

from ..codec import MAX_FRAMES
from ..exceptions import MalformedMessageError

MAGIC = b"JSYFT1"
MAX_SESSION_CHARS = 64
MAX_TOKEN_CHARS = 256


def request_frames(request_id: int, session: str, token: Optional[str], body: bytes,
                   tensors: Sequence[Any] = ()) -> List[Any]:
    return [MAGIC, msgpack.packb([request_id, session, token]), body, *tensors]


def reply_frames(request_id: int, body: bytes, tensors: Sequence[Any] = ()) -> List[Any]:
    return [MAGIC, msgpack.packb([request_id]), body, *tensors]


def read_request(frames: List[Any]) -> Tuple[int, str, Optional[str], Any, List[Any]]:
    """frames without the routing id -> (request id, session, token, body, tensor frames)."""
    if len(frames) < 3 or len(frames) > 3 + MAX_FRAMES or bytes(frames[0]) != MAGIC:
        raise MalformedMessageError("a request is magic, header, body, then tensor frames")
    try:
        header = msgpack.unpackb(frames[1], raw=False)
    except (msgpack.UnpackException, ValueError, TypeError):
        raise MalformedMessageError("a request's header is not msgpack") from None
    if (type(header) is not list or len(header) != 3 or type(header[0]) is not int
            or type(header[1]) is not str or not 0 < len(header[1]) <= MAX_SESSION_CHARS
            or not (header[2] is None or (type(header[2]) is str and len(header[2]) <= MAX_TOKEN_CHARS))):
        raise MalformedMessageError("a request's header is [request id, session, token]")
    return header[0], header[1], header[2], frames[2], list(frames[3:])


def read_reply(frames: List[Any]) -> Tuple[int, Any, List[Any]]:
    if len(frames) < 3 or len(frames) > 3 + MAX_FRAMES or bytes(frames[0]) != MAGIC:
        raise MalformedMessageError("a reply is magic, header, body, then tensor frames")
    try:
        header = msgpack.unpackb(frames[1], raw=False)
    except (msgpack.UnpackException, ValueError, TypeError):
        raise MalformedMessageError("a reply's header is not msgpack") from None
    if type(header) is not list or len(header) != 1 or type(header[0]) is not int:
        raise MalformedMessageError("a reply's header is [request id]")
    return header[0], frames[2], list(frames[3:])
