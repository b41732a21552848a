"""The mpc message kind under hostile input: every step of crypto.party.STEPS, sent as raw bytes to
a worker's recv_msg with malformed fields. Each must get an error reply of bounded length, and
every worker (the one asked and those it could have reached: the other party, the provider, a
bystander) keeps serving with its objects and its protocol state (seeds, triple numbers, open
comparisons) exactly as they were: a failed step keeps nothing new.
"""
import random

import pytest
import torch

from jupyter_syft import codec
from jupyter_syft.codec import ExtDecoder, Ref
from jupyter_syft.crypto import compare, party
from jupyter_syft.workers.base import BaseWorker

PLAIN = ExtDecoder()
SMALL_LIMIT = 256  # MAX_TENSOR_NUMEL of every worker during these tests: limits are cheap to reach
SMALL_WORK = 1000  # MAX_OP_WORK likewise (a 16 x 16 matmul is 4,096 steps)
REFUSALS = {"MalformedMessageError", "ResourceLimitError", "WorkerNotFoundError", "ObjectNotFoundError",
            "ValueError", "OverflowError"}  # the last two: fix_precision of nan or too large values


def mpc(worker, step, *fields, deletes=()):
    """(ok, value) of a raw mpc request, as anyone who reaches the worker could send it."""
    return codec.decode_reply(worker.recv_msg(codec.encode(["mpc", list(deletes), step, *fields])), PLAIN)


def i64(*shape, value=3):
    return torch.full(shape, value, dtype=torch.int64)


def state_of(worker):
    """Everything a failed step must leave as it was: objects (ids and values) and the secret
    sharing state a worker keeps besides them."""
    seeds = worker.__dict__.get("_dealer_seeds", {})
    pending = worker.__dict__.get("_comparisons", {})
    return {
        "objects": {k: v.clone() for k, v in worker._objects.items()},
        "dealer_seeds": {k: list(v) for k, v in seeds.items()},
        "dealt_seeds": dict(worker.__dict__.get("_dealt_seeds", {})),
        "triples_dealt": worker.__dict__.get("_triples_dealt"),
        "comparisons": {k: (set(s["seen"]), s["sum"].clone()) for k, s in pending.items()},
    }


def assert_same_state(before, after):
    """before, after: state_of() of each worker, in the same order."""
    for b, a in zip(before, after, strict=True):
        assert a["objects"].keys() == b["objects"].keys()
        for k, v in b["objects"].items():
            torch.testing.assert_close(a["objects"][k], v, rtol=0, atol=0, equal_nan=True)
        for key in ("dealer_seeds", "dealt_seeds", "triples_dealt"):
            assert a[key] == b[key], key
        assert a["comparisons"].keys() == b["comparisons"].keys()
        for k, (seen, total) in b["comparisons"].items():
            assert a["comparisons"][k][0] == seen and torch.equal(a["comparisons"][k][1], total)


class Arena:
    """bob and alice hold shares of x and y (and a few other tensors); james is their crypto
    provider and has dealt one triple; a comparison is open on james with bob's terms in;
    charlie is a bystander."""

    def __init__(self, bob, alice, james, charlie):
        self.bob, self.alice, self.james, self.charlie = bob, alice, james, charlie
        self.workers = (bob, alice, james, charlie)
        for w in self.workers:
            w.MAX_TENSOR_NUMEL = SMALL_LIMIT
            w.MAX_OP_WORK = SMALL_WORK
        self.x_plain, self.y_plain = torch.tensor([5, -7, 0]), torch.tensor([2, 3, -4])
        self.x = self.x_plain.share(bob, alice, crypto_provider=james)
        self.y = self.y_plain.share(bob, alice, crypto_provider=james)
        assert torch.equal((self.x * self.y).get(), self.x_plain * self.y_plain)  # seeds dealt, triple 1 used
        self.used_triple = james.__dict__["_triples_dealt"]
        self.DEALER = ["james", party.incarnation(james)]  # how james names itself to its parties
        send = lambda t: t.send(bob)  # noqa: E731
        self.kept = [send(torch.tensor([1.5, -2.0, 3.0])), send(torch.tensor([1, 2, 3], dtype=torch.int32)),
                     send(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)), send(i64(3, 4)),
                     send(torch.zeros(3, compare.POSITIONS, dtype=torch.int16)),
                     send(torch.tensor([float("nan"), 1.0])), send(torch.tensor([1e30]))]
        (self.F, self.I32, self.F64, self.M34, self.BITS, self.NAN, self.HUGE) = [Ref(p.id_at_location) for p in self.kept]
        self.X = Ref(self.x.child["bob"].id_at_location)
        self.Y = Ref(self.y.child["bob"].id_at_location)
        # an open comparison on james, one party's terms in
        ok, opened = mpc(james, "cmp_setup", [3], ["bob", "alice"])
        assert ok
        self.state_id = opened[0]
        self.masks = [Ref(i) for i in opened[1][0]]  # bob's r and bits
        ok, _ = mpc(james, "cmp_in", self.state_id, 0, torch.zeros(3, compare.POSITIONS, dtype=torch.int16))
        assert ok

    def tag(self, number):
        """The tag james would give bob for triple `number` (made here from bob's seed)."""
        return party.triple_tag(self.bob._dealer_seeds[tuple(self.DEALER)][0], number)

    def snapshot(self):
        return [state_of(w) for w in self.workers]

    def check_serving(self):
        assert torch.equal((self.x * self.y).get(), self.x_plain * self.y_plain)
        assert torch.equal((self.x > self.y).get(), (self.x_plain > self.y_plain).long())
        assert torch.equal((self.x + 1).get(), self.x_plain + 1)


