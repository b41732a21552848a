"""The worker's side of secret sharing: the steps a share holder or the crypto provider runs.

One message kind, ``mpc``, carries ``[step, *fields]``; each step is a small reviewed function
over int64 shares in the worker's store, so a multiplication is five requests, not fifty. Every
field is checked before anything is computed or kept, and a step that fails keeps nothing.

What each party sees (the threat model is in the README): a share holder sees its own shares,
values masked by a uniformly random ring element (``x - a``, ``x + r``) and the common
randomness of a comparison; the crypto provider sees only its own random numbers and, in a
comparison, terms multiplied by random non-zero numbers and rotated by a random offset.
"""
import hashlib
import hmac
import math
import os
import weakref
from collections import OrderedDict
from typing import Any, Dict, List

import torch

from .. import codec
from ..codec import Meta
from ..exceptions import MalformedMessageError
from . import compare
from .rng import MASK, SecureRandom, broadcast_shape

MAX_PARTIES = 16


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise MalformedMessageError(f"mpc: {what}")


def _share(value: Any, what: str) -> torch.Tensor:
    _check(type(value) is torch.Tensor and value.dtype == torch.int64,
           f"{what} must be an int64 share this worker holds")
    return value


def _public(value: Any, what: str, like: torch.Tensor = None) -> torch.Tensor:
    _check(type(value) is torch.Tensor and value.dtype == torch.int64, f"{what} must be an int64 tensor")
    if like is not None:
        _check(value.shape == like.shape, f"{what} has shape {tuple(value.shape)}, expected {tuple(like.shape)}")
    return value


def _party_ids(worker, ids: Any) -> List[Any]:
    from ..workers import get_worker

    _check(type(ids) is list and 2 <= len(ids) <= MAX_PARTIES, f"2 to {MAX_PARTIES} parties are needed")
    parties = [get_worker(i) for i in ids]
    _check(len({id(p) for p in parties}) == len(parties), "the parties must be different workers")
    return parties


def _shape(worker, value: Any, what: str) -> List[int]:
    _check(type(value) is list and len(value) <= 8 and all(type(s) is int and 0 <= s for s in value),
           f"{what} must be a list of at most 8 sizes")
    n = 1
    for s in value:
        n *= s
    worker._check_size(_Sized(n))
    return value


class _Sized:  # what _check_size needs from a tensor, without making one
    def __init__(self, n: int) -> None:
        self.n = n

    def numel(self) -> int:
        return self.n


def split(rng: SecureRandom, secret: torch.Tensor, n: int) -> List[torch.Tensor]:
    """n shares in Z_FIELD that add up to secret; any n-1 of them are uniformly random."""
    shares = [rng.ring(secret.shape) for _ in range(n - 1)]
    last = secret.clone()
    for s in shares:
        last.sub_(s)
    shares.append(last.bitwise_and_(MASK))
    return shares


def deliver(worker, parties: list, per_party: List[List[torch.Tensor]]) -> List[List[int]]:
    """Hand each party its tensors, worker to worker; returns their ids there. A party that is
    this worker keeps them directly, and last. If a party refuses, what the others were
    already handed is taken back: a step that fails keeps nothing anywhere."""
    order = sorted(range(len(parties)), key=lambda i: parties[i] is worker)
    ids: Dict[int, List[int]] = {}
    try:
        for i in order:
            if parties[i] is worker:
                ids[i] = [_keep(worker, t).id for t in per_party[i]]
            else:
                ids[i] = worker._request(parties[i], "mpc", ["keep", per_party[i]])
    except Exception:
        for i, kept in ids.items():
            try:
                if parties[i] is worker:
                    worker._store.discard(kept)
                else:
                    worker.delete_remote(parties[i], kept, now=True)
            except Exception:  # a party gone meanwhile: nothing left to take back there
                pass
        raise
    return [ids[i] for i in range(len(parties))]


def _keep(worker, t: torch.Tensor) -> Meta:
    obj_id = worker._fresh_id()
    worker._store.set(obj_id, t)
    return Meta(obj_id, t.shape, t.dtype, False)


