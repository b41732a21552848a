"""A worker on the network: ``jupyter-syft worker --id bob --port 5555``, or ``sy.serve(bob)`` from
a data owner's notebook (in a background thread; the notebook stays usable).

One thread at a time owns the ZeroMQ ROUTER socket. It runs a request itself when the request's
client has no other one in flight (no hand-off between threads: a small op costs one network
round trip and the op); a watchdog hands the socket to a new thread when a request has kept it
for more than TAKE_OVER_AFTER seconds, and the slow request's thread posts its reply and ends.
A client's further requests, sent while one of its own still runs, wait in a small thread pool.
So requests run one at a time per client and in order, and a slow operation of one client does
not hold up another's small ones (torch releases the GIL while it computes). Every client
authenticates: with CurveZMQ keys, or with a token, which is accepted only on loopback (a token
over plain TCP elsewhere could be read on the wire). Each client works in its own namespace (see
namespace.py).
"""
import collections
import hmac
import ipaddress
import logging
import os
import secrets
import threading
import time
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
_REPLIES_KEPT = 64  # per client: a request sent again (same id) is answered, not run again;
# a reply with tensor frames (a large tensor) only until the client's next reply, so that a get
# does not keep the tensor's memory alive on the server for 64 more requests
TAKE_OVER_AFTER = 0.002  # s: a request that keeps the socket's thread longer gets the socket taken
_WATCHDOG_NAPS = 50  # checks without any request before the watchdog sleeps until the next one


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
        self.framed: Optional[int] = None  # the kept reply with tensor frames, if any


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
        self._threads = threads  # also: at most this many requests keep running after a take-over
        self._outbox: "collections.deque[list]" = collections.deque()  # replies other threads post
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._closed = threading.Event()  # the socket is closed and the port free
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None
        # Who owns the socket, and the request its owner is running itself (a number, or None);
        # both change only under _owner_lock, except that the owner announces a request it runs.
        self._owner_lock = threading.Lock()
        self._owner: Optional[int] = None
        self._inline: Optional[int] = None
        self._inline_count = 0
        self._taken_over = 0  # requests still running in threads that lost the socket
        self._watching = threading.Event()  # clear while the watchdog sleeps through a quiet spell
        self._wake_lock = threading.Lock()  # guards the wake pipe's write end against its closing
        self._wake_fds: Optional[Tuple[int, int]] = None

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
        self._closed.wait(5)

    def stop(self) -> None:
        self._stop.set()
        self._watching.set()
        self._wake()
        if self._thread is not None and self._owner != threading.get_ident():
            self._closed.wait(5)
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
            wake_read, wake_write = os.pipe()  # other threads' replies wake the socket's owner
            os.set_blocking(wake_read, False)
            os.set_blocking(wake_write, False)
            self._wake_fds = (wake_read, wake_write)
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            poller.register(wake_read, zmq.POLLIN)
        except BaseException as e:  # a taken port, bad keys: reported by start()
            self._error = e
            self._ready.set()
            self._closed.set()
            context.destroy(linger=0)
            return
        self._socket, self._poller, self._context, self._authenticator = sock, poller, context, authenticator
        self._owner = threading.get_ident()
        log.info("worker %s serving on %s", self.worker_id, self.address)
        self._ready.set()
        self._start_watchdog()
        self._own()

    def _own(self) -> None:
        """Serve the socket as its owner; close it when stopping, if still its owner then."""
        try:
            if not self._loop():
                return  # the socket was handed to another thread, which closes it
        except BaseException:
            log.exception("the socket's thread failed")
        self._close()

    def _close(self) -> None:
        with self._wake_lock:
            fds, self._wake_fds = self._wake_fds, None
        for fd in fds or ():
            os.close(fd)
        self._socket.close(0)
        if self._authenticator is not None:
            self._authenticator.stop()
        self._context.destroy(linger=0)
        log.info("worker %s stopped", self.worker_id)
        self._closed.set()
        self._watching.set()  # the watchdog ends

    def _loop(self) -> bool:
        """Receive requests and send replies until stopped (True), or until the socket is taken
        from this thread while it runs a request (False)."""
        sock, poller, outbox = self._socket, self._poller, self._outbox
        wake_read = self._wake_fds[0]
        while not self._stop.is_set():
            while outbox:  # replies posted by other threads
                self._send_now(outbox.popleft())
            for item, _ in poller.poll(200):  # one request at a time: replies get their turn
                if item is sock:
                    try:
                        frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        continue
                    try:
                        if not self._incoming(frames):
                            return False
                    except Exception:  # the socket's thread must outlive any one request
                        log.exception("a request could not be handled")
                        if self._owner != threading.get_ident():  # taken while it ran
                            return False
                else:
                    try:
                        while os.read(wake_read, 4096):
                            pass
                    except BlockingIOError:
                        pass
        return True

    def _send_now(self, frames) -> None:
        try:
            self._socket.send_multipart(frames, copy=False)
        except zmq.ZMQError as e:  # the client went away
            log.info("reply not delivered: %s", e)

    # --- the watchdog --------------------------------------------------------------------------
    def _start_watchdog(self) -> None:
        threading.Thread(target=self._watch, name=f"jupyter-syft-watchdog-{self.worker_id}", daemon=True).start()

    def _watch(self) -> None:
        """Every TAKE_OVER_AFTER seconds: if the socket's owner is still running the request it
        was running at the last look, take the socket and serve it from this thread (a new
        watchdog takes this one's place). Sleeps through quiet spells, without a timer."""
        seen, quiet, count = None, 0, -1
        while not self._closed.is_set():
            time.sleep(TAKE_OVER_AFTER)
            running = self._inline
            if running is not None and running == seen:
                with self._owner_lock:
                    take = self._inline == running and self._taken_over < self._threads
                    if take:
                        self._owner, self._inline = threading.get_ident(), None
                        self._taken_over += 1
                if take:
                    log.debug("request %d keeps the socket's thread: the socket changes threads", running)
                    self._start_watchdog()
                    self._own()
                    return
            seen = running
            if self._inline_count != count or running is not None:
                count, quiet = self._inline_count, 0
                continue
            quiet += 1
            if quiet >= _WATCHDOG_NAPS and not self._stop.is_set():
                self._watching.clear()  # the owner sets it again when it starts a request
                if self._inline is None and self._inline_count == count:
                    self._watching.wait()
                quiet = 0

    # --- one request -----------------------------------------------------------------------
    def _incoming(self, frames) -> bool:
        """Handle one request in the socket's thread; False if the socket was taken from this
        thread while it ran the request."""
        routing, rest = frames[0], frames[1:]
        try:
            request_id, session, token, body, tensors = netwire.read_request(rest)
        except MalformedMessageError as e:
            log.warning("malformed frames from %s: %s", _peer(frames[-1]), e)
            return True
        user = self._authenticate(frames[-1], token)
        if user is None:
            log.warning("refused an unauthenticated request from %s", _peer(frames[-1]))
            self._send_now(self._reply(routing, request_id, codec.encode_error_reply(
                "PrivateDataError", f"{self.worker_id} refused the request: authentication failed")))
            return True
        client = self._client(user, session)
        if client is None:
            log.warning("refused a new session from %s: %d sessions already", _peer(frames[-1]),
                        self.MAX_SESSIONS_PER_USER)
            self._send_now(self._reply(routing, request_id, codec.encode_error_reply(
                "PrivateDataError", f"{self.worker_id} refused a new session: too many open for this client")))
            return True
        with client.lock:
            if request_id in client.replies:  # sent again after a reconnect: answered, not re-run
                self._send_now(self._reply(routing, request_id, client.replies[request_id]))
                return True
            if request_id in client.running:
                return True
            client.running.add(request_id)
            waits = len(client.running) > 1
        if waits:  # behind another request of the same client: in the pool, in order
            self._pool.submit(self._serve, client, routing, request_id, body, tensors)
            return True
        # Run it here; the watchdog takes the socket if it keeps this thread too long.
        self._inline_count += 1
        number = self._inline = self._inline_count
        if not self._watching.is_set():
            self._watching.set()
        try:
            reply = self._execute(client, request_id, body, tensors)
        finally:
            with self._owner_lock:
                owner = self._owner == threading.get_ident()
                if owner:
                    self._inline = None
                else:
                    self._taken_over -= 1
        if owner:
            self._send_now(self._reply(routing, request_id, reply))
            return True
        self._post(self._reply(routing, request_id, reply))
        log.debug("request %d done; its reply goes through the socket's new thread", number)
        return False

    def _serve(self, client: _Client, routing, request_id: int, body, tensors) -> None:
        """A request that waited in the pool."""
        self._post(self._reply(routing, request_id, self._execute(client, request_id, body, tensors)))

    def _execute(self, client: _Client, request_id: int, body, tensors):
        """Run one request in its client's namespace; (reply bytes, reply frames), also kept
        for a request sent again."""
        with client.run_lock:
            try:
                with codec.provide_frames([t.buffer for t in tensors]), codec.collect_frames() as out:
                    reply = client.namespace.recv_msg(body.bytes)
                reply = (reply, out)
            except BaseException as e:  # recv_msg does not raise; this is a last guard
                reply = (codec.encode_error_reply("RuntimeError", f"the server failed: {type(e).__name__}"), [])
        with client.lock:
            client.running.discard(request_id)
            if client.framed is not None:
                client.replies.pop(client.framed, None)
            client.framed = request_id if reply[1] else None
            client.replies[request_id] = reply
            while len(client.replies) > _REPLIES_KEPT:
                client.replies.pop(next(iter(client.replies)))
        return reply

    @staticmethod
    def _reply(routing, request_id: int, reply) -> list:
        body, tensors = reply if isinstance(reply, tuple) else (reply, [])
        return [routing, *netwire.reply_frames(request_id, body, tensors)]

    def _post(self, frames) -> None:
        """A reply from a thread that does not own the socket: the owner sends it."""
        self._outbox.append(frames)
        self._wake()

    def _wake(self) -> None:
        with self._wake_lock:
            if self._wake_fds is not None:
                try:
                    os.write(self._wake_fds[1], b"\0")
                except BlockingIOError:  # the pipe is full: the owner is awake already
                    pass

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
