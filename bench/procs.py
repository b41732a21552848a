"""Server processes the network benchmarks start on 127.0.0.1 and stop by their PID.

Shared by bench_network.py and peer_network_pysyft024.py: keep this file Python 3.7 compatible.
"""
import os
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Server:
    """A server process listening on 127.0.0.1:port: started by the constructor, which returns
    once the port accepts connections; stopped by its PID with stop() (SIGTERM, then SIGKILL).
    Its stderr goes to a temporary file, shown if it dies before listening."""

    def __init__(self, cmd, port, env=None, cwd=None, timeout=60.0):
        self.port = port
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while not _accepts(port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("%s did not start listening on port %d: %s"
                                   % (cmd[1:3], port, self.stderr()[-800:]))
            time.sleep(0.05)

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM by PID, SIGKILL if it has not exited within 10 s; returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
