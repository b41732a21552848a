"""The raw pyzmq baseline's server: a ROUTER on 127.0.0.1 that answers each message at once.

    python bench/zmq_echo.py PORT BIG_BYTES

A message whose first frame is b"sink" is answered with [b"ok"] (its other frames are received
without a copy and dropped); b"big" is answered with [b"big", BIG_BYTES bytes] sent without a
copy; anything else is echoed back frame for frame. No jupyter_syft, no torch: plain pyzmq.
"""
import signal
import sys

import zmq


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped by its PID: exit 0
    port, size = int(sys.argv[1]), int(sys.argv[2])
    big = bytearray(size)
    big[::4096] = b"\x01" * len(range(0, size, 4096))  # touched: its pages are in memory
    sock = zmq.Context().socket(zmq.ROUTER)
    sock.linger = 0
    sock.bind("tcp://127.0.0.1:%d" % port)
    while True:
        frames = sock.recv_multipart(copy=False)
        kind = frames[1].bytes
        if kind == b"sink":
            sock.send_multipart([frames[0], b"ok"])
        elif kind == b"big":
            sock.send_multipart([frames[0], b"big", big], copy=False)
        else:
            sock.send_multipart(frames, copy=False)


if __name__ == "__main__":
    main()