@pytest.fixture
def arena(bob, alice, james, charlie):
    a = Arena(bob, alice, james, charlie)
    yield a
    for w in a.workers:  # the fixtures' workers may be found again by id in a later test
        w.MAX_TENSOR_NUMEL = BaseWorker.MAX_TENSOR_NUMEL
        w.MAX_OP_WORK = BaseWorker.MAX_OP_WORK


LONG = "s" * 100_000
PARTIES = ["bob", "alice"]
BAD_PARTIES = [["bob"], [], ["bob"] * 10_000, ["bob", "bob"], ["bob", "nobody"], "bob", None,
               [["bob"], "alice"], [LONG, "alice"], [1.5, "alice"], ["bob", "alice", "bob"], [b"bob", "alice"]]
SEED16, SEED32 = bytes(16), bytes(range(32))


def cases():
    """(step, name, who is asked, fields): each must be refused."""
    c = []

    def add(step, name, fields, who="bob"):
        c.append(pytest.param(step, who, fields, id=f"{step}-{name}"))

    # keep: tensors another worker made for this one
    add("keep", "nothing", lambda a: [])
    add("keep", "empty list", lambda a: [[]])
    add("keep", "nine tensors", lambda a: [[i64(1)] * 9])
    add("keep", "not a list", lambda a: [i64(1)])
    add("keep", "float", lambda a: [[torch.ones(2)]])
    add("keep", "int32", lambda a: [[torch.ones(2, dtype=torch.int32)]])
    add("keep", "uint8", lambda a: [[torch.ones(2, dtype=torch.uint8)]])
    add("keep", "beyond MAX_TENSOR_NUMEL", lambda a: [[i64(SMALL_LIMIT + 1)]])
    add("keep", "one good one bad", lambda a: [[i64(2), torch.ones(2)]])
    add("keep", "a number", lambda a: [[5]])
    add("keep", "extra field", lambda a: [[i64(2)], "extra"])
    # encode: fix_precision of a float tensor held here
    add("encode", "nothing", lambda a: [])
    add("encode", "no precision", lambda a: [a.F, 10])
    add("encode", "base as text", lambda a: [a.F, "10", 3])
    add("encode", "base 1", lambda a: [a.F, 1, 3])
    add("encode", "base 17", lambda a: [a.F, 17, 3])
    add("encode", "base bool", lambda a: [a.F, True, 3])
    add("encode", "precision 17", lambda a: [a.F, 10, 17])
    add("encode", "precision -1", lambda a: [a.F, 10, -1])
    add("encode", "precision huge", lambda a: [a.F, 10, 2 ** 63])
    add("encode", "int64 tensor", lambda a: [a.X, 10, 3])
    add("encode", "int32 tensor", lambda a: [a.I32, 10, 3])
    add("encode", "not a tensor", lambda a: ["x", 10, 3])
    add("encode", "nan", lambda a: [a.NAN, 10, 3])
    add("encode", "overflow", lambda a: [a.HUGE, 10, 3])
    add("encode", "unknown id", lambda a: [Ref(4242), 10, 3])
    add("encode", "a sent tensor beyond MAX_TENSOR_NUMEL", lambda a: [torch.ones(SMALL_LIMIT + 1), 10, 3])
    # share: a worker shares what it holds
    add("share", "nothing", lambda a: [])
    add("share", "no parties", lambda a: [a.X])
    add("share", "float", lambda a: [a.F, PARTIES])
    add("share", "int32", lambda a: [a.I32, PARTIES])
    add("share", "float64", lambda a: [a.F64, PARTIES])
    add("share", "beyond MAX_TENSOR_NUMEL", lambda a: [i64(SMALL_LIMIT + 1), PARTIES])
    for k, bad in enumerate(BAD_PARTIES):
        add("share", f"parties {k}", lambda a, bad=bad: [a.X, bad])
    # seed: a provider's seed for this party
    add("seed", "nothing", lambda a: [])
    add("seed", "no seed", lambda a: ["charlie"])
    add("seed", "31 bytes", lambda a: ["charlie", bytes(31)])
    add("seed", "33 bytes", lambda a: ["charlie", bytes(33)])
    add("seed", "empty", lambda a: ["charlie", b""])
    add("seed", "text", lambda a: ["charlie", "x" * 32])
    add("seed", "a tensor", lambda a: ["charlie", torch.zeros(32, dtype=torch.uint8)])
    add("seed", "provider float", lambda a: [1.5, SEED32])
    add("seed", "provider list", lambda a: [["charlie"], SEED32])
    add("seed", "provider None", lambda a: [None, SEED32])
    add("seed", "extra", lambda a: ["charlie", SEED32, 1])
    add("seed", "a second seed from james", lambda a: [a.DEALER, SEED32])
    # triple: the provider deals
    add("triple", "nothing", lambda a: [], who="james")
    add("triple", "unknown op", lambda a: ["div", [3], [3], PARTIES], who="james")
    add("triple", "not broadcasting", lambda a: ["mul", [3], [4], PARTIES], who="james")
    add("triple", "negative size", lambda a: ["mul", [-1], [3], PARTIES], who="james")
    add("triple", "huge shape", lambda a: ["mul", [2 ** 40], [2 ** 40], PARTIES], who="james")
    add("triple", "beyond MAX_TENSOR_NUMEL", lambda a: ["mul", [SMALL_LIMIT + 1], [1], PARTIES], who="james")
    add("triple", "broadcast beyond MAX_TENSOR_NUMEL", lambda a: ["mul", [60, 1], [1, 60], PARTIES], who="james")
    add("triple", "nine dimensions", lambda a: ["mul", [1] * 9, [1], PARTIES], who="james")
    add("triple", "shape as text", lambda a: ["mul", "3", [3], PARTIES], who="james")
    add("triple", "float size", lambda a: ["mul", [3.0], [3], PARTIES], who="james")
    add("triple", "matmul mismatch", lambda a: ["matmul", [2, 3], [4, 2], PARTIES], who="james")
    add("triple", "matmul 3-d", lambda a: ["matmul", [2, 3, 4], [4, 2], PARTIES], who="james")
    add("triple", "matmul beyond MAX_OP_WORK", lambda a: ["matmul", [16, 16], [16, 16], PARTIES], who="james")
    add("triple", "matmul result beyond MAX_TENSOR_NUMEL", lambda a: ["matmul", [60, 1], [1, 60], PARTIES], who="james")
    for k, bad in enumerate(BAD_PARTIES):
        add("triple", f"parties {k}", lambda a, bad=bad: ["mul", [3], [3], bad], who="james")
    # beaver_open: [op, x, y, provider, triple number]
    add("beaver_open", "nothing", lambda a: [])
    add("beaver_open", "unknown op", lambda a: ["div", a.X, a.Y, a.DEALER, 50, bytes(16)])
    add("beaver_open", "float x", lambda a: ["mul", a.F, a.Y, a.DEALER, 50, bytes(16)])
    add("beaver_open", "int32 y", lambda a: ["mul", a.X, a.I32, a.DEALER, 50, bytes(16)])
    add("beaver_open", "float64 x", lambda a: ["mul", a.F64, a.Y, a.DEALER, 50, bytes(16)])
    add("beaver_open", "not broadcasting", lambda a: ["mul", a.X, a.M34, a.DEALER, 50, bytes(16)])
    add("beaver_open", "matmul of vectors", lambda a: ["matmul", a.X, a.Y, a.DEALER, 50, bytes(16)])
    add("beaver_open", "matmul beyond MAX_OP_WORK", lambda a: ["matmul", i64(16, 16), i64(16, 16), a.DEALER, 50, bytes(16)])
    add("beaver_open", "no seed from that provider", lambda a: ["mul", a.X, a.Y, ["charlie", 0], 50, bytes(16)])
    add("beaver_open", "provider as a list", lambda a: ["mul", a.X, a.Y, ["james"], 50, bytes(16)])
    add("beaver_open", "100 KB provider id", lambda a: ["mul", a.X, a.Y, LONG, 50, bytes(16)])
    add("beaver_open", "triple 0", lambda a: ["mul", a.X, a.Y, a.DEALER, 0, bytes(16)])
    add("beaver_open", "negative triple", lambda a: ["mul", a.X, a.Y, a.DEALER, -5, bytes(16)])
    add("beaver_open", "triple 2**62", lambda a: ["mul", a.X, a.Y, a.DEALER, 2 ** 62, bytes(16)])
    add("beaver_open", "triple as text", lambda a: ["mul", a.X, a.Y, a.DEALER, "50", bytes(16)])
    add("beaver_open", "triple as float", lambda a: ["mul", a.X, a.Y, a.DEALER, 50.0, bytes(16)])
    add("beaver_open", "a used triple", lambda a: ["mul", a.X, a.Y, a.DEALER, a.used_triple, a.tag(a.used_triple)])
    add("beaver_open", "a wrong tag", lambda a: ["mul", a.X, a.Y, a.DEALER, a.used_triple + 1, bytes(16)])
    add("beaver_open", "no tag", lambda a: ["mul", a.X, a.Y, a.DEALER, a.used_triple + 1])
    add("beaver_open", "unknown id", lambda a: ["mul", Ref(4242), a.Y, a.DEALER, 50, bytes(16)])
    # beaver_close: [op, d, e, provider, number, index, parties, divisor, c of the last party]
    good_close = lambda a, **k: [k.get("op", "mul"), k.get("d", i64(3)), k.get("e", i64(3)),  # noqa: E731
                                 k.get("provider", a.DEALER), k.get("number", a.used_triple),
                                 k.get("index", 0), k.get("parties", 2), k.get("divisor", 1),
                                 k.get("c", None)]
    add("beaver_close", "nothing", lambda a: [])
    add("beaver_close", "eight fields", lambda a: good_close(a)[:8])
    add("beaver_close", "unknown op", lambda a: good_close(a, op="div"))
    add("beaver_close", "float d", lambda a: good_close(a, d=torch.ones(3)))
    add("beaver_close", "int32 e", lambda a: good_close(a, e=torch.ones(3, dtype=torch.int32)))
    add("beaver_close", "not broadcasting", lambda a: good_close(a, e=i64(4)))
    add("beaver_close", "broadcast beyond MAX_TENSOR_NUMEL", lambda a: good_close(a, d=i64(60, 1), e=i64(1, 60)))
    add("beaver_close", "matmul of vectors", lambda a: good_close(a, op="matmul"))
    add("beaver_close", "matmul mismatch", lambda a: good_close(a, op="matmul", d=i64(2, 3), e=i64(4, 2)))
    add("beaver_close", "matmul beyond MAX_OP_WORK", lambda a: good_close(a, op="matmul", d=i64(16, 16), e=i64(16, 16)))
    add("beaver_close", "matmul result beyond MAX_TENSOR_NUMEL",
        lambda a: good_close(a, op="matmul", d=i64(30, 1), e=i64(1, 30)))
    add("beaver_close", "index = parties", lambda a: good_close(a, index=2))
    add("beaver_close", "negative index", lambda a: good_close(a, index=-1))
    add("beaver_close", "17 parties", lambda a: good_close(a, index=0, parties=17))
    add("beaver_close", "no parties", lambda a: good_close(a, parties=0))
    add("beaver_close", "index as text", lambda a: good_close(a, index="0"))
    add("beaver_close", "negative divisor", lambda a: good_close(a, divisor=-1))
    add("beaver_close", "divisor as float", lambda a: good_close(a, divisor=1000.0))
    add("beaver_close", "divisor with 3 parties", lambda a: good_close(a, parties=3, divisor=1000))
    add("beaver_close", "last party without c", lambda a: good_close(a, index=1))
    add("beaver_close", "c for a party that is not last", lambda a: good_close(a, c=i64(3)))
    add("beaver_close", "c of the wrong shape", lambda a: good_close(a, index=1, c=i64(4)))
    add("beaver_close", "float c", lambda a: good_close(a, index=1, c=torch.ones(3)))
    add("beaver_close", "int16 c", lambda a: good_close(a, index=1, c=torch.ones(3, dtype=torch.int16)))
    add("beaver_close", "no seed from that provider", lambda a: good_close(a, provider="charlie"))
    add("beaver_close", "provider as a list", lambda a: good_close(a, provider=["james"]))
    add("beaver_close", "triple 0", lambda a: good_close(a, number=0))
    add("beaver_close", "triple as text", lambda a: good_close(a, number="1"))
    # public_mul: [x, public, op, public on the right, divisor, index]
    good_mul = lambda a, **k: [k.get("x", a.X), k.get("pub", i64(3)), k.get("op", "mul"), k.get("right", True),  # noqa: E731
                               k.get("divisor", 1), k.get("index", 0)]
    add("public_mul", "nothing", lambda a: [])
    add("public_mul", "five fields", lambda a: good_mul(a)[:5])
    add("public_mul", "float x", lambda a: good_mul(a, x=a.F))
    add("public_mul", "int32 x", lambda a: good_mul(a, x=a.I32))
    add("public_mul", "float public", lambda a: good_mul(a, pub=torch.ones(3)))
    add("public_mul", "int32 public", lambda a: good_mul(a, pub=torch.ones(3, dtype=torch.int32)))
    add("public_mul", "public as a number", lambda a: good_mul(a, pub=3))
    add("public_mul", "unknown op", lambda a: good_mul(a, op="div"))
    add("public_mul", "side as int", lambda a: good_mul(a, right=1))
    add("public_mul", "negative divisor", lambda a: good_mul(a, divisor=-1))
    add("public_mul", "index 16", lambda a: good_mul(a, index=16))
    add("public_mul", "negative index", lambda a: good_mul(a, index=-1))
    add("public_mul", "divisor for a third party", lambda a: good_mul(a, divisor=1000, index=2))
    add("public_mul", "not broadcasting", lambda a: good_mul(a, pub=i64(4)))
    add("public_mul", "public beyond MAX_TENSOR_NUMEL", lambda a: good_mul(a, pub=i64(SMALL_LIMIT + 1, 1)))
    add("public_mul", "broadcast beyond MAX_TENSOR_NUMEL", lambda a: good_mul(a, x=a.M34, pub=i64(30, 1, 4)))
    add("public_mul", "matmul of vectors", lambda a: good_mul(a, op="matmul"))
    add("public_mul", "matmul mismatch", lambda a: good_mul(a, x=a.M34, pub=i64(3, 2), op="matmul"))
    add("public_mul", "matmul beyond MAX_OP_WORK", lambda a: good_mul(a, x=i64(16, 16), pub=i64(16, 16), op="matmul"))
    add("public_mul", "matmul result beyond MAX_TENSOR_NUMEL", lambda a: good_mul(a, x=i64(30, 1), pub=i64(1, 30), op="matmul"))
    # public_add: [x, public or None]
    add("public_add", "nothing", lambda a: [])
    add("public_add", "one field", lambda a: [a.X])
    add("public_add", "float x", lambda a: [a.F, i64(3)])
    add("public_add", "int32 x", lambda a: [a.I32, None])
    add("public_add", "float public", lambda a: [a.X, torch.ones(3)])
    add("public_add", "int32 public", lambda a: [a.X, torch.ones(3, dtype=torch.int32)])
    add("public_add", "public as a number", lambda a: [a.X, 3])
    add("public_add", "not broadcasting", lambda a: [a.X, i64(4)])
    add("public_add", "broadcast beyond MAX_TENSOR_NUMEL", lambda a: [a.M34, i64(30, 1, 4)])
    add("public_add", "a sent share beyond MAX_TENSOR_NUMEL", lambda a: [i64(SMALL_LIMIT + 1), None])
    # cmp_setup: [shape, parties], to the provider
    add("cmp_setup", "nothing", lambda a: [], who="james")
    add("cmp_setup", "shape as text", lambda a: ["3", PARTIES], who="james")
    add("cmp_setup", "negative size", lambda a: [[-3], PARTIES], who="james")
    add("cmp_setup", "huge shape", lambda a: [[2 ** 40, 2 ** 40], PARTIES], who="james")
    add("cmp_setup", "64 bits each beyond MAX_TENSOR_NUMEL", lambda a: [[5], PARTIES], who="james")
    add("cmp_setup", "nine dimensions", lambda a: [[1] * 9, PARTIES], who="james")
    for k, bad in enumerate(BAD_PARTIES):
        add("cmp_setup", f"parties {k}", lambda a, bad=bad: [[1], bad], who="james")
    # cmp_open: [x, r]
    add("cmp_open", "nothing", lambda a: [])
    add("cmp_open", "float x", lambda a: [a.F, a.masks[0]])
    add("cmp_open", "int32 r", lambda a: [a.X, a.I32])
    add("cmp_open", "shapes differ", lambda a: [a.X, a.M34])
    add("cmp_open", "three fields", lambda a: [a.X, a.masks[0], a.X])
    # cmp_terms: [c, bits, seed, index, provider, comparison]
    good_terms = lambda a, **k: [k.get("c", i64(3)), k.get("bits", a.masks[1]), k.get("seed", SEED16),  # noqa: E731
                                 k.get("index", 1), k.get("provider", "james"), k.get("state", a.state_id)]
    add("cmp_terms", "nothing", lambda a: [])
    add("cmp_terms", "five fields", lambda a: good_terms(a)[:5])
    add("cmp_terms", "15-byte seed", lambda a: good_terms(a, seed=bytes(15)))
    add("cmp_terms", "17-byte seed", lambda a: good_terms(a, seed=bytes(17)))
    add("cmp_terms", "seed as text", lambda a: good_terms(a, seed="x" * 16))
    add("cmp_terms", "negative index", lambda a: good_terms(a, index=-1))
    add("cmp_terms", "index as text", lambda a: good_terms(a, index="1"))
    add("cmp_terms", "bits int64", lambda a: good_terms(a, bits=i64(3, compare.POSITIONS)))
    add("cmp_terms", "bits float", lambda a: good_terms(a, bits=torch.zeros(3, compare.POSITIONS)))
    add("cmp_terms", "bits of another shape", lambda a: good_terms(a, c=i64(2)))
    add("cmp_terms", "float c", lambda a: good_terms(a, c=torch.ones(3)))
    add("cmp_terms", "int32 c", lambda a: good_terms(a, c=torch.ones(3, dtype=torch.int32)))
    add("cmp_terms", "unknown provider", lambda a: good_terms(a, provider="nobody"))
    add("cmp_terms", "100 KB provider id", lambda a: good_terms(a, provider=LONG))
    add("cmp_terms", "unknown comparison", lambda a: good_terms(a, state=4242))
    add("cmp_terms", "comparison as text", lambda a: good_terms(a, state="1"))
    add("cmp_terms", "terms sent twice (index 0 is in)", lambda a: good_terms(a, index=0))
    # cmp_in: [comparison, index, terms], to the provider
    terms = lambda n=3: torch.zeros(n, compare.POSITIONS, dtype=torch.int16)  # noqa: E731
    add("cmp_in", "nothing", lambda a: [], who="james")
    add("cmp_in", "unknown comparison", lambda a: [4242, 1, terms()], who="james")
    add("cmp_in", "comparison as text", lambda a: [str(a.state_id), 1, terms()], who="james")
    add("cmp_in", "sent twice", lambda a: [a.state_id, 0, terms()], who="james")
    add("cmp_in", "index = parties", lambda a: [a.state_id, 2, terms()], who="james")
    add("cmp_in", "negative index", lambda a: [a.state_id, -1, terms()], who="james")
    add("cmp_in", "int64 terms", lambda a: [a.state_id, 1, terms().long()], who="james")
    add("cmp_in", "float terms", lambda a: [a.state_id, 1, terms().float()], who="james")
    add("cmp_in", "terms of another shape", lambda a: [a.state_id, 1, terms(4)], who="james")
    add("cmp_in", "terms transposed", lambda a: [a.state_id, 1, terms().t()], who="james")
    add("cmp_in", "no terms", lambda a: [a.state_id, 1, None], who="james")
    add("cmp_in", "terms as a list", lambda a: [a.state_id, 1, terms().tolist()], who="james")
    # cmp_finish: [comparison, parties], to the provider
    add("cmp_finish", "nothing", lambda a: [], who="james")
    add("cmp_finish", "unknown comparison", lambda a: [4242, PARTIES], who="james")
    add("cmp_finish", "before every party's terms", lambda a: [a.state_id, PARTIES], who="james")
    add("cmp_finish", "comparison as text", lambda a: [str(a.state_id), PARTIES], who="james")
    for k, bad in enumerate(BAD_PARTIES):
        add("cmp_finish", f"parties {k}", lambda a, bad=bad: [a.state_id, bad], who="james")
    # cmp_result: [c, gamma, seed, index]
    add("cmp_result", "nothing", lambda a: [])
    add("cmp_result", "15-byte seed", lambda a: [i64(3), a.Y, bytes(15), 0])
    add("cmp_result", "seed as text", lambda a: [i64(3), a.Y, "x" * 16, 0])
    add("cmp_result", "float c", lambda a: [torch.ones(3), a.Y, SEED16, 0])
    add("cmp_result", "int32 gamma", lambda a: [i64(3), a.I32, SEED16, 0])
    add("cmp_result", "float gamma", lambda a: [i64(3), a.F, SEED16, 0])
    add("cmp_result", "gamma of another shape", lambda a: [i64(3), a.M34, SEED16, 0])
    add("cmp_result", "index as text", lambda a: [i64(3), a.Y, SEED16, "0"])
    add("cmp_result", "unknown gamma", lambda a: [i64(3), Ref(4242), SEED16, 0])
    add("cmp_result", "beyond MAX_TENSOR_NUMEL", lambda a: [i64(SMALL_LIMIT + 1), i64(SMALL_LIMIT + 1), SEED16, 0])
    return c


