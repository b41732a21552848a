"""Network workers: real `jupyter-syft worker` processes on 127.0.0.1, started by each test and
stopped by their PID, reached through NetworkWorker exactly as a virtual worker is."""
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft import codec
from jupyter_syft.exceptions import ObjectNotFoundError, PrivateDataError, WorkerUnreachableError
from jupyter_syft.workers import netwire, remove_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A worker process: started here, stopped by its PID."""

    def __init__(self, worker_id="netbob", extra=(), port=None):
        self.worker_id, self.port = worker_id, port or _free_port()
        self.token = secrets.token_hex(16)
        self.extra = list(extra)
        self.start()

    def start(self):
        env = dict(os.environ, JUPYTER_SYFT_TOKEN=self.token)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_syft.cli", "worker", "--id", self.worker_id,
             "--port", str(self.port), *self.extra],
            env=env, stderr=subprocess.PIPE, text=True)
        self.log = []
        threading.Thread(target=self._read_log, daemon=True).start()
        for _ in range(200):  # until it listens
            if any("serving on" in line for line in self.log):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("the worker process exited: " + "".join(self.log))
            time.sleep(0.05)
        raise RuntimeError("the worker process did not start listening")

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(15)
        return self.proc.returncode

    def client(self, hook, token=None, timeout=10.0, worker_id=None):
        return sy.NetworkWorker(hook, "127.0.0.1", self.port, id=worker_id or self.worker_id,
                                token=self.token if token is None else token, timeout=timeout)


@pytest.fixture
def server():
    s = Server()
    yield s
    assert s.stop() == 0  # SIGTERM: a clean stop


@pytest.fixture
def netbob(hook, server):
    bob = server.client(hook)
    yield bob
    bob.close()
    remove_worker(bob)


def test_part01_against_a_worker_in_another_process(hook, netbob):
    x = torch.tensor([1, 2, 3, 4, 5])
    y = torch.tensor([1, 1, 1, 1, 1])
    x_ptr, y_ptr = x.send(netbob), y.send(netbob)
    assert x_ptr.location is netbob and x_ptr.id_at_location == x.id
    z = x_ptr + x_ptr
    assert set(netbob._objects) == {x_ptr.id_at_location, y_ptr.id_at_location, z.id_at_location}
    assert torch.equal(netbob._objects[x_ptr.id_at_location], x)  # small values shown, as PySyft did
    assert torch.equal(x_ptr.get(), x) and torch.equal(y_ptr.get(), y)
    assert torch.equal(z.get(), torch.tensor([2, 4, 6, 8, 10]))
    assert netbob._objects == {}
    x = torch.tensor([1, 2, 3, 4, 5.0], requires_grad=True).send(netbob)
    y = torch.tensor([1, 1, 1, 1, 1.0], requires_grad=True).send(netbob)
    z = (x + y).sum()
    z.backward()
    assert torch.equal(x.grad.copy().get(), torch.ones(5))
    assert repr(netbob) == f"<NetworkWorker id:netbob tcp://127.0.0.1:{netbob.port}>"


def test_an_error_reaches_the_client_and_the_worker_keeps_its_objects(hook, netbob):
    x_ptr = torch.tensor([1.0, 2.0, 3.0]).send(netbob)
    with pytest.raises(RuntimeError, match=r"shape '\[7\]' is invalid for input of size 3"):
        x_ptr.view(7)
    with pytest.raises(ObjectNotFoundError):
        sy.PointerTensor(netbob, 12345, (1,), torch.float32, owner=sy.local_worker,
                         garbage_collect_data=False).get()
    assert torch.equal((x_ptr * 2).get(), torch.tensor([2.0, 4.0, 6.0]))


def test_a_wrong_token_is_refused_and_logged_with_its_address(hook, server):
    intruder = server.client(hook, token="not-the-token", worker_id="intruder")
    try:
        with pytest.raises(PrivateDataError, match="authentication failed"):
            torch.ones(2).send(intruder)
    finally:
        remove_worker(intruder)
    time.sleep(0.2)
    assert any("refused an unauthenticated request from 127.0.0.1" in line for line in server.log)


def test_clients_cannot_name_each_others_objects(hook, server):
    alice_side, carol_side = server.client(hook), server.client(hook, worker_id="netbob-2")
    try:
        a_ptr = torch.tensor([1.0]).send(alice_side)
        # carol names alice's id on the same server: not hers, so not there
        stolen = sy.PointerTensor(carol_side, a_ptr.id_at_location, (1,), torch.float32,
                                  owner=sy.local_worker, garbage_collect_data=False)
        with pytest.raises(ObjectNotFoundError):
            stolen.get()
        assert torch.equal(a_ptr.get(), torch.tensor([1.0]))
    finally:
        remove_worker(alice_side)
        remove_worker(carol_side)


def test_one_clients_slow_plan_does_not_hold_up_anothers_small_ops(hook, server):
    slow_client, quick_client = server.client(hook, timeout=120), server.client(hook, worker_id="netbob-2")
    try:
        @sy.func2plan(args_shape=[(1200, 1200)])
        def slow(a):
            for _ in range(30):
                a = torch.tanh(a @ a)
            return a.sum()

        remote = slow.send(slow_client)
        a_ptr = torch.randn(1200, 1200).send(slow_client)
        done = threading.Event()
        thread = threading.Thread(target=lambda: (remote(a_ptr), done.set()))
        thread.start()
        x = torch.tensor([1.0]).send(quick_client)
        for _ in range(5):
            x = x + 1
        assert torch.equal(x.get(), torch.tensor([6.0]))
        assert not done.is_set()  # the quick client was served while the slow plan still ran
        thread.join(120)
        assert done.is_set()
    finally:
        remove_worker(slow_client)
        remove_worker(quick_client)


def test_private_data_computes_but_never_leaves(hook, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "hospital.safetensors"
    save_file({"ages": torch.tensor([31.0, 45.0, 62.0, 28.0])}, str(path))
    server = Server(extra=["--data", str(path), "--private"])
    bob = server.client(hook)
    try:
        ages = sy.local_worker.request_search(["#ages"], location=bob)[0]
        mean = ages.mean()
        for leak in (ages, mean, ages.copy(), (ages * 1).sum()):
            with pytest.raises(PrivateDataError, match="private"):
                leak.get()
        with pytest.raises(PrivateDataError, match="clients may read it, not change it"):
            ages.add_(1)
        # a model trained on it comes home: gradients flow into the client's own parameters
        w = torch.tensor([0.5], requires_grad=True).send(bob)
        loss = ((ages * w - 40.0) ** 2).mean()
        loss.backward()
        assert w.grad.copy().get().shape == (1,)
        assert w.get().shape == (1,)
        assert sy.local_worker.request_search(["#ages"], location=bob)[0].shape == (4,)  # unchanged
    finally:
        remove_worker(bob)
        assert server.stop() == 0


def test_a_stopped_server_gives_a_clear_error_and_a_restarted_one_is_reached_again(hook, server):
    bob = server.client(hook, timeout=1.5)
    try:
        x_ptr = torch.tensor([1.0]).send(bob)
        os.kill(server.proc.pid, signal.SIGSTOP)  # hung, not dead: nothing answers
        try:
            with pytest.raises(WorkerUnreachableError, match="did not answer within 1.5 s"):
                x_ptr + 1
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert torch.equal((x_ptr + 1).get(), torch.tensor([2.0]))  # reconnected
        server.stop(signal.SIGKILL)
        with pytest.raises(WorkerUnreachableError):
            torch.ones(1).send(bob)
        server.start()  # the same port again
        assert torch.equal(torch.ones(2).send(bob).get(), torch.ones(2))
    finally:
        remove_worker(bob)


def test_twenty_thousand_hostile_frames_leave_the_server_answering_with_its_objects(hook, server):
    import zmq

    bob = server.client(hook)
    x_ptr = torch.tensor([1.0, 2.0, 3.0]).send(bob)
    rng = __import__("random").Random(8)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(f"tcp://127.0.0.1:{server.port}")
    valid = codec.encode(["cmd", [], "torch.add", [codec.Ref(x_ptr.id_at_location), 1], {}])
    kinds = ["store", "get", "del", "cmd", "attr", "move", "search", "batch", "store_plan", "run_plan",
             "summary", "optim_step", "get_all", "store_all", "nonsense"]
    try:
        for i in range(20_000):
            choice = i % 5
            if choice == 0:  # random frames
                frames = [rng.randbytes(rng.randrange(0, 40)) for _ in range(rng.randrange(1, 5))]
            elif choice == 1:  # a real header, a corrupted body
                body = bytearray(valid)
                for _ in range(rng.randrange(1, 6)):
                    body[rng.randrange(len(body))] = rng.randrange(256)
                frames = netwire.request_frames(10 ** 6 + i, "fuzzer", server.token, bytes(body))
            elif choice == 2:  # a real header, random bytes
                frames = netwire.request_frames(10 ** 6 + i, "fuzzer", server.token, rng.randbytes(rng.randrange(64)))
            elif choice == 3:  # well-formed messages of every kind with wrong fields
                fields = [rng.choice([None, 1, -1, 2 ** 62, "x", [], {}, [1, 2], b"\x00" * 8])
                          for _ in range(rng.randrange(4))]
                body = codec.encode([rng.choice(kinds), [rng.randrange(2 ** 40)], *fields])
                frames = netwire.request_frames(10 ** 6 + i, "fuzzer", server.token, body)
            else:  # bad headers
                frames = [netwire.MAGIC, rng.randbytes(rng.randrange(20)), valid]
            sock.send_multipart(frames)
            if i % 500 == 0:  # drain replies now and then
                while sock.poll(0):
                    sock.recv_multipart()
        assert torch.equal((x_ptr * 2).get(), torch.tensor([2.0, 4.0, 6.0]))
        assert torch.equal(x_ptr.get(), torch.tensor([1.0, 2.0, 3.0]))
        assert server.proc.poll() is None
    finally:
        sock.close(0)
        remove_worker(bob)


def test_a_token_is_refused_beyond_loopback():
    from jupyter_syft.workers.server import WorkerServer

    with pytest.raises(ValueError, match="needs CurveZMQ keys"):
        WorkerServer("bob", host="0.0.0.0", token="t")


def test_curve_keys_authenticate_and_unknown_keys_are_refused(hook):
    import zmq

    from jupyter_syft.workers.server import WorkerServer

    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    server = WorkerServer("curvebob", port=_free_port(), curve_secret_key=server_secret,
                          client_public_keys=[client_public]).start()
    good = sy.NetworkWorker(hook, "127.0.0.1", server.port, id="curvebob", server_public_key=server_public,
                            client_keys=(client_public, client_secret), timeout=5)
    stranger = sy.NetworkWorker(hook, "127.0.0.1", server.port, id="curve-stranger",
                                server_public_key=server_public, timeout=1)
    try:
        assert torch.equal(torch.ones(2).send(good).get(), torch.ones(2))
        with pytest.raises(WorkerUnreachableError):  # the handshake is refused: nothing answers
            torch.ones(2).send(stranger)
    finally:
        remove_worker(good)
        remove_worker(stranger)
        server.stop()


def test_a_data_owner_serves_from_a_notebook_without_blocking_it(hook):
    owner_bob = sy.VirtualWorker(hook, id="owner-bob")
    try:
        data = torch.tensor([3.0, 4.0]).tag("#readings").send(owner_bob)
        secret = owner_bob._objects[data.id_at_location]
        server = sy.serve(owner_bob, port=_free_port(), private=[secret])
        client = sy.NetworkWorker(hook, "127.0.0.1", server.port, id="owner-bob-remote",
                                  token=server.token, timeout=5)
        try:
            found = sy.local_worker.request_search(["#readings"], location=client)[0]
            assert (found * 0).sum().shape == torch.Size([])  # it computes
            with pytest.raises(PrivateDataError):
                (found + 1).get()
            kinds = [(e["kind"], e["op"], e["refused"]) for e in server.audit.entries]
            assert kinds[0] == ("search", None, False) and ("cmd", "Tensor.add", False) in kinds
            assert kinds[-1] == ("get", None, True)  # the refused .get() is in the log too
            assert all(e["client"].startswith("token/") for e in server.audit.entries)
        finally:
            remove_worker(client)
            server.stop()
    finally:
        remove_worker(owner_bob)


def test_large_tensors_travel_as_frames_of_their_own_and_arrive_intact(hook, netbob):
    big = torch.randn(1_000, 1_000)
    ptr = big.send(netbob)
    assert torch.equal(ptr.get(), big)
    with codec.collect_frames() as frames:
        body = codec.encode(["store", [], big, 1])
    assert len(frames) == 1 and len(body) < 100  # the data is not copied into the message
    with codec.provide_frames(frames):
        assert torch.equal(codec.decode(body)[2], big)


def test_hostile_frame_records_are_refused(hook):
    from jupyter_syft.exceptions import MalformedMessageError

    t = torch.arange(20_000, dtype=torch.float32)
    with codec.collect_frames() as frames:
        body = codec.encode([t])
    with pytest.raises(MalformedMessageError, match="outside a framed message"):
        codec.decode(body)
    with codec.provide_frames([]), pytest.raises(MalformedMessageError, match="frame 0 was not sent"):
        codec.decode(body)
    with codec.provide_frames([bytes(frames[0])[:-4]]), pytest.raises(MalformedMessageError,
                                                                       match="does not match its tensor's shape"):
        codec.decode(body)
    record = bytearray(body)
    record[-1] = 0x7F  # the frame index is its last four bytes (little-endian)
    with codec.provide_frames(frames), pytest.raises(MalformedMessageError, match="was not sent"):
        codec.decode(bytes(record))
    too_many = [netwire.MAGIC, b"\x93\x01\xa1s\xc0", b""] + [b""] * (codec.MAX_FRAMES + 1)
    with pytest.raises(MalformedMessageError, match="tensor frames"):
        netwire.read_request(too_many)


def test_with_a_store_a_killed_server_restarts_with_everything_it_acknowledged(hook, tmp_path):
    server = Server(extra=["--store", str(tmp_path / "store")])
    bob = server.client(hook, timeout=5)
    try:
        x = torch.tensor([1.0, 2.0], requires_grad=True).tag("#x").send(bob)
        y = x * 3
        y.sum().backward()
        w = torch.zeros(2).send(bob)
        w.add_(5)  # an in-place change, acknowledged
        gone = torch.ones(3).send(bob)
        gone_id = gone.id_at_location
        del gone
        torch.ones(1).send(bob)  # carries gone's delete
        server.stop(signal.SIGKILL)
        server.start()
        assert gone_id not in bob._objects
        assert torch.equal(y.get(), torch.tensor([3.0, 6.0]))
        assert torch.equal(w.get(), torch.full((2,), 5.0))
        assert torch.equal(x.grad.copy().get(), torch.full((2,), 3.0))
        found = sy.local_worker.request_search(["#x"], location=bob)
        assert [p.id_at_location for p in found] == [x.id_at_location]
    finally:
        remove_worker(bob)
        server.stop()


def test_pysyft_names_serve_and_reach_a_worker(hook):
    from syft.workers.websocket_client import WebsocketClientWorker
    from syft.workers.websocket_server import WebsocketServerWorker

    data = torch.tensor([1.0, 2.0]).tag("#numbers")
    server = WebsocketServerWorker(hook, "127.0.0.1", _free_port(), id="ws-bob", data=(data,))
    thread = threading.Thread(target=server.start, daemon=True)  # start() blocks, as in PySyft
    thread.start()
    try:
        for _ in range(100):
            if server.server._ready.is_set():
                break
            time.sleep(0.05)
        client = WebsocketClientWorker(hook, "127.0.0.1", server.server.port, id="ws-bob", token=server.token)
        found = client.search(["#numbers"])
        assert [p.id_at_location for p in found] == [data.id]
        assert torch.equal((found[0] * 2).get(), torch.tensor([2.0, 4.0]))
        remove_worker(client)
    finally:
        server.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_one_token_cannot_open_sessions_without_end(hook, server):
    from jupyter_syft.workers.server import WorkerServer

    clients = [server.client(hook, worker_id=f"session-{i}") for i in range(WorkerServer.MAX_SESSIONS_PER_USER + 1)]
    try:
        for c in clients[:-1]:
            torch.ones(1).send(c)
        with pytest.raises(PrivateDataError, match="too many open"):
            torch.ones(1).send(clients[-1])
    finally:
        for c in clients:
            remove_worker(c)


def test_a_summary_request_takes_no_fields_and_never_shows_private_values(hook):
    from jupyter_syft.workers.namespace import ClientNamespace, OwnerData

    secret = torch.tensor([7.0, 8.0])
    namespace = ClientNamespace("sum-bob", "token/s", OwnerData({5: secret}, {5}), None)
    derived = namespace.recv_msg(codec.encode(["cmd", [], "Tensor.mul", [codec.Ref(5), 2], {}]))
    ok, meta = codec.decode_reply(derived, codec.ExtDecoder())
    assert ok
    ok, rows = codec.decode_reply(namespace.recv_msg(codec.encode(["summary", []])), codec.ExtDecoder())
    assert ok and [(r[0], r[1], r[5]) for r in rows] == [(meta.id, None, True)]  # private: no values
    ok, value = codec.decode_reply(namespace.recv_msg(codec.encode(["summary", [], "extra"])), codec.ExtDecoder())
    assert not ok and "summary takes no fields" in value[1]