# --- the steps -------------------------------------------------------------------------------
def on_keep(worker, fields: list, inputs) -> Any:
    """Store tensors another worker made for this one (shares, triples, masks); returns ids."""
    _check(len(fields) == 1 and type(fields[0]) is list and 1 <= len(fields[0]) <= 8,
           "keep needs a list of 1 to 8 tensors")
    for t in fields[0]:
        _check(type(t) is torch.Tensor and t.dtype in (torch.int64, torch.int16),
               "keep stores int64 shares or int16 bit shares")
        worker._check_size(t)
    return [_keep(worker, t).id for t in fields[0]]


def on_encode(worker, fields: list, inputs) -> Meta:
    """fix_precision() of a tensor this worker holds: round(x * base**precision) as int64."""
    _check(len(fields) == 3 and type(fields[1]) is int and type(fields[2]) is int,
           "encode needs a tensor, a base and a precision")
    x, base, precision = fields
    _check(type(x) is torch.Tensor and x.is_floating_point(), "encode needs a float tensor held here")
    _check(2 <= base <= 16 and 0 <= precision <= 16, "base 2-16 and precision 0-16")
    from .fixed_precision import encode

    return _keep(worker, encode(x.detach(), base, precision))


def on_share(worker, fields: list, inputs) -> list:
    """Share an int64 tensor this worker holds between parties (itself among them or not);
    the other parties get their shares straight from here. Returns [[party id, share id]]."""
    _check(len(fields) == 2, "share needs a tensor and the parties")
    x = _share(fields[0], "the tensor to share")
    parties = _party_ids(worker, fields[1])
    shares = split(worker.secure_random, x & MASK, len(parties))
    ids = deliver(worker, parties, [[s] for s in shares])
    return [[p.id, i[0]] for p, i in zip(parties, ids)]



MAX_SEEDS = 1024  # dealers a party remembers


def on_seed(worker, fields: list, inputs) -> None:
    """A crypto provider's seed for this party's triple shares, sent once, provider to party,
    under the provider's id and its incarnation (a random number drawn when the provider was
    made). A second seed for the same pair is refused, so nobody can swap in a seed they know,
    and a seed forged in a provider's name names an incarnation the provider never uses."""
    _check(len(fields) == 2 and _is_dealer(fields[0]) and type(fields[1]) is bytes
           and len(fields[1]) == 32, "seed needs the dealer [provider id, incarnation] and 32 bytes")
    seeds = worker.__dict__.setdefault("_dealer_seeds", OrderedDict())
    key = tuple(fields[0])
    _check(key not in seeds, f"{worker.id} already has a seed from that provider")
    if len(seeds) >= MAX_SEEDS:  # refused, not evicted: a flood must not push out a real dealer
        raise MalformedMessageError(f"mpc: {worker.id} keeps seeds from at most {MAX_SEEDS} dealers")
    seeds[key] = [fields[1], 0]  # seed, last triple number opened
    return None


def _is_dealer(value: Any) -> bool:
    return (type(value) is list and len(value) == 2 and type(value[0]) in (str, int)
            and type(value[1]) is int and (type(value[0]) is int or len(value[0]) <= 256))


def incarnation(worker) -> int:
    """A random number naming this worker object as a crypto provider."""
    value = worker.__dict__.get("_incarnation")
    if value is None:
        value = worker.__dict__["_incarnation"] = int.from_bytes(os.urandom(7), "big")
    return value


def triple_tag(seed: bytes, number: int) -> bytes:
    """The provider's proof that it dealt triple `number` to the party holding seed."""
    return hmac.new(seed, b"triple" + number.to_bytes(8, "big"), hashlib.sha256).digest()[:16]


def _dealer_stream(worker, dealer: Any, number: Any, tag: Any = None) -> SecureRandom:
    """This party's stream for triple `number` of a dealer. Opening (with the provider's tag)
    needs a number the provider dealt, above every one opened before: a triple never serves two
    products, and a made-up number can neither open nor block the next ones."""
    _check(_is_dealer(dealer), "the dealer must be [provider id, incarnation]")
    entry = worker.__dict__.get("_dealer_seeds", {}).get(tuple(dealer))
    _check(entry is not None, f"{worker.id} has no seed from provider {str(dealer[0])[:40]!r}")
    _check(type(number) is int and 0 < number < 2 ** 62, "a triple number must be a positive int")
    if tag is not None:
        _check(type(tag) is bytes and hmac.compare_digest(tag, triple_tag(entry[0], number)),
               "that triple was not dealt to this worker")
        _check(number > entry[1], "that triple was used already")
        entry[1] = number
    else:  # closing: only the triple just opened (a future one's shares must stay unseen)
        _check(number == entry[1], "only the triple opened last can be closed")
    return SecureRandom(entry[0], number)