CASES = cases()


@pytest.mark.parametrize("step, who, fields", CASES)
def test_a_malformed_step_is_refused_and_changes_nothing(arena, step, who, fields):
    worker = getattr(arena, who)
    before = arena.snapshot()
    ok, value = mpc(worker, step, *fields(arena))
    assert not ok, value
    type_name, message = value
    assert type_name in REFUSALS, value
    assert isinstance(message, str) and message and len(message) <= worker.MAX_ERROR_CHARS
    assert "tensor(" not in message and "s" * 100 not in message
    assert_same_state(before, arena.snapshot())
    arena.check_serving()


def test_every_step_has_hostile_cases():
    covered = {case.values[0] for case in CASES}
    assert covered == set(party.STEPS), set(party.STEPS) ^ covered


@pytest.mark.parametrize("step", [
    "nope", "", "KEEP", "keep ", LONG, 5, None, 1.5, b"keep", ["keep"], {"step": "keep"}, True,
])
def test_unknown_steps(arena, step):
    before = arena.snapshot()
    ok, value = mpc(arena.bob, step)
    assert not ok and value[0] == "MalformedMessageError" and "unknown step" in value[1], value
    assert len(value[1]) < 100
    ok, value = codec.decode_reply(arena.bob.recv_msg(codec.encode(["mpc", []])), PLAIN)
    assert not ok and value[0] == "MalformedMessageError"
    assert_same_state(before, arena.snapshot())
    arena.check_serving()


