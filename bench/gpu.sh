#!/usr/bin/env bash
# On a machine with a CUDA GPU and nlpdojo installed (with torch and bubblewrap): the CUDA
# tests, grading on torch:cuda in the sandbox (the reference as a submission, the stubs, a
# submission that allocates 160 GB on the GPU) and the trainers on numpy/cpu against
# torch/cuda, each timed. Figures: docs/benchmarks.md, "On a GPU".
#   bash bench/gpu.sh [OUT_FOLDER [STAGE...]]
# Stages (default: all, in this order; about 10 minutes on an H100 with 16 cores):
#   tests     the CUDA cases (-k cuda) of every device-parametrised test file, all five topics
#   hog       a softmax that allocates 160 GB on the GPU, graded in the sandbox
#   grade     the reference copied as a submission, every topic, sandboxed on torch:cuda: the
#             first three topics and the last two as two grade processes side by side
#   stubs     the generated stubs of the last two topics (0 points)
#   train     dojo train tagger and lm --model rnn: numpy/cpu against torch/cuda
#   word2vec  bench/word2vec_vs_gensim.py at 1,024 and 8,192 pairs a batch
#   lm        the language-model table's rows still to train (bench/lm_neural_results.py on
#             torch:cuda), one process each, side by side on the GPU (under MPS where the image
#             has it), each stopped after LM_MINUTES (default 5.5) of training: results and
#             logs merged into OUT/lm-gpu.json and OUT/lm-gpu.log (only the data sets named)
# A lent machine with torch but nothing of ours and no network: prepare here, in the checkout
# (an ignored folder, carried): the wheels of nlpdojo and of what the image lacks, bubblewrap
# and the data sets (~19 MB; the image has numpy, torch, pluggy, typer, scipy, pytest...):
#   echo /.gpu/ >> .git/info/exclude; mkdir -p .gpu/whl .gpu/deb
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_17_x86_64 -d .gpu/whl array-api-compat array-api-strict \
#     fastjsonschema jsonschema jsonschema-specifications jupyter_core nbformat platformdirs \
#     referencing rpds-py traitlets          # the versions of constraints.txt
#   pip wheel --no-deps --no-build-isolation . -w .gpu/whl
#   (cd .gpu/deb && apt-get download bubblewrap)
#   cp -r ~/.cache/nlpdojo/data .gpu/data; rm -rf .gpu/data/.downloads   # brown etc. optional
# and there, before this script:
#   python3 -m pip install -q --no-index --no-deps .gpu/whl/*.whl
#   for f in .gpu/deb/*.deb; do dpkg -x $f /; done; export NLPDOJO_DATA=$PWD/.gpu/data
set -u
cd "$(dirname "$0")/.."
out=${1:-/tmp/nlpdojo-gpu}; mkdir -p "$out"; shift || true
scratch=$(mktemp -d)  # the copies graded as submissions
stages=${*:-tests hog grade stubs train word2vec}  # lm only when named
timed() {  # NAME LIMIT_S COMMAND...: run it, keep its output, print its exit code and seconds
  local name=$1 limit=$2; shift 2; local start; start=$(date +%s.%N)
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "$name rc=$? $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
}
wants() { [[ " $stages " == *" $1 "* ]]; }
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"
if wants tests; then
  timed cuda-tests 300 python3 -m pytest -p no:cacheprovider -q -n 8 -k cuda tests/test_cli.py \
    tests/test_selection.py tests/test_backends.py tests/test_parity.py tests/test_arrays.py \
    tests/neural_networks/test_library_parity.py tests/neural_networks/test_given_on_devices.py \
    tests/neural_networks/test_bad_input.py tests/language_models/test_rnn_parity.py \
    tests/language_models/test_encoder_parity.py tests/rnn_variants tests/cnn_text \
    tests/grading/test_builders_sequences.py
  tail -n 3 "$out/cuda-tests.txt"
fi
if wants hog; then
  cp -r solutions "$scratch/hog"
  python3 - "$scratch/hog/word_vectors/softmax.py" <<'PY'
import sys
from pathlib import Path
path = Path(sys.argv[1]); line = "    shifted = x - xp.max(x, axis=-1, keepdims=True)"
path.write_text(path.read_text().replace(
    line, "    _hog = xp.zeros((20_000_000_000,), dtype=x.dtype, device=x.device)\n" + line))
PY
  timed grade-hog 300 grade softmax --submission "$scratch/hog" --backend torch --device cuda \
    --require-sandbox -f json -o "$out/grade-hog.json"
  grep -h '^Total' "$out/grade-hog.txt"
