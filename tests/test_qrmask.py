"""Mask selection: the ISO penalty rules in bit arithmetic agree with a plain reading of them."""

from __future__ import annotations

import random
import re

import pytest
import segno
import segno.encoder
import zxingcpp
from PIL import Image

from results_online.build.render.qr import MAX_VERSION, make_qr, mask_deltas, qr_segments
from results_online.build.render.qrencode import fitting_version, mask_zero_symbol
from results_online.build.render.qrmask import pack, penalty, unpack

PREFIX = "https://verify.example.org/q#"


def texts(count: int, seed: int = 7) -> list[str]:
    """QR texts like a statement's: the verify URL and 300-370 token digits."""
    rng = random.Random(seed)
    return [PREFIX + "".join(rng.choice("0123456789") for _ in range(rng.randint(300, 370)))
            for _ in range(count)]


def symbol(text: str, mask: int) -> segno.QRCode:
    """The symbol segno makes for the statement segments with this mask."""
    prefix, digits = qr_segments(text)
    segments = [(prefix, segno.consts.MODE_BYTE), (digits, segno.consts.MODE_NUMERIC)]
    return segno.make(segments, error="M", mask=mask, boost_error=False, micro=False)  # type: ignore[arg-type]


def finder_like(line: str) -> int:
    """Occurrences of 1011101 with four light modules before or after (outside is light)."""
    padded = "0000" + line + "0000"
    return sum(1 for m in re.finditer("(?=1011101)", padded)
               if padded[m.start() - 4 : m.start()] == "0000"
               or padded[m.start() + 7 : m.start() + 11] == "0000")


def plain_penalty(matrix: tuple[bytearray, ...]) -> tuple[int, int, int, int]:
    """ISO/IEC 18004 table 11, one module at a time; N1, N2 and N4 as segno scores them."""
    n = len(matrix)
    n1, n2, _, n4 = segno.encoder.mask_scores(matrix, n, n)
    lines = ["".join(map(str, row)) for row in matrix]
    lines += ["".join(str(matrix[j][i]) for j in range(n)) for i in range(n)]
    return n1, n2, 40 * sum(finder_like(line) for line in lines), n4


@pytest.mark.parametrize("text", texts(12))
def test_every_candidate_scores_as_the_plain_rules_say(text: str) -> None:
    for k in range(8):
        matrix = symbol(text, k).matrix
        assert penalty(pack(matrix)) == plain_penalty(matrix)


def test_overlapping_finder_like_patterns_each_count() -> None:
    # segno stops looking 7 modules after a pattern it counted, so it misses the second
    # of two that share a module; each is a finder-like feature on its own.
    line = "0000" + "10111011101"
    assert finder_like(line) == 2
    matrix = tuple(bytearray(int(c) for c in line) for _ in range(len(line)))
    assert penalty(pack(matrix))[2] == 40 * 2 * len(line)  # 2 per row, none in the columns


@pytest.mark.parametrize("text", texts(12, seed=11))
def test_make_qr_picks_the_lowest_penalty_and_is_segnos_symbol_for_it(text: str) -> None:
    code = make_qr(text)
    totals = [sum(plain_penalty(symbol(text, k).matrix)) for k in range(8)]
    assert code.mask == totals.index(min(totals))
    assert code.matrix == symbol(text, code.mask).matrix


def test_a_candidate_is_mask_zero_xor_a_delta_the_same_for_any_message() -> None:
    for text in texts(4, seed=3):
        zero = pack(symbol(text, 0).matrix)
        version = symbol(text, 0).version
        assert isinstance(version, int)
        for k, delta in enumerate(mask_deltas(version)):
            assert zero ^ delta == pack(symbol(text, k).matrix)


def test_the_mask_zero_symbol_is_segnos_at_every_version() -> None:
    # Every version up to 10, every length of the last digit group, data ending on and
    # off a codeword boundary (segno pads the two differently), symbols full and not.
    rng = random.Random(17)
    versions = set()
    for count in range(1, 440):
        text = PREFIX[: rng.randint(9, len(PREFIX) - 1)] + "#" + "".join(
            rng.choice("0123456789") for _ in range(count))
        prefix, digits = qr_segments(text)
        version = fitting_version(prefix.encode(), digits, MAX_VERSION)
        if version is None:
            assert symbol(text, 0).version > MAX_VERSION  # type: ignore[operator]
            continue
        reference = symbol(text, 0)
        assert version == reference.version
        assert mask_zero_symbol(prefix.encode(), digits, version) == tuple(
            bytes(row) for row in reference.matrix)
        versions.add(version)
    assert versions == set(range(1, MAX_VERSION + 1))


def test_each_chosen_mask_decodes() -> None:
    seen = set()
    for text in texts(40, seed=5):
        code = make_qr(text)
        if code.mask in seen:
            continue
        seen.add(code.mask)
        size = len(code.matrix) + 8
        image = Image.new("L", (size, size), 255)
        for y, row in enumerate(code.matrix):
            for x, dark in enumerate(row):
                if dark:
                    image.putpixel((x + 4, y + 4), 0)
        found = zxingcpp.read_barcodes(image.resize((size * 4, size * 4), Image.NEAREST))
        assert [b.text for b in found] == [text]
    assert len(seen) >= 4  # the messages exercise several masks, not just one


def test_unpack_is_the_inverse_of_pack() -> None:
    for text in texts(3, seed=13):
        matrix = symbol(text, 5).matrix
        assert unpack(pack(matrix)) == tuple(bytes(row) for row in matrix)
    light = (bytes(21),) * 21  # all light: the packed integer is 0
    assert unpack(pack(light)) == light


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        pack((bytearray(3), bytearray(2), bytearray(3)))
    with pytest.raises(ValueError, match="sizes"):
        _ = pack((bytearray(2), bytearray(2))) ^ pack((bytearray(3),) * 3)
