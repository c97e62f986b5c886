"""Text as leads arrive → one canonical spelling, with a map back to the original characters.

NFKC folds full-width digits and punctuation (１１１°１２′ → 111°12′); then every way people write
degree, minute and second marks becomes °, ′ and ″ one character for one character, so an offset
in the normalised text maps straight back to the words the officer typed (for `matched`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# One character → one character, so offsets survive.
_MARKS = str.maketrans(
    {
        "度": "°",
        "º": "°",
        "˚": "°",
        "分": "′",
        "'": "′",
        "’": "′",
        "‘": "′",
        "´": "′",
        "秒": "″",
        '"': "″",
        "”": "″",
        "“": "″",
        "〃": "″",
    }
)


@dataclass(frozen=True, slots=True)
class NormalText:
    """`text`: normalised with angle marks unified; `plain`: NFKC only (for names), aligned
    with `text` character for character; `origin[i]`: the index in `raw` that produced it."""

    raw: str
    text: str
    plain: str
    origin: tuple[int, ...]

    def original(self, start: int, end: int) -> str:
        """The raw substring that normalised to text[start:end]."""
        if start >= end:
            return ""
        first = self.origin[start]
        last = self.origin[end - 1]
        return self.raw[first : last + 1]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The raw (start, end) offsets of text[start:end]."""
        return self.origin[start], self.origin[end - 1] + 1


def normalize(raw: str) -> NormalText:
    plain: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(raw):
        folded = unicodedata.normalize("NFKC", ch)
        if folded == "′′":  # NFKC splits ″ (U+2033) into two primes
            folded = "″"
        for out in folded:
            plain.append(out)
            origin.append(i)
    text = "".join(plain)
    return NormalText(raw, text.translate(_MARKS), text, tuple(origin))


def decimals(number: str) -> int:
    """How many decimals a number is written with ("39.8367" → 4): its resolution."""
    return len(number.split(".", 1)[1]) if "." in number else 0
