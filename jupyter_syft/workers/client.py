"""NetworkWorker: a worker served by another process or machine, used exactly as a virtual worker.

    bob = sy.NetworkWorker(hook, "127.0.0.1", 5555, id="bob", token="...")
    x_ptr = torch.tensor([1, 2, 3]).send(bob)

Pointers reach it through the same bytes as a virtual worker: its ``recv_msg`` carries them to
the server over ZeroMQ and returns the reply, so the codec, the allow-list, the errors and the
pointer machinery are the ones every other worker uses. A request that gets no answer within
``timeout`` seconds raises WorkerUnreachableError; the request is never sent again (it may have
run), and the next one reconnects.
"""
import secrets
import threading
import time
from typing import Any, Optional, Tuple

import zmq

from ..exceptions import MalformedMessageError, WorkerUnreachableError
from . import netwire
from .base import BaseWorker


class NetworkWorker(BaseWorker):
    def __init__(self, hook=None, host: str = "127.0.0.1", port: int = 5555, id: Any = None,
                 token: Optional[str] = None, server_public_key: Optional[bytes] = None,
                 client_keys: Optional[Tuple[bytes, bytes]] = None, timeout: float = 30.0,
                 secure: bool = False, is_client_worker: bool = False, verbose: bool = False,
                 log_msgs: bool = False) -> None:
        if id is None:
            raise TypeError("a NetworkWorker needs the id its server was started with, e.g. id='bob'")
        super().__init__(id, is_client_worker=False)
        self.hook, self.host, self.port = hook, host, port
        self.token, self.timeout = token, timeout
        self.server_public_key = server_public_key
        self.client_keys = client_keys if client_keys is not None or server_public_key is None \
            else zmq.curve_keypair()
        self._session = secrets.token_hex(8)  # the server keeps this session's objects apart
        self._next_request = 0
        self._lock = threading.Lock()
        self._socket = None
        self._wait_ms = 0
        self.uses_frames = True

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def __repr__(self) -> str:  # no remote call: a repr must not hang on a dead server
        return f"<{type(self).__name__} id:{self.id} {self.address}>"

    # --- the transport: what a caller's request to this worker goes through ---------------------
    def recv_msg(self, data: bytes) -> bytes:
        with self._lock:
            body, frames = self._round_trip(data, [])
        if frames:
            raise MalformedMessageError("a reply with tensor frames to a request without")
        return body

    def recv_frames(self, data: bytes, frames) -> tuple:
        """A request whose large tensors are extra frames; (reply body, reply frames)."""
        with self._lock:
            return self._round_trip(data, frames)

    def _connect(self):
        if self._socket is None:
            sock = zmq.Context.instance().socket(zmq.DEALER)
            sock.linger = 0
            # A blocking receive that gives up after the timeout (cheaper than polling first).
            sock.rcvtimeo = self._wait_ms = _milliseconds(self.timeout)
            if self.server_public_key is not None:
                public, secret = self.client_keys
                sock.curve_serverkey = self.server_public_key
                sock.curve_publickey, sock.curve_secretkey = public, secret
            sock.connect(self.address)
            self._socket = sock
        return self._socket

    def _reset(self) -> None:
        """Drop the connection: a late reply to a request we gave up on must not be read as the
        answer to the next one."""
        if self._socket is not None:
            self._socket.close(0)
            self._socket = None

    def _round_trip(self, data: bytes, tensors) -> tuple:
        sock = self._connect()
        self._next_request += 1
        request_id = self._next_request
        try:
            wait = _milliseconds(self.timeout)
            if wait != self._wait_ms:  # the timeout was changed, or shortened by a stray reply
                sock.rcvtimeo = self._wait_ms = wait
            deadline = time.monotonic() + self.timeout
            sock.send_multipart(netwire.request_frames(request_id, self._session, self.token, data, tensors),
                                copy=False)
            while True:
                try:
                    frames = sock.recv_multipart(copy=False)
                except zmq.Again:
                    self._reset()
                    raise WorkerUnreachableError(
                        f"{self.id} at {self.address} did not answer within {self.timeout:g} s; the "
                        "request may or may not have run there, and is not sent again") from None
                answered, body, reply_tensors = netwire.read_reply(frames)
                if answered == request_id:
                    return body.bytes, [f.buffer for f in reply_tensors]
                # a reply to another request: wait only for what is left of the timeout
                sock.rcvtimeo = self._wait_ms = _milliseconds(deadline - time.monotonic())
        except zmq.ZMQError as e:
            self._reset()
            raise WorkerUnreachableError(f"{self.id} at {self.address}: {e}") from None

    @property
    def _objects(self):
        """What this client holds on the server, by id, as a dict (small tensors with their
        values, as PySyft printed `bob._objects`; others described). One request."""
        from ..store import ObjectsDict
        from .base import collect_garbage

        collect_garbage(self)
        import jupyter_syft

        rows = jupyter_syft.local_worker._request(self, "summary", [])
        objects = ObjectsDict()
        objects.worker_id = self.id
        for row in rows if type(rows) is list else ():
            if type(row) is list and len(row) == 6 and type(row[0]) is int:
                obj_id, value, dtype, shape, requires_grad, private = row
                objects[obj_id] = value if value is not None else RemoteObject(dtype, shape, private is True)
        return objects

    def close(self) -> None:
        self._reset()

    def search(self, query: Any):
        """``bob.search(...)`` on a network worker: pointers to what it holds (PySyft's
        websocket client searched remotely too)."""
        import jupyter_syft

        return jupyter_syft.local_worker.request_search(query, location=self)


# PySyft's name (`from syft.workers.websocket_client import WebsocketClientWorker`); the transport
# is ZeroMQ, and a token (or CurveZMQ keys) is needed.
WebsocketClientWorker = NetworkWorker


def _milliseconds(seconds: float) -> int:
    """A timeout for ZeroMQ: whole milliseconds, at least 1; -1 (no limit) for infinity."""
    return -1 if seconds == float("inf") else max(1, int(seconds * 1000))


class RemoteObject:
    """An object a network worker holds, as its summary describes it (no values)."""

    __slots__ = ("dtype", "shape", "private")

    def __init__(self, dtype: Any, shape: Any, private: bool) -> None:
        self.dtype, self.shape, self.private = dtype, shape, private

    def __repr__(self) -> str:
        what = f"{str(self.dtype).replace('torch.', '')} {list(self.shape)}" if self.shape is not None else str(self.dtype)
        return f"<{what}{', private' if self.private else ''}>"