def test_random_fields_for_every_step(arena):
    """Fields drawn from a pool of plausible and implausible values, 3,000 requests: every
    reply is a reply (an error, or a result when the draw happened to be valid), every existing
    object keeps its value, and the workers still compute."""
    a = arena
    rng = random.Random(20261127)
    pool = [None, True, 0, 1, 2, -1, 3, 2 ** 62, 1.5, "", "mul", "matmul", "james", "bob", "alice",
            "nobody", SEED16, SEED32, bytes(31), [], [3], [2, 2], [-1], [2 ** 40], PARTIES, ["bob"],
            ["bob", "bob"], i64(3), i64(1), i64(2, 2), torch.ones(3), torch.ones(3, dtype=torch.int32),
            torch.zeros(3, compare.POSITIONS, dtype=torch.int16), a.X, a.Y, a.F, a.I32, a.M34, a.BITS,
            a.masks[0], a.masks[1], a.state_id, a.used_triple, Ref(4242), {"a": 1}]
    existing = {w.id: {k: v.clone() for k, v in w._objects.items()} for w in a.workers}
    steps = sorted(party.STEPS) + ["nope"]
    kinds = set()
    for _ in range(3000):
        step = rng.choice(steps)
        fields = [rng.choice(pool) for _ in range(rng.randint(0, 10))]
        who = rng.choice(a.workers)
        ok, value = mpc(who, step, *fields)
        if not ok:
            kinds.add(value[0])
            assert len(value[1]) <= who.MAX_ERROR_CHARS
    assert kinds <= REFUSALS, kinds
    for w in a.workers:  # what was there is unchanged (a valid draw may have added something)
        for k, v in existing[w.id].items():
            if k in w._objects:  # a draw may have used up masks or gamma legitimately
                torch.testing.assert_close(w._objects[k], v, rtol=0, atol=0, equal_nan=True)
        for k in (a.X.id, a.Y.id):
            if w is a.bob:
                assert k in w._objects
    a.check_serving()