def triple_shares(rng: SecureRandom, op: str, shape_a, shape_b, with_c: bool):
    """A party's a, b (and c) for one triple, drawn in this order from its stream."""
    a, b = rng.ring(shape_a), rng.ring(shape_b)
    if not with_c:
        return a, b, None
    shape_c = (shape_a[0], shape_b[1]) if op == "matmul" else broadcast_shape(shape_a, shape_b)
    return a, b, rng.ring(shape_c)


def on_triple(worker, fields: list, inputs) -> list:
    """The crypto provider's Beaver triple: random a, b and c = a*b (or a@b), shared between
    the parties. Each party draws its shares from a stream seeded by the provider, so only
    the last party's share of c has to travel: it goes back to the caller, who hands it on
    (alone, it is uniformly random). Returns [dealer, triple number, last c share, and per party
    a tag proving the number was dealt to it]."""
    _check(len(fields) == 4 and fields[0] in ("mul", "matmul"), "triple needs mul|matmul, 2 shapes, parties")
    op, shape_a, shape_b = fields[0], _shape(worker, fields[1], "a's shape"), _shape(worker, fields[2], "b's shape")
    parties = _party_ids(worker, fields[3])
    if op == "mul":
        _check(_broadcastable(shape_a, shape_b, worker), "mul's shapes do not broadcast")
    else:
        _check(len(shape_a) == 2 and len(shape_b) == 2 and shape_a[1] == shape_b[0],
               "matmul's triple needs (m, k) and (k, n)")
        worker._check_size(_Sized(shape_a[0] * shape_b[1]))
        if shape_a[0] * shape_a[1] * shape_b[1] > worker.MAX_OP_WORK:
            raise MalformedMessageError("mpc: matmul triple too large for this worker (MAX_OP_WORK)")
    # Seeds by party object: a party removed and made again under its id gets a new one.
    dealt = worker.__dict__.setdefault("_dealt_seeds", weakref.WeakKeyDictionary())
    dealer = [worker.id, incarnation(worker)]
    number = worker.__dict__["_triples_dealt"] = worker.__dict__.get("_triples_dealt", 0) + 1
    a = b = c_others = None
    tags = []
    for i, party in enumerate(parties):
        seed = dealt.get(party)
        if seed is None:
            seed = os.urandom(32)
            worker._request(party, "mpc", ["seed", dealer, seed])
            dealt[party] = seed
        tags.append(triple_tag(seed, number))
        ai, bi, ci = triple_shares(SecureRandom(seed, number), op, shape_a, shape_b, i < len(parties) - 1)
        a = ai if a is None else a.add_(ai)
        b = bi if b is None else b.add_(bi)
        if ci is not None:
            c_others = ci if c_others is None else c_others.add_(ci)
    c = a @ b if op == "matmul" else a * b
    return [dealer, number, c.sub_(c_others).bitwise_and_(MASK), tags]


def _broadcastable(a: List[int], b: List[int], worker=None) -> bool:
    """Whether two shapes broadcast; with a worker, their result must also fit its limit."""
    try:
        shape = broadcast_shape(a, b)
    except RuntimeError:
        return False
    if worker is not None:
        worker._check_size(_Sized(math.prod(shape)))
    return True


def on_beaver_open(worker, fields: list, inputs) -> list:
    """This party's x - a and y - b: masked by the triple, safe to show to the caller."""
    _check(len(fields) == 6 and fields[0] in ("mul", "matmul") and type(fields[5]) is bytes,
           "beaver_open needs mul|matmul, x, y, the dealer, a triple number and its tag")
    op, x, y = fields[0], _share(fields[1], "x"), _share(fields[2], "y")
    _check_product(worker, op, x, y)
    stream = _dealer_stream(worker, fields[3], fields[4], fields[5])
    a, b, _ = triple_shares(stream, op, x.shape, y.shape, False)
    return [(x - a).bitwise_and_(MASK), (y - b).bitwise_and_(MASK)]