fi
if wants grade; then
  cp -r solutions "$scratch/sub"
  timed grade-first-three 450 grade word_vectors neural_networks language_models \
    --submission "$scratch/sub" --backend torch --device cuda --require-sandbox \
    -f json -o "$out/grade-first-three.json" &
  timed grade-last-two 450 grade rnn_variants cnn_text --submission "$scratch/sub" \
    --backend torch --device cuda --require-sandbox -f json -o "$out/grade-last-two.json" &
  wait
  grep -h '^Total' "$out/grade-first-three.txt" "$out/grade-last-two.txt"
fi
if wants stubs; then
  timed grade-stubs 600 grade rnn_variants cnn_text --backend torch --device cuda \
    --require-sandbox -f json -o "$out/grade-stubs.json"
  grep -h '^Total' "$out/grade-stubs.txt"
fi
if wants train; then
  for device in cpu cuda; do
    backend=torch; [ "$device" = cpu ] && backend=numpy
    timed "tagger-$device" 600 dojo train tagger --solutions --backend $backend \
      --device $device --epochs 1 --output "$scratch/tagger-$device.npz"
    timed "rnn-lm-$device" 600 dojo train lm --model rnn --solutions --backend $backend \
      --device $device --epochs 1 --max-steps 300 --no-progress --output "$scratch/lm-$device.npz"
  done
fi
if wants word2vec; then
  timed word2vec 600 python3 bench/word2vec_vs_gensim.py --backends numpy,torch:cuda --rounds 1
  timed word2vec-8192 600 python3 bench/word2vec_vs_gensim.py --backends torch:cuda \
    --batch-size 8192 --rounds 1
fi
if wants lm; then
  if command -v nvidia-cuda-mps-control >/dev/null 2>&1; then
    export CUDA_MPS_PIPE_DIRECTORY=$scratch/mps CUDA_MPS_LOG_DIRECTORY=$scratch/mps
    mkdir -p "$scratch/mps" && nvidia-cuda-mps-control -d && echo "MPS: on"
  else
    echo "MPS: not in this image; the processes share the GPU by time slices"
  fi
  runs=${LM_RUNS:-pang-lee-reviews:gru brown:window brown:rnn brown:lstm brown:gru \
brown:lstm-2layer brown:lstm-residual brown:lstm-highway}
  for run in $runs; do
    corpus=${run%%:*} model=${run#*:}
    OMP_NUM_THREADS=1 timeout "${LM_LIMIT:-540}" python3 bench/lm_neural_results.py \
      --corpora "$corpus" --models "$model" --backend torch --device "${LM_DEVICE:-cuda}" \
      --max-epochs 8 --max-minutes "${LM_MINUTES:-5.5}" --valid-streams 20 \
      --results "$scratch/lm-$corpus-$model.json" --checkpoints "$scratch/lm-checkpoints" \
      ${LM_ARGS:-} > "$scratch/lm-$corpus-$model.log" 2>&1 &
  done
  wait
  command -v nvidia-cuda-mps-control >/dev/null 2>&1 && echo quit | nvidia-cuda-mps-control
  # one file of results (a run killed before its test score keeps its epochs' history, from
  # its checkpoint) and one of logs: the lent machine sends back only a few files
  python3 - "$scratch" "$out/lm-gpu.json" <<'PY'
import json, sys
from pathlib import Path
scratch, merged = Path(sys.argv[1]), {}
for path in sorted(scratch.glob("lm-*.json")):
    for corpus, models in json.loads(path.read_text()).items():
        merged.setdefault(corpus, {}).update(models)
for path in sorted((scratch / "lm-checkpoints").glob("*.json")):  # <corpus>-<model>.json
    corpus = next(c for c in ("sotu", "pang-lee-reviews", "brown")
                  if path.stem.startswith(f"{c}-"))
    model = path.stem.removeprefix(f"{corpus}-")
    if model not in merged.get(corpus, {}):
        merged.setdefault(corpus, {})[model] = {"unfinished": json.loads(path.read_text())}
Path(sys.argv[2]).write_text(json.dumps(merged, indent=1) + "\n")
print({c: {m: round(r["test"], 1) if "test" in r else "unfinished" for m, r in ms.items()}
       for c, ms in merged.items()})
PY
  tail -n 4 "$scratch"/lm-*.log > "$out/lm-gpu.log" 2>&1
  for f in "$scratch"/lm-*.log; do echo "== $f"; cat "$f"; done >> "$out/lm-gpu.log"
fi