# --- triples are used once -------------------------------------------------------------------
def test_a_triple_opens_once(arena):
    """A triple masks one product only: opening it again with other values would show their
    difference. The caller's own multiplications open a fresh one each time."""
    a = arena
    number = a.used_triple
    ok, value = mpc(a.bob, "beaver_open", "mul", a.X, a.Y, a.DEALER, number, a.tag(number))
    assert not ok and "used already" in value[1]
    for _ in range(3):
        a.check_serving()
    fresh = a.james.__dict__["_triples_dealt"]
    assert fresh > number
    ok, value = mpc(a.bob, "beaver_open", "mul", a.X, a.Y, a.DEALER, fresh, a.tag(fresh))
    assert not ok and "used already" in value[1]


def test_a_beaver_close_keeps_its_product_only(arena):
    """A multiplication leaves the product's shares and nothing else: no triple is stored."""
    a = arena
    before = {w.id: set(w._objects) for w in a.workers}
    z = a.x * a.y
    new = {w.id: set(w._objects) - before[w.id] for w in a.workers}
    assert new["bob"] == {z.child["bob"].id_at_location}
    assert new["alice"] == {z.child["alice"].id_at_location}
    assert not new["james"] and not new["charlie"]
    assert torch.equal(z.get(), a.x_plain * a.y_plain)