def _check_product(worker, op: str, x: torch.Tensor, y: torch.Tensor) -> None:
    if op == "mul":
        _check(_broadcastable(list(x.shape), list(y.shape), worker), "the shapes do not broadcast")
    else:
        _check(x.dim() == 2 and y.dim() == 2 and x.shape[1] == y.shape[0], "matmul needs (m, k) and (k, n)")
        worker._check_size(_Sized(x.shape[0] * y.shape[1]))  # the result, before it exists
        if x.shape[0] * x.shape[1] * y.shape[1] > worker.MAX_OP_WORK:
            raise MalformedMessageError("mpc: matmul too large for this worker (MAX_OP_WORK)")


def on_beaver_close(worker, fields: list, inputs) -> Meta:
    """z = c + d*b + a*e (+ d*e for party 0): this party's share of x*y, then optionally
    divided by a public integer (fixed precision). The last party's c comes with the request;
    the others draw theirs again from the provider's stream."""
    _check(len(fields) == 9 and fields[0] in ("mul", "matmul") and type(fields[5]) is int
           and type(fields[6]) is int and type(fields[7]) is int, "beaver_close: wrong fields")
    op, d, e, dealer, number, index, parties, divisor, c_last = fields
    _check(0 <= index < parties <= MAX_PARTIES and divisor >= 0, "bad party index or divisor")
    last = index == parties - 1
    _check((c_last is None) != last, "the last party, and only it, gets its share of c")
    _public(d, "d")
    _public(e, "e")
    _check_product(worker, op, d, e)
    a, b, c = triple_shares(_dealer_stream(worker, dealer, number), op, d.shape, e.shape, not last)
    if last:
        c = _public(c_last, "c", None)
        _check(tuple(c.shape) == ((d.shape[0], e.shape[1]) if op == "matmul" else broadcast_shape(d.shape, e.shape)),
               "c's shape does not fit the product")
    if op == "mul":
        z = c + d * b + a * e
        if index == 0:
            z += d * e
    else:
        z = c + d @ b + a @ e
        if index == 0:
            z += d @ e
    z.bitwise_and_(MASK)
    if divisor > 1:
        _check(parties == 2, "a share holder can divide its share only when there are 2 parties")
        z = truncate(z, divisor, index)
    return _keep(worker, z)


def truncate(z: torch.Tensor, divisor: int, index: int) -> torch.Tensor:
    """Two-party division of a shared value by a public integer (SecureML): party 0 divides its
    share, party 1 divides the negation of its share. Off by at most one unit, except with
    probability about |value| / 2**61 per element."""
    if index == 0:
        return torch.div(z & MASK, divisor, rounding_mode="floor")
    return (-torch.div((-z) & MASK, divisor, rounding_mode="floor")).bitwise_and_(MASK)


def on_public_add(worker, fields: list, inputs) -> Meta:
    """A share plus a public integer tensor (party 0), or the share itself, broadcast to the
    result's shape (the other parties): every party ends with a share of its own."""
    _check(len(fields) == 2, "public_add needs a share and a public tensor (or None)")
    x, pub = _share(fields[0], "x"), fields[1]
    if pub is None:
        return _keep(worker, x.clone())
    _public(pub, "the public term")
    _check(_broadcastable(list(x.shape), list(pub.shape), worker), "the shapes do not broadcast")
    return _keep(worker, x + pub)


def on_public_mul(worker, fields: list, inputs) -> Meta:
    """A share times a public integer tensor (x * p, x @ p or p @ x), then optionally divided by
    a public integer as in beaver_close (2 parties)."""
    _check(len(fields) == 6 and fields[2] in ("mul", "matmul") and type(fields[3]) is bool
           and type(fields[4]) is int and fields[4] >= 0 and type(fields[5]) is int
           and 0 <= fields[5] < MAX_PARTIES,
           "public_mul needs a share, a public tensor, mul|matmul, a side, a divisor and an index")
    x, pub, op, right, divisor, index = fields
    _share(x, "x")
    _public(pub, "the public factor")
    worker._check_size(pub)
    if op == "mul":
        _check(_broadcastable(list(x.shape), list(pub.shape), worker), "the shapes do not broadcast")
        z = x * pub
    else:
        a, b = (x, pub) if right else (pub, x)
        _check_product(worker, "matmul", a, b)
        z = a @ b
    z.bitwise_and_(MASK)
    if divisor > 1:
        _check(index in (0, 1), "a share holder can divide its share only when there are 2 parties")
        z = truncate(z, divisor, index)
    return _keep(worker, z)


