"""ISO/IEC 18004 data-mask selection for a QR symbol, in whole-symbol bit arithmetic.

segno chooses the mask by scoring eight masked copies of the symbol one module at a
time in Python: about 7 ms of the 10 ms a version-10 statement QR took. Here a
symbol is one integer, a row (or, for the column rules, a column) every ``n + 4``
bits, the four zero bits after each line standing for the light area around the
symbol; every penalty rule of ISO/IEC 18004:2015 7.8.3.1 (table 11) is then a few
shifts, ANDs and popcounts over the whole symbol, about 50 us per candidate.

The eight candidates come from one symbol made with mask 0. Masking XORs a fixed
pattern onto the encoding region, and the format and version information depend
only on the error level, mask and version, so candidate k is symbol 0 XOR a delta
that is the same for every message of that version and level (``qr.mask_deltas``
learns them once per version from symbols that segno makes). Candidates are scored whole, format and
version information included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

GUARD = 4  # light bits after each line: the rules never look further than 4 modules out
_BITS = bytes.maketrans(b"\x00\x01", b"01")
_UNBITS = bytes.maketrans(b"01", b"\x00\x01")


@dataclass(frozen=True)
class Packed:
    """A symbol as two integers: row-major and column-major, each line followed by GUARD zeros."""

    size: int
    rows: int
    cols: int

    def __xor__(self, other: Packed) -> Packed:
        if self.size != other.size:
            raise ValueError("symbols of different sizes")
        return Packed(self.size, self.rows ^ other.rows, self.cols ^ other.cols)


def pack(matrix: Sequence[bytes | bytearray]) -> Packed:
    """Pack a square matrix of 0 (light) and 1 (dark) module values."""
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        raise ValueError("a QR matrix must be square")
    guard = bytes(GUARD)
    rows = b"".join(bytes(row) + guard for row in matrix)
    cols = b"".join(bytes(col) + guard for col in zip(*matrix, strict=True))
    return Packed(n, _to_int(rows), _to_int(cols))


def unpack(symbol: Packed) -> tuple[bytes, ...]:
    """The rows of a packed symbol, 0 (light) and 1 (dark) per module: pack's inverse."""
    n, width = symbol.size, symbol.size + GUARD
    modules = format(symbol.rows, "b").encode()[::-1].ljust(n * width, b"0")
    modules = modules.translate(_UNBITS)
    return tuple(modules[i * width : i * width + n] for i in range(n))


def _to_int(modules: bytes) -> int:
    # bit i of the integer is modules[i]
    return int(modules[::-1].translate(_BITS) or b"0", 2)


@dataclass(frozen=True)
class _Lines:
    """Bit masks of where each rule may start, for one symbol size."""

    pairs: int  # (line, j) with j <= n - 2: module j and j + 1 are both in the line
    not_last: int  # every module of lines 0 .. n - 2
    finder_starts: int  # (line, j) with j <= n - 7
    width: int


@cache
def _lines(n: int) -> _Lines:
    width = n + GUARD

    def every_line(first: int, count: int, lines: int) -> int:
        run = ((1 << count) - 1) << first
        return sum(run << (i * width) for i in range(lines))

    return _Lines(every_line(0, n - 1, n), every_line(0, n, n - 1),
                  every_line(0, n - 6, n), width)


def penalty(symbol: Packed) -> tuple[int, int, int, int]:
    """The four penalty scores (N1 runs, N2 blocks, N3 finder-like, N4 balance) of a symbol."""
    n = symbol.size
    lines = _lines(n)
    same_right, row_runs, row_finders = _line_rules(symbol.rows, lines)
    _, col_runs, col_finders = _line_rules(symbol.cols, lines)
    rows, w = symbol.rows, lines.width
    same_below = ~(rows ^ (rows >> w)) & lines.not_last
    n2 = 3 * (same_right & (same_right >> w) & same_below).bit_count()
    dark, total = rows.bit_count(), n * n
    n4 = 10 * (abs(20 * dark - 10 * total) // total)  # 10 per full 5% away from half dark
    return row_runs + col_runs, n2, row_finders + col_finders, n4


def _line_rules(bits: int, lines: _Lines) -> tuple[int, int, int]:
    """Along each line: where a module matches the next, and the N1 and N3 scores."""
    same = ~(bits ^ (bits >> 1)) & lines.pairs  # module j has the colour of j + 1
    five = same & (same >> 1) & (same >> 2) & (same >> 3)  # a run of 5 starts here
    # A run of length L >= 5 sets L - 4 bits of `five` and scores 3 + (L - 5).
    runs = five.bit_count() + 2 * (five & ~(five << 1)).bit_count()
    light = ~bits
    finder = (bits & (light >> 1) & (bits >> 2) & (bits >> 3) & (bits >> 4)
              & (light >> 5) & (bits >> 6) & lines.finder_starts)  # 1011101
    before = ~((bits << 1) | (bits << 2) | (bits << 3) | (bits << 4))
    after = ~((bits >> 7) | (bits >> 8) | (bits >> 9) | (bits >> 10))
    return same, runs, 40 * (finder & (before | after)).bit_count()


def best_mask(symbol0: Packed, deltas: Sequence[Packed]) -> int:
    """The mask (0-7) whose candidate, symbol0 XOR deltas[k], has the lowest total penalty."""
    if len(deltas) != 8:
        raise ValueError("one delta per mask pattern, 8 in all")
    scores = [sum(penalty(symbol0 ^ delta)) for delta in deltas]
    return scores.index(min(scores))  # ties go to the lower mask number, as in segno