def test_a_comparison_uses_up_its_masks(arena):
    a = arena
    before = {w.id: set(w._objects) for w in a.workers}
    pending = set(a.james._comparisons)
    result = a.x > a.y
    new = {w.id: set(w._objects) - before[w.id] for w in a.workers}
    assert new["bob"] == {result.child["bob"].id_at_location}
    assert new["alice"] == {result.child["alice"].id_at_location}
    assert not new["james"] and set(a.james._comparisons) == pending
    assert torch.equal(result.get(), (a.x_plain > a.y_plain).long())


# --- well-formed requests that must not stop later computations ------------------------------
def test_a_seed_sent_in_a_provider_s_name_does_not_stop_its_triples(bob, alice, charlie):
    """seed names its provider in a field: anyone who reaches bob can send one for a provider
    that has not dealt to bob yet. Its later triples must still work, with its own seed."""
    x = torch.tensor([5, -7]).share(bob, alice, crypto_provider=charlie)
    ok, value = mpc(bob, "seed", ["charlie", 12345], bytes(32))  # charlie's incarnation is random
    assert ok, value
    assert torch.equal((x * x).get(), torch.tensor([25, 49]))


def test_opening_a_far_triple_number_does_not_stop_later_products(arena):
    """beaver_open takes the triple number from the request, and a number opens only if it is
    above every one opened before: a request with the largest number must not make every
    later product fail."""
    a = arena
    seed = a.bob._dealer_seeds[tuple(a.DEALER)][0]
    ok, value = mpc(a.bob, "beaver_open", "mul", a.X, a.Y, a.DEALER, 2 ** 62 - 1, bytes(16))
    assert not ok and "not dealt" in value[1], value  # a made-up number does not open
    assert len(seed) == 32  # only the provider's seed makes a valid tag
    a.check_serving()


