"""Randomness for secret sharing: AES-256 in counter mode, keyed from the operating system.

Shares, masks and triples must be unpredictable to everyone but their maker, so they never come
from torch's generators (Mersenne Twister / Philox are fast but not cryptographic). AES-CTR's
keystream is a standard cryptographically secure generator and runs at gigabytes per second
through OpenSSL, so drawing a 100x100 share costs about as much as adding two of them.
"""
import math
import os
import threading

import torch
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

RING_BITS = 62
FIELD = 2 ** RING_BITS  # the ring shares live in, as PySyft 0.2.4 chose (2**62)
MASK = FIELD - 1  # x & MASK == x mod FIELD, also for negative int64 (two's complement)


class SecureRandom:
    """A keystream from a fresh key (``SecureRandom()``) or from a shared seed
    (``SecureRandom(seed)``: parties that hold the same seed draw the same numbers)."""

    def __init__(self, seed: bytes = None, nonce: int = 0) -> None:
        key = os.urandom(32) if seed is None else _key(seed)
        # The nonce fills the high half of the counter block: streams for different nonces
        # never overlap (each has 2**64 blocks to itself).
        block = nonce.to_bytes(8, "big") + bytes(8)
        self._stream = Cipher(algorithms.AES(key), modes.CTR(block)).encryptor()
        self._lock = threading.Lock()  # a network worker may serve requests on two threads

    def bytes(self, n: int) -> bytearray:
        out = bytearray(n)
        with self._lock:
            self._stream.update_into(bytes(n), out)
        return out

    def ring(self, shape) -> torch.Tensor:
        """Uniform elements of Z_FIELD as int64 in [0, FIELD)."""
        n = math.prod(shape)
        words = torch.frombuffer(self.bytes(8 * n), dtype=torch.int64) if n else torch.zeros(0, dtype=torch.int64)
        return words.bitwise_and_(MASK).view(shape)

    def below(self, bound: int, shape, dtype=torch.int64) -> torch.Tensor:
        """Uniform integers in [0, bound), exactly uniform. A power of two up to 256 takes the
        low bits of a byte; another bound up to 256 throws away the bytes at or above the largest
        multiple of bound instead of folding them in (folding would favour small values)."""
        n = math.prod(shape)
        if bound & (bound - 1) == 0 and bound <= 256:
            raw = torch.frombuffer(self.bytes(n), dtype=torch.uint8) if n else torch.zeros(0, dtype=torch.uint8)
            return raw.bitwise_and(bound - 1).to(dtype).view(shape)
        limit = 256 - 256 % bound
        out = torch.empty(0, dtype=torch.uint8)
        while out.numel() < n:
            need = n - out.numel()
            raw = torch.frombuffer(self.bytes(need + need // 3 + 64), dtype=torch.uint8)
            out = torch.cat([out, raw[raw < limit]])
        return (out[:n].to(dtype) % bound).view(shape)

    def mod_257(self, shape) -> torch.Tensor:
        """Uniform elements of Z_257 as float32 (exact small integers). 65,535 = 255 * 257, so a
        16-bit word below 65,535 reduced mod 257 is exactly uniform; the one word above is
        thrown away (it turns up once in 65,536 draws)."""
        n = math.prod(shape)
        words = torch.frombuffer(self.bytes(2 * n), dtype=torch.int16).to(torch.int32).bitwise_and_(0xFFFF)
        while bool((words == 0xFFFF).any()):
            bad = words == 0xFFFF
            fresh = torch.frombuffer(self.bytes(2 * int(bad.sum())), dtype=torch.int16).to(torch.int32) & 0xFFFF
            words[bad] = fresh
        words = words.to(torch.float32)  # exact below 2**24; float floor vectorises, % does not
        return words.sub_(torch.floor(words * (1.0 / 257)).mul_(257)).view(shape)


def broadcast_shape(a, b) -> tuple:
    """torch.broadcast_shapes for two shapes, with the common case (equal shapes) answered
    without torch's reference implementation, which costs ~50 us a call."""
    a, b = tuple(a), tuple(b)
    if a == b:
        return a
    return tuple(torch.broadcast_shapes(a, b))


def _key(seed: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(b"jupyter_syft shared seed" + seed).digest()



_local = threading.local()


def generator() -> SecureRandom:
    """This thread's generator for shares the local process makes."""
    rng = getattr(_local, "rng", None)
    if rng is None:
        rng = _local.rng = SecureRandom()
    return rng
