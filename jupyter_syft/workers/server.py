"""A worker on the network: ``jupyter-syft worker --id bob --port 5555``, or ``sy.serve(bob)`` from
a data owner's notebook (in a background thread; the notebook stays usable).

One thread owns the ZeroMQ ROUTER socket; requests run in a small thread pool, one at a time per
client and in order, so a slow operation of one client does not hold up another's small ones
(torch releases the GIL while it computes). Every client authenticates: with CurveZMQ keys, or
with a token, which is accepted only on loopback (a token over plain TCP elsewhere could be read
on the wire). Each client works in its own namespace (see namespace.py).
"""
import hmac
import ipaddress
import logging
import queue
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Tuple

import torch
import zmq

from .. import codec
from ..exceptions import MalformedMessageError
from . import netwire, persist
from .namespace import AuditLog, ClientNamespace, OwnerData

log = logging.getLogger("jupyter_syft.server")

MAX_MESSAGE_BYTES = 1 << 30  # one request; ZeroMQ drops a connection that sends more
_REPLIES_KEPT = 64  # per client: a request sent again (same id) is answered, not run again


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Client:
    """A client's namespace, the lock that keeps its requests in order, and its recent replies."""

    def __init__(self, namespace: ClientNamespace) -> None:
        self.namespace = namespace
        self.lock = threading.Lock()  # guards replies and running (held only briefly)
        self.run_lock = threading.Lock()  # one request at a time, in order
        self.replies: Dict[int, bytes] = {}
        self.running: set = set()


