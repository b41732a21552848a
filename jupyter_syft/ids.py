"""Object ids: random integers of 11 digits, like PySyft 0.2's.

Always 11 digits (PySyft's were usually 10 or 11): a printed dict of ids then breaks into lines
the same way every time, which keeps notebooks' stored outputs comparable.

They come from ``secrets`` (the operating system's CSPRNG), not Python's Mersenne Twister: an id
names an object on a worker that other clients may share, so it must not be predictable from the
ids a client has seen. Random bytes are read 8 KiB at a time; each id takes 37 bits, and values
past the 9 * 10**10 ids of the range are skipped (so every id is equally likely).
"""
import secrets
import struct

_LOW, _SPAN = 10 ** 10, 9 * 10 ** 10
_SHIFT = 64 - (_SPAN - 1).bit_length()  # keep the top 37 bits of each 64-bit word
_BATCH = 1024  # words per read


def _fresh_words():
    return struct.iter_unpack("<Q", secrets.token_bytes(8 * _BATCH))


_words = _fresh_words()


def new_id() -> int:
    global _words
    while True:
        word = next(_words, None)  # one C call: two threads never get the same word
        if word is None:  # used up (two threads may both refill; either batch is fresh)
            _words = _fresh_words()
            continue
        value = word[0] >> _SHIFT
        if value < _SPAN:
            return _LOW + value
