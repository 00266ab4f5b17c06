"""The neural language models trained on real text and measured by the grader (CS224n lecture
6, "Evaluating language models"): State of the Union addresses, the quick training budgets and
how held-out text is scored, declared as data; the run and the metric are the training kit's
(:func:`~nlpdojo_autograder.training.sotu_perplexity_checks`: the grader's initial
parameters, a fresh held-out stretch of the test split scored by the reference's forward, its
perplexity within 5% of the reference's under the same budget, below the add-one unigram
model's).
"""

from __future__ import annotations

from nlpdojo_autograder.training import SotuLM

__all__ = ["HELD_OUT_WHY", "RNN_RUN", "WINDOW_RUN"]

#: the data: the first 40 addresses of the train split, the 2,000 most frequent training
#: tokens (``<UNK>`` included); the held-out stretch is drawn from the whole test split
NEURAL_DATA = {"train_texts": 40, "test_texts": None, "vocab_size": 2000}
#: the RNN LM scores held-out text as 10 streams in windows of 50 (the grader's own windowing)
EVAL_STREAMS, EVAL_BPTT = 10, 50
#: the quick budgets (a few seconds each on NumPy), each the given lm_training.train_lm's
#: options and those its score_lm takes too.
#: SGD, not Adam, for the RNN: with Adam (lr 1e-3 to 1e-2) W_h grew until the state dynamics
#: were chaotic, and the held-out perplexity of the trained weights ranged over 190-860 with
#: the seed (a 1e-6 change of the initial weights moved it by 10%); SGD at lr 0.7 gave 131.3
#: and 131.2 for two seeds, and diverges only above lr 1.5
RNN_RUN = SotuLM(
    "rnn", {"model": "rnn", "dim": 32, "hidden": 64, "batch_size": 20, "bptt": 20,
            "optimizer": "sgd", "lr": 0.7, "epochs": 1, "max_windows": 300,
            "eval_bptt": EVAL_BPTT},
    scored=("model", "dim", "hidden", "eval_bptt"), salt=0x5E1D,
    streams=(EVAL_STREAMS, EVAL_BPTT), data=NEURAL_DATA)
#: the window LM pads the first contexts of the text with the end-of-sentence id
WINDOW_RUN = SotuLM(
    "window", {"model": "window", "dim": 32, "hidden": 64, "context": 3, "batch_size": 256,
               "optimizer": "adam", "lr": 0.01, "epochs": 1, "max_steps": 300},
    scored=("model", "dim", "hidden", "context", "pad"), salt=0x5E1D, eos_option="pad",
    data=NEURAL_DATA)

#: what a held-out perplexity far below the reference's under the same budget (two seeds of
#: the reference differ by 0.1 %) usually means
HELD_OUT_WHY = ("does the model see the token it predicts? The targets are the inputs shifted "
                "by one token (bptt_windows, the contexts)")