def on_cmp_setup(worker, fields: list, inputs) -> Any:
    _check(len(fields) == 2, "cmp_setup needs a shape and the parties")
    shape = _shape(worker, fields[0], "the shape")
    worker._check_size(_Sized(math.prod(shape) * compare.POSITIONS))
    return compare.provider_setup(worker, shape, _party_ids(worker, fields[1]))


def on_cmp_open(worker, fields: list, inputs) -> torch.Tensor:
    _check(len(fields) == 2, "cmp_open needs x and r")
    x, r = _share(fields[0], "x"), _share(fields[1], "r")
    _check(x.shape == r.shape, "the mask's shape does not match x")
    return (x + r).bitwise_and_(MASK)


def on_cmp_terms(worker, fields: list, inputs) -> None:
    _check(len(fields) == 6 and type(fields[2]) is bytes and len(fields[2]) == 16
           and type(fields[3]) is int and type(fields[5]) is int, "cmp_terms: wrong fields")
    c, bits, seed, index, provider_id, state_id = fields
    _check(type(bits) is torch.Tensor and bits.dtype == torch.int16, "the mask's bits must be int16 shares")
    _public(c, "c")
    _check(bits.shape == (*c.shape, compare.POSITIONS) and index >= 0, "the bits do not match c")
    from ..workers import get_worker

    terms = compare.masked_terms(c, bits, seed, index == 0)
    worker._request(get_worker(provider_id), "mpc", ["cmp_in", state_id, index, terms])
    worker._store.discard(_ids_of(inputs, bits))  # the mask's bits serve one comparison only
    return None


def on_cmp_in(worker, fields: list, inputs) -> None:
    _check(len(fields) == 3 and type(fields[0]) is int and type(fields[1]) is int,
           "cmp_in needs a state id, a party index and terms")
    return compare.provider_collect(worker, *fields)


def on_cmp_finish(worker, fields: list, inputs) -> Any:
    _check(len(fields) == 2 and type(fields[0]) is int, "cmp_finish needs a state id and the parties")
    return compare.provider_finish(worker, fields[0], _party_ids(worker, fields[1]))


def on_cmp_result(worker, fields: list, inputs) -> Meta:
    _check(len(fields) == 4 and type(fields[2]) is bytes and len(fields[2]) == 16
           and type(fields[3]) is int, "cmp_result: wrong fields")
    c, gamma, seed, index = fields
    _public(c, "c")
    _share(gamma, "gamma")
    _check(gamma.shape == c.shape, "gamma does not match c")
    meta = _keep(worker, compare.msb_share(c, gamma, seed, index == 0))
    worker._store.discard(_ids_of(inputs, gamma))
    return meta


def _ids_of(inputs, *objs) -> List[int]:
    return [i for obj, i in inputs if any(obj is o for o in objs)]



STEPS = {
    "keep": on_keep, "encode": on_encode, "share": on_share, "seed": on_seed, "triple": on_triple,
    "beaver_open": on_beaver_open, "beaver_close": on_beaver_close, "public_mul": on_public_mul, "public_add": on_public_add,
    "cmp_setup": on_cmp_setup, "cmp_open": on_cmp_open, "cmp_terms": on_cmp_terms,
    "cmp_in": on_cmp_in, "cmp_finish": on_cmp_finish, "cmp_result": on_cmp_result,
}


def on_mpc(worker, fields: list, inputs) -> bytes:
    _check(len(fields) >= 1 and type(fields[0]) is str and fields[0] in STEPS,
           "unknown step" if not fields or type(fields[0]) is not str
           else f"unknown step {fields[0][:40]!r}")
    for value in fields[1:]:  # every tensor the request carries, inline or named, within limits
        for t in (value if type(value) is list else (value,)):
            if isinstance(t, torch.Tensor):
                worker._check_size(t)
    # One thread for the step: its operations are many and medium-sized, and on a busy machine
    # OpenMP's second thread spins waiting for the first (comparisons measured 5-50x slower at
    # load 4 on 2 cores); setting the count costs a quarter of a microsecond.
    threads = torch.get_num_threads()
    if threads > 1:
        torch.set_num_threads(1)
    try:
        result = STEPS[fields[0]](worker, fields[1:], inputs)
    finally:
        if threads > 1:
            torch.set_num_threads(threads)
    if type(result) is Meta:
        return codec.encode_pointer_reply(result.id, worker._store.objects[result.id])
    return codec.encode_value_reply(result)
