"""A very deep CNN for text (CS224n lecture 11, §4.1-4.4; Conneau et al. 2017, "Very Deep
Convolutional Networks for Text Classification", VD-CNN): many small convolutions stacked in
residual blocks, the length halved and the channels widened stage after stage, as image
networks do (VGG, ResNet), then k-max pooling and fully connected layers.

    e = Embedding(ids), zero at padded positions              (B, T, D)
    h = Conv1d(e), width 3, one zero each side ("temporal")   (B, T, C_0)
    for each stage s = 0 .. S − 1:
        h = ResidualBlock(h), ``blocks`` times               (B, T_s, C_s)   the first block
                                                              of a stage from C_{s−1} channels
        h = LocalMaxPooling(3, 2)(h), but after the last      (B, T_{s+1}, C_s)
            stage                                             T_{s+1} = ⌊(T_s − 3) / 2⌋ + 1
    p = KMaxPooling(k)(h) over each row's real positions      (B, k, C_{S−1})
    f = p reshaped to (B, k·C_{S−1})                          position by position
    scores = Linear(ReLU(Linear(ReLU(Linear(f)))))            (B, classes)

The paper's sizes are the defaults: 64, 128, 256 and 512 channels, k = 8, two hidden layers
of 2048 units. Its depth counts the convolutions: the first, then two in each block, so one
block a stage over four stages is depth 1 + 4 · 1 · 2 = 9 (``blocks=2``: 17). Its block is
conv-BN-ReLU twice; ours is the topic's ``ResidualBlock`` (He et al. 2016's: the shortcut
added before the second ReLU, a 1×1 projection where the channels change), which the paper
uses with shortcuts (its Table 5). Every pooling keeps every channel; the next stage's first
block widens them.

Padding. The paper pads every text to one length with a padding symbol that the network sees
like any other. Here a batch is padded at the end to its longest row: the padded positions'
vectors are zero, as in Kim's CNN, but the convolutions and the batch norms see them (a batch
norm's statistics are over every position of the batch, so no mask between the blocks would
make a sentence's features independent of its batch's padding). Only the poolings mask them:
each local pooling by the row's lengths, which it halves (``output_lengths``: ⌈L / 2⌉ windows
start at a real position), and the k-max pooling at the top by the lengths that reach it.
Each pooling needs positions to pool: a batch shorter than ``min_length`` positions is refused
(pad it to that length; the paper's fixed length 1,014 is far above it).

Every piece is the course library's: your ``Embedding``, ``Conv1d``, ``LocalMaxPooling``,
``KMaxPooling``, ``Linear`` and ``ReLU``, and the topic's ``ResidualBlock``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Conv1d, Embedding, KMaxPooling, Linear, LocalMaxPooling, ReLU
from .residual_block import ResidualBlock

#: the pooling between stages: windows of 3 positions, 2 apart (the paper's "pool/2")
POOL_WIDTH, POOL_STRIDE = 3, 2


class VeryDeepCNN(Module):
    """Class scores (B, classes) of padded texts (``ids`` (B, T) padded at the end,
    ``lengths`` (B,)): the pipeline of the module's docstring, one stage per entry of
    ``channels`` with ``blocks`` residual blocks each, convolutions of width ``kernel_size``
    (odd), k-max pooling with ``k``, and two hidden layers of ``hidden`` units.

    ``forward(ids, lengths) -> (scores, cache)``; ``backward(dL/dscores, cache) -> (None,
    None)`` (token ids and lengths have no gradient)."""

    def __init__(self, backend: Backend, vocab_size: int, embedding_dim: int,
                 num_classes: int, *, channels: Sequence[int] = (64, 128, 256, 512),
                 blocks: int = 1, k: int = 8, hidden: int = 2048, kernel_size: int = 3,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.channels = tuple(channels)
        if not self.channels or blocks < 1:
            raise ValueError(f"VeryDeepCNN: at least one stage and one block a stage (got "
                             f"channels={self.channels}, blocks={blocks})")
        self.embedding = Embedding(backend, vocab_size, embedding_dim, seed=seed, std=0.1)
        self.first = Conv1d(backend, embedding_dim, self.channels[0], kernel_size,
                            padding=(kernel_size - 1) // 2, seed=seed + 1)
        # stage s: ``blocks`` blocks at channels[s], the first from the previous stage's
        self.stages = [[ResidualBlock(backend, c_in if j == 0 else c, c,
                                      kernel_size=kernel_size, seed=seed + 10 * (s + 1) + 3 * j)
                        for j in range(blocks)]
                       for s, (c_in, c) in enumerate(zip(self.channels[:1] + self.channels[:-1],
                                                         self.channels, strict=True))]
        self.pool = LocalMaxPooling(backend, POOL_WIDTH, POOL_STRIDE)
        self.kmax = KMaxPooling(backend, k)
        self.relu = ReLU(backend)
        self.fc = [Linear(backend, k * self.channels[-1], hidden, seed=seed + 2),
                   Linear(backend, hidden, hidden, seed=seed + 3)]
        self.output = Linear(backend, hidden, num_classes, seed=seed + 4)
        # the shortest batch every pooling has positions for: k at the top, and before each
        # pooling the positions its windows need (T_out >= n  <=>  T >= 3 + 2 (n − 1))
        need = k
        for _ in self.channels[1:]:
            need = POOL_WIDTH + POOL_STRIDE * (need - 1)
        self.min_length = need

    def forward(self, ids: Array, lengths: Array) -> tuple[Array, tuple]:
        # ids: (B, T) token ids, padded at the end; lengths: (B,), 1 <= length <= T
        xp = self.xp
        if ids.shape[1] < self.min_length:
            raise ValueError(
                f"VeryDeepCNN over {ids.shape[1]} positions: {len(self.channels) - 1} poolings "
                f"of width {POOL_WIDTH}, stride {POOL_STRIDE}, then k-max pooling with k = "
                f"{self.kmax.k} need at least {self.min_length}: pad the batch to "
                f"{self.min_length} positions")
        ### BEGIN SOLUTION vdcnn
        real = xp.arange(ids.shape[1], device=self.backend.device)[None, :] < lengths[:, None]
        e, c_emb = self.embedding(ids)  # (B, T, D)
        e = e * xp.astype(real, e.dtype)[:, :, None]  # (B, T, D): the padding's vectors 0
        h, c_first = self.first(e)  # (B, T, C_0)
        stages = []
        for s, stage in enumerate(self.stages):  # the stages and blocks, not the data
            c_blocks = []
            for block in stage:
                h, c_block = block(h)  # (B, T_s, C_s)
                c_blocks.append(c_block)
            c_pool = None
            if s < len(self.stages) - 1:  # between stages: halve the length
                t_steps = h.shape[1]
                h, c_pool = self.pool(h, lengths)  # (B, T_{s+1}, C_s)
                lengths = self.pool.output_lengths(lengths, t_steps)  # (B,): ⌈L / 2⌉
            stages.append((c_blocks, c_pool))
        p, c_kmax = self.kmax(h, lengths)  # (B, k, C_last): over the real positions
        features = xp.reshape(p, (p.shape[0], -1))  # (B, k·C_last)
        c_fc = []
        for fc in self.fc:
            z, c_lin = fc(features)  # (B, H)
            features, c_relu = self.relu(z)
            c_fc.append((c_lin, c_relu))
        scores, c_out = self.output(features)  # (B, classes)
        return scores, (c_emb, real, c_first, stages, c_kmax, tuple(p.shape), c_fc, c_out)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[None, None]:
        # grad_output: (B, classes); returns (None, None); adds into every parameter's gradient
        xp = self.xp
        ### BEGIN SOLUTION vdcnn
        c_emb, real, c_first, stages, c_kmax, p_shape, c_fc, c_out = cache
        grad = self.output.backward(grad_output, c_out)  # (B, H)
        for fc, (c_lin, c_relu) in zip(reversed(self.fc), reversed(c_fc), strict=True):
            grad = fc.backward(self.relu.backward(grad, c_relu), c_lin)  # (B, H), (B, k·C)
        grad, _ = self.kmax.backward(xp.reshape(grad, p_shape), c_kmax)  # (B, T_S, C_last)
        for stage, (c_blocks, c_pool) in zip(reversed(self.stages), reversed(stages),
                                             strict=True):
            if c_pool is not None:
                grad, _ = self.pool.backward(grad, c_pool)  # (B, T_s, C_s)
            for block, c_block in zip(reversed(stage), reversed(c_blocks), strict=True):
                grad = block.backward(grad, c_block)  # (B, T_s, C_in of the block)
        grad = self.first.backward(grad, c_first)  # (B, T, D)
        self.embedding.backward(grad * xp.astype(real, grad.dtype)[:, :, None], c_emb)
        return None, None
        ### END SOLUTION
