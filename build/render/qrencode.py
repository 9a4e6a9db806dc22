"""The mask-0 QR symbol of a statement's two segments, in whole-byte operations.

segno took 1.6 ms a code to make it, bit by bit in Python lists: the segments' bits,
Reed-Solomon blocks by nested loops, each module placed and masked one at a time.
Here the segments are one integer, each block's error correction a table look-up
and shift a codeword, and the symbol one gather through a map made once per
version from segno's own function patterns, placement order and format information.
The symbol is segno's, module for module (tests/test_qrmask.py checks every version).
"""

from __future__ import annotations

from functools import cache
from itertools import chain, zip_longest
from operator import itemgetter
from typing import Any

import segno
import segno.consts
import segno.encoder

# segno's tables and its matrix helpers carry no usable annotations.
consts: Any = segno.consts
encoder: Any = segno.encoder

_LEVEL = consts.ERROR_LEVEL_M
_PAD = bytes([0xEC, 0x11])
_ZERO_ONE = bytes.maketrans(b"01", b"\x00\x01")
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")
_NUMERIC_BITS = {3: 10, 2: 7, 1: 4}  # bits of a group of 3, 2 or 1 digits
_MARK = 1 << 20  # placement marks, above any module value


def fitting_version(prefix: bytes, digits: str, most: int) -> int | None:
    """The smallest version up to ``most`` whose level-M capacity holds both segments."""
    for version in range(1, most + 1):
        if _data_bits(prefix, digits, version) <= consts.SYMBOL_CAPACITY[version][_LEVEL]:
            return version
    return None


def _data_bits(prefix: bytes, digits: str, version: int) -> int:
    counts = _count_bits(version)
    whole, rest = divmod(len(digits), 3)
    return (8 + counts[0] + 8 * len(prefix) + counts[1] + 10 * whole
            + (_NUMERIC_BITS[rest] if rest else 0))


def _count_bits(version: int) -> tuple[int, int]:
    """The character count indicator's length for the byte and the numeric segment."""
    span = consts.VERSION_RANGE_01_09 if version < 10 else consts.VERSION_RANGE_10_26
    lengths = consts.CHAR_COUNT_INDICATOR_LENGTH
    return lengths[consts.MODE_BYTE][span], lengths[consts.MODE_NUMERIC][span]


def mask_zero_symbol(prefix: bytes, digits: str, version: int) -> tuple[bytes, ...]:
    """The rows of the symbol segno makes for these segments at this version with mask 0."""
    size, gather = _layout(version)
    message = _final_message(_codewords(prefix, digits, version), version)
    bits = format(int.from_bytes(message, "big"), "b").zfill(8 * len(message)).encode()
    bits = bits.translate(_ZERO_ONE) + bytes(_remainder(version))
    modules = bytes(gather(bits + bits.translate(_FLIP) + b"\x00\x01"))
    return tuple(modules[i : i + size] for i in range(0, size * size, size))


def _codewords(prefix: bytes, digits: str, version: int) -> bytes:
    """The data codewords: both segments, terminator and padding as segno writes them."""
    byte_count, digit_count = _count_bits(version)
    value: int = (consts.MODE_BYTE << byte_count | len(prefix)) << 8 * len(prefix)
    value |= int.from_bytes(prefix, "big")
    value = (value << 4 | consts.MODE_NUMERIC) << digit_count | len(digits)
    length = 8 + byte_count + 8 * len(prefix) + digit_count
    for i in range(0, len(digits), 3):
        group = digits[i : i + 3]
        width = _NUMERIC_BITS[len(group)]
        value, length = value << width | int(group), length + width
    capacity: int = consts.SYMBOL_CAPACITY[version][_LEVEL]
    # Terminator, then zero bits to the next codeword: a whole zero codeword when the
    # data already ends on one, as segno writes it (then the alternating pad codewords).
    padding: int = min(capacity - length, consts.TERMINATOR_LENGTH[None])
    padding += 8 - (length + padding) % 8
    value, length = value << padding, length + padding
    data = value.to_bytes(length // 8, "big") + _PAD * (capacity // 16)
    return data[: capacity // 8]


def _final_message(data: bytes, version: int) -> bytes:
    """Data and error correction codewords, interleaved block by block."""
    blocks: list[bytes] = []
    errors: list[bytes] = []
    at = 0
    for info in consts.ECC[version][_LEVEL]:
        count = info.num_total - info.num_data
        for _ in range(info.num_blocks):
            block = data[at : at + info.num_data]
            at += info.num_data
            blocks.append(block)
            errors.append(_error_words(block, count))
    return bytes(b for b in chain(chain.from_iterable(zip_longest(*blocks)),
                                  chain.from_iterable(zip_longest(*errors))) if b is not None)


def _error_words(block: bytes, count: int) -> bytes:
    """The block's Reed-Solomon remainder: one table look-up and shift per codeword."""
    table, top, keep = _generator_multiples(count)
    remainder = 0
    for byte in block:
        remainder = ((remainder << 8) & keep) ^ table[byte ^ (remainder >> top)]
    return remainder.to_bytes(count, "big")


@cache
def _generator_multiples(count: int) -> tuple[tuple[int, ...], int, int]:
    """For each leading coefficient, the generator polynomial times it, as one integer."""
    log, exp, gen = consts.GALIOS_LOG, consts.GALIOS_EXP, consts.GEN_POLY[count]
    table = [0] + [int.from_bytes(bytes(exp[log[c] + g] for g in gen), "big")
                   for c in range(1, 256)]
    return tuple(table), 8 * (count - 1), (1 << 8 * count) - 1


def _remainder(version: int) -> int:
    """Remainder bits after the last codeword (ISO/IEC 18004 table 1)."""
    return 7 if 2 <= version <= 6 else 0  # none from 7 to 13, the versions past 10 unused


@cache
def _layout(version: int) -> tuple[int, itemgetter[bytes]]:
    """The symbol's size and, per module, where its value comes from in the message bits.

    The message's ``n`` bits are followed by their complements (mask 0 darkens a data
    module where row + column is even) and by a light and a dark module, so that a
    function pattern, the format and the version information are plain copies.
    """
    size = encoder.calc_matrix_size(version)
    matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(matrix, size, size)
    encoder.add_alignment_patterns(matrix, size, size)
    count = sum(row.count(2) for row in matrix)
    marked = [list(row) for row in matrix]
    encoder.add_codewords(marked, range(_MARK, _MARK + count), version)
    fixed = segno.make("0", error="M", version=version, mask=0, boost_error=False,
                       micro=False).matrix
    sources = []
    for i, row in enumerate(marked):
        for j, value in enumerate(row):
            if value >= _MARK:
                sources.append(value - _MARK + (count if (i + j) % 2 == 0 else 0))
            else:
                sources.append(2 * count + fixed[i][j])
    return size, itemgetter(*sources)
