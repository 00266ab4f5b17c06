#!/usr/bin/env bash
# On a machine with a CUDA GPU and nlpdojo installed (with torch and bubblewrap): the CUDA
# tests, grading on torch:cuda in the sandbox (the reference as a submission, the stubs, a
# submission that allocates 160 GB on the GPU) and the trainers on numpy/cpu against
# torch/cuda, each timed. Figures of one run: docs/benchmarks.md, "On a GPU".
#   bash bench/gpu.sh [OUT_FOLDER]        # ~10 min on an H100
set -u
cd "$(dirname "$0")/.."
out=${1:-/tmp/nlpdojo-gpu}; mkdir -p "$out"
timed() {  # NAME LIMIT_S COMMAND...: run it, keep its output, print its exit code and seconds
  local name=$1 limit=$2; shift 2; local start; start=$(date +%s.%N)
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1
  echo "$name rc=$? $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
}
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__)"
timed cuda-tests 300 python3 -m pytest -p no:cacheprovider -q -n 8 tests/test_cli.py \
  tests/test_selection.py tests/test_backends.py tests/test_parity.py tests/test_arrays.py \
  tests/neural_networks/test_library_parity.py tests/neural_networks/test_given_on_devices.py \
  tests/language_models/test_rnn_parity.py tests/language_models/test_encoder_parity.py
rm -rf "$out/sub" "$out/hog"; cp -r solutions "$out/sub"; cp -r solutions "$out/hog"
python3 - "$out/hog/word_vectors/softmax.py" <<'PY'
import sys
from pathlib import Path
path = Path(sys.argv[1]); line = "    shifted = x - xp.max(x, axis=-1, keepdims=True)"
path.write_text(path.read_text().replace(
    line, "    _hog = xp.zeros((20_000_000_000,), dtype=x.dtype, device=x.device)\n" + line))
PY
for run in "hog softmax --submission $out/hog" "stubs" "reference --submission $out/sub"; do
  set -- $run; name=$1; shift
  timed "grade-$name" 600 grade "$@" --backend torch --device cuda --require-sandbox \
    -f json -o "$out/grade-$name.json"
  grep -h '^Total' "$out/grade-$name.txt"
done
for device in cpu cuda; do
  backend=torch; [ "$device" = cpu ] && backend=numpy
  timed "tagger-$device" 600 dojo train tagger --solutions --backend $backend --device $device \
    --epochs 1 --output "$out/tagger-$device.npz"
  timed "rnn-lm-$device" 600 dojo train lm --model rnn --solutions --backend $backend \
    --device $device --epochs 1 --max-steps 300 --no-progress --output "$out/lm-$device.npz"
done
timed word2vec 600 python3 bench/word2vec_vs_gensim.py --backends numpy,torch:cuda --rounds 1
timed word2vec-8192 600 python3 bench/word2vec_vs_gensim.py --backends torch:cuda \
  --batch-size 8192 --rounds 1
