"""Vocabulary: the token <-> integer id mapping every model in the course starts from.

Ordering is stable and documented: the special tokens first, in the order given (``<unk>``
always first, id 0, unless left out), then the corpus tokens by decreasing count, ties broken
by the token string. ``min_count`` and ``max_size`` prune rare tokens, as word2vec's
``min_count`` does (Mikolov et al. 2013) and as the PTB language-model vocabulary caps at 10k
(Mikolov et al. 2010). Encoding is a C-level dictionary pass straight into an int64 array;
decoding is one NumPy fancy-index.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from pathlib import Path

import numpy as np

UNK = "<unk>"
PAD = "<pad>"
BOS = "<s>"
EOS = "</s>"
FORMAT_VERSION = 1


class Vocab:
    """An immutable token <-> id mapping with counts.

    Build one with :meth:`build` (from token lists) or :meth:`from_counts`.
    """

    def __init__(self, tokens: Sequence[str], counts: Sequence[int] | None = None,
                 *, unk: str | None = UNK, specials: Sequence[str] = ()) -> None:
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")
        if unk is not None and unk not in tokens:
            raise ValueError(f"the unknown token {unk!r} is not in the vocabulary")
        self.itos: list[str] = list(tokens)
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self.counts = np.asarray(counts if counts is not None else [0] * len(tokens),
                                 dtype=np.int64)  # (V,)
        if self.counts.shape != (len(self.itos),):
            raise ValueError("counts must have one entry per token")
        self.unk = unk
        self.specials: tuple[str, ...] = tuple(specials)
        self._itos_array = np.asarray(self.itos, dtype=object)  # (V,) for vectorized decode

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], *, min_count: int = 1,
                    max_size: int | None = None, unk: str | None = UNK,
                    specials: Sequence[str] = ()) -> Vocab:
        """Keep tokens seen at least ``min_count`` times, the ``max_size`` most frequent at most
        (specials included), ordered by count (descending) then token."""
        head = ([unk] if unk is not None else []) + [s for s in specials if s != unk]
        if len(set(head)) != len(head):
            raise ValueError(f"duplicate special tokens in {head}")
        reserved = set(head)
        kept = sorted(((t, c) for t, c in counts.items() if c >= min_count and t not in reserved),
                      key=lambda tc: (-tc[1], tc[0]))
        if max_size is not None:
            if max_size < len(head):
                raise ValueError(f"max_size={max_size} leaves no room for the specials {head}")
            kept = kept[: max_size - len(head)]
        kept_set = {t for t, _ in kept}
        # <unk> counts the occurrences of every token it stands for.
        unk_count = sum(c for t, c in counts.items() if t not in kept_set and t not in reserved)
        head_counts = [unk_count if t == unk else int(counts.get(t, 0)) for t in head]
        return cls(head + [t for t, _ in kept], head_counts + [c for _, c in kept],
                   unk=unk, specials=tuple(s for s in head if s != unk))

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], **kwargs: object) -> Vocab:
        """Count the tokens of every list (C-level ``Counter.update``) and build a vocab."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        return cls.from_counts(counts, **kwargs)  # type: ignore[arg-type]

    # -- look-ups ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token`` (``<unk>``'s for an unknown token, KeyError without one)."""
        if token in self.stoi:
            return self.stoi[token]
        if self.unk is None:
            raise KeyError(f"{token!r} is not in the vocabulary and it has no unknown token")
        return self.stoi[self.unk]

    @property
    def unk_id(self) -> int | None:
        return None if self.unk is None else self.stoi[self.unk]

    def id(self, token: str) -> int:
        """Alias of ``vocab[token]``."""
        return self[token]

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Token strings -> ids: (N,) -> (N,) int64. Unknown tokens map to ``<unk>``."""
        default = self.unk_id
        if default is None:
            missing = [t for t in tokens if t not in self.stoi]
            if missing:
                raise KeyError(f"tokens not in the vocabulary (it has no <unk>): {missing[:5]}")
            default = -1
        return np.fromiter(map(self.stoi.get, tokens, repeat(default)), dtype=np.int64,
                           count=len(tokens))

    def decode(self, ids: np.ndarray | Sequence[int]) -> list[str]:
        """Ids -> token strings; any shape is flattened: (...) -> list of N tokens."""
        arr = np.asarray(ids, dtype=np.int64).ravel()
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            raise IndexError(f"ids must lie in [0, {len(self)}), got [{arr.min()}, {arr.max()}]")
        return self._itos_array[arr].tolist()  # type: ignore[no-any-return]

    # -- persistence ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        return {"format": "nlpdojo-vocab", "version": FORMAT_VERSION, "unk": self.unk,
                "specials": list(self.specials), "tokens": self.itos,
                "counts": self.counts.tolist()}

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON (UTF-8, one object)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != "nlpdojo-vocab" or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path} is not an nlpdojo vocabulary (format version "
                             f"{FORMAT_VERSION})")
        return cls(data["tokens"], data["counts"], unk=data["unk"], specials=data["specials"])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocab) and self.itos == other.itos and self.unk == other.unk
                and self.specials == other.specials and np.array_equal(self.counts, other.counts))

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, unk={self.unk!r}, specials={self.specials})"
