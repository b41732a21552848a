"""Comparison of a secret-shared value with zero: the most significant bit, in three rounds.

The idea (SecureNN's private compare with the crypto provider as the third party):

1. The provider draws a uniformly random r, shares r in the ring and each bit of its low 61 bits
   modulo the small prime P, and hands the shares to the parties.
2. The parties open c = x + r (uniformly random, so it shows nothing about x). Then
   msb(x) = msb(c) xor msb(r) xor [c' < r'], where c' and r' are the low 61 bits: the borrow
   of the subtraction c - r.
3. [c' < r'] is a comparison of a public number with a number whose bits are shared. Each
   party computes, for every bit position i, its share of
   t_i = c'_i - r'_i + 1 + sum over higher bits k of (c'_k xor r'_k), which is zero at exactly
   one i when c' < r' and never otherwise. It multiplies every t_i by a random non-zero s_i,
   rotates the positions by a random offset (common randomness the provider does not know),
   and sends the result to the provider. The provider adds the shares and sees, per element,
   one zero at a uniformly random place or none: it learns [c' < r'] xor beta, where beta is a
   random bit the parties used to flip the test (beta = 1 tests r' < c' + 1 instead), i.e. a
   uniformly random bit.
4. The provider shares gamma = (that bit) xor msb(r); each party turns it into its share of
   msb(x) = msb(c) xor beta xor gamma, which is linear since msb(c) and beta are public to them.

Cost per element: 62 small numbers (one byte each) from each party to the provider, and a few
vectorised operations over them; no round depends on the number of bits.
"""
import math
import os
import sys
from typing import Any, List

import torch

from ..exceptions import MalformedMessageError, ResourceLimitError
from . import registry
from .rng import MASK, SecureRandom

# P is a prime above the largest term (1 + 64 + 1) with P - 1 = 256, so a random non-zero
# multiplier is one random byte plus one: no rejection sampling for the n x 64 multipliers.
P = 257
POSITIONS = 64  # bit positions compared: the 61 low bits, one more for c' + 1, two always equal
_LOW = (1 << 61) - 1
_POS = torch.arange(POSITIONS, dtype=torch.int64)
_BYTE_BITS = torch.arange(8, dtype=torch.uint8)
assert sys.byteorder == "little"  # bits() reads an int64's bytes lowest first
MAX_PENDING = 64  # comparisons a provider keeps open at once


def bits(x: torch.Tensor) -> torch.Tensor:
    """(n,) int64 -> (n, 64) bits, lowest first, unpacked byte by byte (8x less memory traffic
    than shifting int64 words)."""
    octets = x.contiguous().view(torch.uint8).view(-1, 8, 1)
    return (octets >> _BYTE_BITS).bitwise_and_(1).view(-1, POSITIONS)


def _mod_p(x: torch.Tensor) -> torch.Tensor:
    """x mod P for float32 integers, as x - P * floor(x / P): three vectorised operations,
    where remainder() runs a division per element."""
    return x.sub_(torch.floor(x * (1.0 / P)).mul_(P))



# --- the crypto provider -----------------------------------------------------------------------
def provider_setup(worker, shape: List[int], parties: list) -> list:
    from .party import deliver, split

    rng = worker.secure_random
    n = math.prod(shape)
    r = rng.ring(shape)
    bit_shares = [rng.mod_257((n, POSITIONS)) for _ in range(len(parties) - 1)]
    last = bits(r.reshape(n) & _LOW).to(torch.float32)
    for s in bit_shares:
        last -= s
    bit_shares.append(_mod_p(last))
    ring_shares = split(rng, r, len(parties))
    pending = worker.__dict__.setdefault("_comparisons", {})
    if len(pending) >= MAX_PENDING:  # refused, not evicted: others' comparisons stay open
        raise ResourceLimitError(f"{worker.id} keeps at most {MAX_PENDING} comparisons open")
    state_id = worker._fresh_id()
    state = {"msb_r": (r.reshape(n) >> 61) & 1, "sum": torch.zeros(n, POSITIONS, dtype=torch.float32),
                         "seen": set(), "parties": len(parties), "n": n, "shape": tuple(shape)}
    ids = deliver(worker, parties, [[rs, bs.to(torch.int16).view(*shape, POSITIONS)]
                                    for rs, bs in zip(ring_shares, bit_shares)])
    pending[state_id] = state  # only once every party has its masks
    return [state_id, ids]


def provider_collect(worker, state_id: int, index: int, terms: Any) -> None:
    state = worker.__dict__.get("_comparisons", {}).get(state_id)
    if state is None:
        raise MalformedMessageError(f"mpc: no comparison {state_id} is open on {worker.id}")
    if not (type(terms) is torch.Tensor and terms.dtype == torch.int16
            and terms.shape == (state["n"], POSITIONS)):
        raise MalformedMessageError("mpc: a comparison's terms must be int16 of the agreed shape")
    if not 0 <= index < state["parties"] or index in state["seen"]:
        raise MalformedMessageError("mpc: terms from an unknown party, or sent twice")
    state["seen"].add(index)
    state["sum"].add_(terms.to(torch.float32))  # exact: at most 16 x 2**16
    return None