class WorkerServer:
    def __init__(self, worker_id: Any, host: str = "127.0.0.1", port: int = 0,
                 token: Optional[str] = None, curve_secret_key: Optional[bytes] = None,
                 client_public_keys: Optional[Iterable[bytes]] = None,
                 objects: Optional[Dict[int, torch.Tensor]] = None, private: Iterable[int] = (),
                 threads: int = 4, max_message_bytes: int = MAX_MESSAGE_BYTES,
                 audit: bool = True, store_dir: Optional[str] = None) -> None:
        if curve_secret_key is None and not is_loopback(host):
            raise ValueError(f"serving on {host} needs CurveZMQ keys (a token alone could be read "
                             "on the wire); tokens are accepted on 127.0.0.1 only")
        self.worker_id, self.host, self.port = worker_id, host, port
        self.token = token if token is not None or curve_secret_key is not None else secrets.token_urlsafe(24)
        self.curve_secret_key = curve_secret_key
        self.client_public_keys = None if client_public_keys is None else list(client_public_keys)
        self.owner = OwnerData(objects if objects is not None else {}, set(private))
        self.audit = AuditLog() if audit else None
        self.max_message_bytes = max_message_bytes
        self.store_dir = Path(store_dir) if store_dir is not None else None
        self._clients: Dict[Tuple[str, str], _Client] = {}
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jupyter-syft-op")
        self._outbox: "queue.Queue[list]" = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None

    # --- running -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> "WorkerServer":
        """Serve in a background thread; returns once the socket is bound."""
        self._thread = threading.Thread(target=self._run, name=f"jupyter-syft-server-{self.worker_id}",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def serve_forever(self) -> None:
        self.start()
        while not self._stop.wait(0.5):
            pass
        self._thread.join(5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        context = zmq.Context()
        authenticator = None
        try:
            sock = context.socket(zmq.ROUTER)
            sock.linger = 0
            sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
            sock.router_mandatory = False
            if self.curve_secret_key is not None:
                from zmq.auth.thread import ThreadAuthenticator

                authenticator = ThreadAuthenticator(context, log=log)
                authenticator.start()
                keys = self.client_public_keys
                if keys is None:
                    authenticator.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
                else:
                    authenticator.configure_curve_callback(domain="*", credentials_provider=_KeyList(keys))
                sock.curve_server = True
                sock.curve_secretkey = self.curve_secret_key
                sock.curve_publickey = zmq.curve_public(self.curve_secret_key)
            if self.port:
                sock.bind(f"tcp://{self.host}:{self.port}")
            else:
                self.port = sock.bind_to_random_port(f"tcp://{self.host}")
            wake = context.socket(zmq.PULL)
            wake.linger = 0
            wake_address = f"inproc://jupyter-syft-wake-{id(self)}"
            wake.bind(wake_address)
            self._wake_address = wake_address
            self._context = context
            self._local = threading.local()
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            poller.register(wake, zmq.POLLIN)
        except BaseException as e:  # a taken port, bad keys: reported by start()
            self._error = e
            self._ready.set()
            context.destroy(linger=0)
            return
        log.info("worker %s serving on %s", self.worker_id, self.address)
        self._ready.set()
        try:
            while not self._stop.is_set():
                events = dict(poller.poll(200))
                if sock in events:
                    for _ in range(100):  # a burst, then the replies get their turn
                        try:
                            frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            break
                        try:
                            self._incoming(frames)
                        except Exception:  # the socket's thread must outlive any one request
                            log.exception("a request could not be handled")
                if wake in events:
                    while True:
                        try:
                            wake.recv(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                while True:
                    try:
                        out = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        sock.send_multipart(out, copy=False)
                    except zmq.ZMQError as e:  # the client went away
                        log.info("reply not delivered: %s", e)
        finally:
            sock.close(0)
            wake.close(0)
            if authenticator is not None:
                authenticator.stop()
            context.destroy(linger=0)
            log.info("worker %s stopped", self.worker_id)

    # --- one request -----------------------------------------------------------------------
    def _incoming(self, frames) -> None:
        routing, rest = frames[0], frames[1:]
        peer = _peer(frames[-1])
        try:
            request_id, session, token, body, tensors = netwire.read_request(rest)
        except MalformedMessageError as e:
            log.warning("malformed frames from %s: %s", peer, e)
            return
        user = self._authenticate(frames[-1], token)
        if user is None:
            log.warning("refused an unauthenticated request from %s", peer)
            self._send(routing, request_id, codec.encode_error_reply(
                "PrivateDataError", f"{self.worker_id} refused the request: authentication failed"))
            return
        client = self._client(user, session)
        if client is None:
            log.warning("refused a new session from %s: %d sessions already", peer, self.MAX_SESSIONS_PER_USER)
            self._send(routing, request_id, codec.encode_error_reply(
                "PrivateDataError", f"{self.worker_id} refused a new session: too many open for this client"))
            return
        with client.lock:
            if request_id in client.replies:  # sent again after a reconnect: answered, not re-run
                self._send(routing, request_id, client.replies[request_id])
                return
            if request_id in client.running:
                return
            client.running.add(request_id)
        self._pool.submit(self._serve, client, routing, request_id, body, tensors)

    def _serve(self, client: _Client, routing, request_id: int, body, tensors) -> None:
        with client.run_lock:
            try:
                with codec.provide_frames([t.buffer for t in tensors]), codec.collect_frames() as out:
                    reply = client.namespace.recv_msg(body.bytes)
                reply = (reply, out)
            except BaseException as e:  # recv_msg does not raise; this is a last guard
                reply = (codec.encode_error_reply("RuntimeError", f"the server failed: {type(e).__name__}"), [])
        with client.lock:
            client.running.discard(request_id)
            client.replies[request_id] = reply
            while len(client.replies) > _REPLIES_KEPT:
                client.replies.pop(next(iter(client.replies)))
        self._send(routing, request_id, reply)

    def _send(self, routing, request_id: int, reply) -> None:
        body, tensors = reply if isinstance(reply, tuple) else (reply, [])
        self._outbox.put([routing, *netwire.reply_frames(request_id, body, tensors)])
        sock = getattr(self._local, "wake", None)
        if sock is None:  # one PUSH socket per thread (ZeroMQ sockets are not thread-safe)
            sock = self._local.wake = self._context.socket(zmq.PUSH)
            sock.linger = 0
            sock.connect(self._wake_address)
        sock.send(b"", zmq.NOBLOCK)

    def _authenticate(self, frame, token: Optional[str]) -> Optional[str]:
        if self.curve_secret_key is not None:
            user = _frame_property(frame, "User-Id")
            if user:
                return f"key:{user}"
        if self.token is not None and token is not None and hmac.compare_digest(token, self.token):
            return "token"
        return None

    MAX_SESSIONS_PER_USER = 64

    def _client(self, user: str, session: str) -> Optional[_Client]:
        key = (user, session)
        client = self._clients.get(key)
        if client is None:
            if sum(1 for u, _ in self._clients if u == user) >= self.MAX_SESSIONS_PER_USER:
                return None
            name = f"{user}/{session}"
            directory = persist.client_dir(self.store_dir, name) if self.store_dir is not None else None
            namespace = ClientNamespace(self.worker_id, name, self.owner, self.audit, directory)
            namespace.own_rng = True
            client = self._clients[key] = _Client(namespace)
        return client


class WebsocketServerWorker:
    """PySyft's shape, ``WebsocketServerWorker(hook, host, port, id=..., data=(...)).start()``:
    serves ``data`` (kept under the tensors' ids) until stopped; start() blocks, as it did."""

    def __init__(self, hook=None, host: str = "127.0.0.1", port: int = 8777, id: Any = 0,
                 data: Iterable[torch.Tensor] = (), token: Optional[str] = None, **options) -> None:
        for name in ("log_msgs", "verbose", "loop", "cert_path", "key_path"):
            options.pop(name, None)
        self.id = id
        self.server = WorkerServer(id, host=host, port=port, token=token,
                                   objects={t.id: t for t in data}, **options)

    @property
    def token(self) -> Optional[str]:
        return self.server.token

    def start(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.stop()


class _KeyList:
    """Curve credentials: only these client public keys may connect."""

    def __init__(self, keys) -> None:
        self.keys = {bytes(k) for k in keys}

    def callback(self, domain: str, key: bytes) -> bool:
        return bytes(key) in self.keys


def _frame_property(frame, name: str) -> Optional[str]:
    try:
        return frame.get(name)
    except (zmq.ZMQError, AttributeError, UnicodeDecodeError):
        return None


def _peer(frame) -> str:
    return _frame_property(frame, "Peer-Address") or "an unknown address"