# --- floods and half-made deliveries ---------------------------------------------------------
def test_a_flood_of_seeds_is_refused_and_does_not_push_out_the_real_dealer(arena, monkeypatch):
    """Seeds beyond MAX_SEEDS are refused, not made room for: the provider that already dealt
    to bob keeps working."""
    a = arena
    monkeypatch.setattr(party, "MAX_SEEDS", len(a.bob._dealer_seeds) + 3)
    results = [mpc(a.bob, "seed", [f"fake{i}", i], SEED32)[0] for i in range(10)]
    assert results == [True] * 3 + [False] * 7
    a.check_serving()


def test_a_comparison_refused_by_one_party_leaves_nothing_anywhere(arena):
    """alice refuses her masks (too large for her): bob's are taken back, and james keeps no
    open comparison for it."""
    a = arena
    before = {w.id: set(w._objects) for w in a.workers}
    pending = set(a.james._comparisons)
    a.alice.MAX_TENSOR_NUMEL = 3 * 64 - 1  # bob takes the 3 x 64 mask bits, alice does not
    ok, value = mpc(a.james, "cmp_setup", [3], ["bob", "alice"])
    assert not ok and value[0] == "ResourceLimitError", value
    assert set(a.james._comparisons) == pending
    assert {w.id: set(w._objects) for w in a.workers} == before


def test_a_comparison_flood_is_refused_and_leaves_open_comparisons_alone(arena, monkeypatch):
    a = arena
    from jupyter_syft.crypto import compare as cmp
    monkeypatch.setattr(cmp, "MAX_PENDING", len(a.james._comparisons) + 1)
    assert mpc(a.james, "cmp_setup", [3], ["bob", "alice"])[0]
    ok, value = mpc(a.james, "cmp_setup", [3], ["bob", "alice"])
    assert not ok and "at most" in value[1]
    assert a.state_id in a.james._comparisons


def test_only_the_triple_opened_last_can_be_closed(arena):
    """Closing a future triple would hand out its shares before it masks anything."""
    a = arena
    future = a.used_triple + 5
    fields = ["mul", i64(3), i64(3), a.DEALER, future, 0, 2, 1, None]
    ok, value = mpc(a.bob, "beaver_close", *fields)
    assert not ok and "opened last" in value[1]
    a.check_serving()