def provider_finish(worker, state_id: int, parties: list) -> list:
    from .party import deliver, split

    state = worker.__dict__.get("_comparisons", {}).get(state_id)
    if state is None:
        raise MalformedMessageError(f"mpc: no comparison {state_id} is open on {worker.id}")
    if len(state["seen"]) != state["parties"] or len(parties) != state["parties"]:
        raise MalformedMessageError("mpc: a comparison finishes once every party sent its terms")
    del worker._comparisons[state_id]
    flipped = (_mod_p(state["sum"]) == 0).any(dim=1).to(torch.int64)  # [c' < r'] xor beta
    gamma = (flipped ^ state["msb_r"]).view(state["shape"])
    return deliver(worker, parties, [[g] for g in split(worker.secure_random, gamma, len(parties))])


# --- a share holder ------------------------------------------------------------------------------
def masked_terms(c: torch.Tensor, bit_shares: torch.Tensor, seed: bytes, first: bool) -> torch.Tensor:
    """This party's share of every term, times a random non-zero multiplier, rotated. Float32
    throughout: every value is an integer below 2**22, so exact, and torch vectorises float
    arithmetic where its int16 kernels and integer modulo are many times slower."""
    n = c.numel()
    rng = SecureRandom(seed)
    beta = rng.below(2, (n,))  # drawn first: msb_share draws it again
    multiplier = torch.frombuffer(rng.bytes(n * POSITIONS), dtype=torch.uint8).view(n, POSITIONS)
    shift = rng.below(POSITIONS, (n,))
    v = (c.reshape(n) & _LOW) + beta  # beta = 1: test r' < c' + 1, i.e. not (c' < r')
    vb = bits(v).to(torch.float32)
    rho = bit_shares.reshape(n, POSITIONS).to(torch.float32)
    xor = vb.mul(-2).add_(1).mul_(rho)  # this party's share of v_i xor r_i: rho * (1 - 2 v_i) ...
    if first:
        xor += vb  # ... + v_i, once
    t = xor.sum(dim=1, keepdim=True) - xor.cumsum(dim=1)  # sum over the positions above i
    sigma = (1 - 2 * beta).to(torch.float32).unsqueeze(1).expand(n, POSITIONS)
    t.addcmul_(sigma, rho, value=-1)
    if first:
        t.addcmul_(sigma, vb).add_(1)
    t = _mod_p(t.mul_(multiplier.to(torch.float32).add_(1)))  # times a random 1..256
    windows = torch.cat([t, t], dim=1).unfold(1, POSITIONS, 1)  # window k: rotated by k
    return windows[torch.arange(n), shift].to(torch.int16)


def msb_share(c: torch.Tensor, gamma: torch.Tensor, seed: bytes, first: bool) -> torch.Tensor:
    n = c.numel()
    beta = SecureRandom(seed).below(2, (n,), torch.int64)
    t = ((c.reshape(n) >> 61) & 1) ^ beta  # public to the parties
    share = gamma.reshape(n) * (1 - 2 * t)
    if first:
        share += t
    return share.bitwise_and_(MASK).view(c.shape)


# --- the caller (the notebook's kernel) orchestrates -----------------------------------------
def msb(x):
    """Shares of 1 where the shared value is negative, 0 elsewhere."""
    from ..pointers import PointerTensor
    from .additive_sharing import AdditiveSharingTensor, me_and_provider

    me, provider = me_and_provider(x, "a comparison")
    if x.numel() == 0:  # nothing to compare: an empty sharing, no round needed
        return AdditiveSharingTensor([torch.sub(s, s) for s in x._shares], x.crypto_provider)
    parties, shape = x.parties, list(x.shape)
    ids = [p.id for p in parties]
    state_id, masks = me._request(provider, "mpc", ["cmp_setup", shape, ids])
    registry.activity.record(provider.id, "comparison", math.prod(shape), ids, delivered=masks)
    r = [PointerTensor(p, m[0], x.shape, torch.int64, owner=me) for p, m in zip(parties, masks)]
    bits = [PointerTensor(p, m[1], (*x.shape, POSITIONS), torch.int16, owner=me)
            for p, m in zip(parties, masks)]
    c = None
    for p, share, mask in zip(parties, x._shares, r):
        part = me._request(p, "mpc", ["cmp_open", share, mask])
        c = part if c is None else c.add_(part)
    c.bitwise_and_(MASK)
    seed = os.urandom(16)  # the parties' common randomness; the provider never sees it
    for i, (p, b) in enumerate(zip(parties, bits)):
        me._request(p, "mpc", ["cmp_terms", c, b, seed, i, provider.id, state_id])
    gammas = me._request(provider, "mpc", ["cmp_finish", state_id, ids])
    out = []
    for i, (p, g) in enumerate(zip(parties, gammas)):
        gamma = PointerTensor(p, g[0], x.shape, torch.int64, owner=me)
        out.append(me._request(p, "mpc", ["cmp_result", c, gamma, seed, i]))
        gamma.garbage_collect_data = False  # used up on the worker
    for ptr in bits:
        ptr.garbage_collect_data = False
    return AdditiveSharingTensor(out, x.crypto_provider)
