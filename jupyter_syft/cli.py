"""``jupyter-syft worker --id bob --port 5555``: serve a worker until SIGTERM or Ctrl-C.

The token clients need is read from --token-file (or $JUPYTER_SYFT_TOKEN), or made up and
written to stderr. With --curve-key-dir the server uses CurveZMQ (server.key_secret there,
clients' public keys in DIR/clients/*.key) and may listen beyond 127.0.0.1.
"""
import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch


def _load_data(paths: List[str]) -> Dict[str, torch.Tensor]:
    """Tensors from safetensors files (a format that holds only tensors: nothing runs on load)."""
    from safetensors.torch import load_file

    tensors: Dict[str, torch.Tensor] = {}
    for path in paths:
        for name, tensor in load_file(path).items():
            tensors[name] = tensor
    return tensors


def worker_main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="jupyter-syft worker", description="Serve a jupyter_syft worker.")
    parser.add_argument("--id", required=True, help="the worker's id, as clients name it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5555)
    parser.add_argument("--token-file", help="a file holding the clients' token")
    parser.add_argument("--curve-key-dir", help="CurveZMQ keys: server.key_secret, clients/*.key")
    parser.add_argument("--data", action="append", default=[], help="a .safetensors file to serve (repeatable)")
    parser.add_argument("--private", action="store_true", help="the --data tensors may compute, never leave")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--store", metavar="DIR", help="keep clients' objects in DIR: a restart loses nothing acknowledged")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from . import tags
    from .ids import new_id
    from .workers.server import WorkerServer

    token = Path(args.token_file).read_text().strip() if args.token_file else os.environ.get("JUPYTER_SYFT_TOKEN")
    secret_key = client_keys = None
    if args.curve_key_dir:
        import zmq.auth

        key_dir = Path(args.curve_key_dir)
        _, secret_key = zmq.auth.load_certificate(str(key_dir / "server.key_secret"))
        client_keys = [zmq.auth.load_certificate(str(p))[0] for p in sorted((key_dir / "clients").glob("*.key"))]
    objects, private = {}, []
    for name, tensor in _load_data(args.data).items():
        obj_id = new_id()
        tags.set_tags(tensor, [f"#{name}"], None)
        objects[obj_id] = tensor
        if args.private:
            private.append(obj_id)
    server = WorkerServer(args.id, host=args.host, port=args.port, token=token,
                          curve_secret_key=secret_key, client_public_keys=client_keys,
                          objects=objects, private=private, threads=args.threads, store_dir=args.store)
    if token is None and server.token is not None:
        print(f"jupyter-syft worker {args.id}: token {server.token}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "worker":
        print("usage: jupyter-syft worker --id ID [--port PORT] ...", file=sys.stderr)
        return 2
    return worker_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
