"""A 2-D picture of word vectors: project onto the first two principal components and label.

CS224n assignment 1 plots co-occurrence and word2vec vectors reduced to two dimensions; PCA by
SVD of the mean-centred vectors (the directions of largest variance among the chosen words)
keeps the picture faithful to the biggest differences between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """Coordinates of each row on the first two principal components: (n, D) -> (n, 2).

    The sign of each component is fixed (largest-magnitude coordinate positive) so the
    picture does not flip between runs.
    """
    x = np.asarray(vectors, dtype=np.float64)  # (n, D)
    ### BEGIN SOLUTION plot
    centred = x - x.mean(axis=0, keepdims=True)  # (n, D)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # vt: (min(n, D), D)
    coords = centred @ vt[:2].T  # (n, 2)
    ### END SOLUTION
    signs = np.sign(coords[np.argmax(np.abs(coords), axis=0), np.arange(coords.shape[1])])
    return coords * np.where(signs == 0, 1.0, signs)[None, :]


def plot_words(vectors: np.ndarray, word2ind: Mapping[str, int], words: Sequence[str],
               path: str | Path) -> np.ndarray:
    """Scatter ``words`` (those in the vocabulary) in 2-D with labels; save a PNG at ``path``.

    :returns: (n, 2) the plotted coordinates, in the order of the words that were found.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed; set here, not at import
    import matplotlib.pyplot as plt

    found = [w for w in words if w in word2ind]
    if len(found) < 2:
        raise ValueError(f"need at least 2 words in the vocabulary to plot, found {found}")
    coords = project_2d(np.asarray(vectors)[[word2ind[w] for w in found]])  # (n, 2)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(coords[:, 0], coords[:, 1], s=18, color="tab:blue")
    for (x, y), word in zip(coords, found, strict=True):
        ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title("word vectors, 2-D PCA projection")
    fig.tight_layout()
    fig.savefig(Path(path), dpi=120)
    plt.close(fig)
    return coords
