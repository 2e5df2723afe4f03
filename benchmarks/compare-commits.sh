#!/usr/bin/env bash
# Checks that a change leaves what users get unchanged: builds an older commit in a separate folder, runs the
# same seeded small-budget commands with its l2c and with this tree's, on 2 ranks, and compares
#   - every tensor of every model.safetensors and spn.safetensors, bit for bit (and their metadata);
#   - the final JSON line of every command, key by key (timings and output paths left out).
# Commands: train (KCL), transfer on classes, transfer on alphabets, train-spn then cluster, adapt (CCN++) and acol,
# on MNIST-5k, mfeat and a small glyph set rendered here.
# Usage: benchmarks/compare-commits.sh OLD_COMMIT [WORK_DIR]
#   WORK_DIR (default: a new temporary folder) keeps OLD's build, so a second comparison against the same commit
#   builds only this tree. Needs deploy/install-deps.sh and deploy/fetch-data.sh data first.
# Exits 0 when everything is identical, 1 when anything differs (each difference is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(git rev-parse --verify "${1:?usage: benchmarks/compare-commits.sh OLD_COMMIT [WORK_DIR]}^{commit}")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 NO_COLOR=1
python=/opt/l2c/python/bin/python3

# MARK: builds
tree="$work/old-${old:0:12}"
if [ ! -x "$tree/.build/release/l2c" ]; then
  rm -rf "$tree"
  git worktree add --detach "$tree" "$old" >/dev/null 2>&1 || { git clone --quiet . "$tree" && git -C "$tree" checkout --quiet "$old"; }
  echo "compare: building $old in $tree" >&2
  (cd "$tree" && swift build -c release --product l2c >&2)
fi
echo "compare: building this tree" >&2
swift build -c release --product l2c >&2
# A copy, so that a rebuild while the commands run does not change the binary under them.
cp .build/release/l2c "$work/l2c-new"
declare -A binaries=([old]="$tree/.build/release/l2c" [new]="$work/l2c-new")

# MARK: data
data=$PWD/data
glyphs="$work/glyphs"
if [ ! -f "$glyphs/manifest.tsv" ]; then
  /usr/bin/python3 deploy/make_glyphs.py "$glyphs" --seed 5 --images 6 --aux 3 >/dev/null
fi
aux=$(head -n 3 "$glyphs/aux-alphabets.txt" | paste -sd,)
targets=$(head -n 2 "$glyphs/target-alphabets.txt" | paste -sd,)

# MARK: the commands (name, then arguments; OUT stands for the run's output folder)
small=(--threads 1 --checkpoint-minutes 0)
runs=(
  "train|train --data $data/mnist5k --model lenet --loss kcl --clusters 10 --steps 30 --batch-size 64 --seed 3 --log-every 10"
  "train-ce|train --data $data/mnist5k --model mlp --loss ce --clusters 10 --steps 20 --batch-size 50 --seed 2 --optimizer sgd --lr 0.05"
  "transfer|transfer --data $data/mnist5k --aux-classes 0,1,2,3,4 --target-classes 5,6,7,8,9 --clusters 5 --epochs 1 --spn-epochs 1 --warm-up-steps 10 --restarts 2 --seed 2"
  "transfer-alphabets|transfer --data $glyphs --aux-alphabets $aux --target-alphabets $targets --epochs 2 --spn-epochs 2 --seed 1"
  "train-spn|train-spn --data $data/mnist5k --classes 0,1,2,3,4 --epochs 1 --seed 4"
  "cluster|cluster --spn SPN --data $data/mnist5k --classes 5,6,7,8,9 --clusters 5 --epochs 1 --warm-up-steps 10 --seed 4"
  "adapt|adapt --source $data/mnist5k --target $data/mfeat --method ccn++ --spn-epochs 1 --steps 20 --seed 1"
  "acol|acol --data $data/mnist5k --parents 2 --duplicates 5 --steps 30 --batch-size 64 --seed 1 --revive-dead"
)

run() {   # run SIDE NAME ARGS…: runs one command on 2 ranks, its output in $work/SIDE/NAME
  local side=$1 name=$2; shift 2
  local out="$work/$side/$name"
  rm -rf "$out"; mkdir -p "$out"
  local args=("$@")
  for i in "${!args[@]}"; do [ "${args[$i]}" = SPN ] && args[$i]="$work/$side/train-spn/spn.safetensors"; done
  if ! mpirun -np 2 --oversubscribe --bind-to none "${binaries[$side]}" "${args[@]}" "${small[@]}" --out "$out" \
      >"$out/stdout" 2>"$out/stderr"; then
    echo "compare: $side $name failed: $(tail -n 3 "$out/stderr")" >&2
  fi
  tail -n 1 "$out/stdout" >"$out/result.json"
}

for entry in "${runs[@]}"; do
  name=${entry%%|*}
  read -r -a args <<<"${entry#*|}"
  for side in old new; do
    echo "compare: $side $name" >&2
    run "$side" "$name" "${args[@]}"
  done
done

# MARK: comparison
"$python" - "$work" "${runs[@]%%|*}" <<'PY'
import json, os, sys
from safetensors import safe_open

work, names = sys.argv[1], sys.argv[2:]
# Timings, rates and the paths of what was written differ between any two runs.
volatile = {"train_seconds", "images_per_sec", "seconds", "checkpoint", "state", "spn_checkpoint", "warm_up_seconds"}
problems = 0

def report(name, message):
    global problems
    problems += 1
    print(f"DIFFERS {name}: {message}")

def tensors(path):
    with safe_open(path, framework="numpy") as f:
        return f.metadata() or {}, {key: f.get_tensor(key) for key in f.keys()}

def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value

for name in names:
    old, new = (os.path.join(work, side, name) for side in ("old", "new"))
    try:
        results = [json.load(open(os.path.join(d, "result.json"))) for d in (old, new)]
    except (OSError, ValueError) as error:
        report(name, f"no final JSON line ({error})")
        continue
    a, b = (strip(r) for r in results)
    for key in sorted(set(a) | set(b)):
        if a.get(key, "(missing)") != b.get(key, "(missing)"):
            report(name, f"final JSON '{key}': old {a.get(key, '(missing)')!r}, new {b.get(key, '(missing)')!r}")
    for file in ("model.safetensors", "spn.safetensors"):
        paths = [os.path.join(d, file) for d in (old, new)]
        present = [os.path.exists(p) for p in paths]
        if present != [True, True]:
            if any(present):
                report(name, f"{file} written by {'old' if present[0] else 'new'} only")
            continue
        (meta_a, ta), (meta_b, tb) = tensors(paths[0]), tensors(paths[1])
        if meta_a != meta_b:
            report(name, f"{file} metadata: old {meta_a}, new {meta_b}")
        if set(ta) != set(tb):
            report(name, f"{file} tensor names differ: {sorted(set(ta) ^ set(tb))}")
        for key in sorted(set(ta) & set(tb)):
            if ta[key].shape != tb[key].shape or ta[key].tobytes() != tb[key].tobytes():
                report(name, f"{file} tensor {key} differs")
        if meta_a == meta_b and set(ta) == set(tb) and all(ta[k].tobytes() == tb[k].tobytes() for k in ta):
            print(f"identical {name}: {file} ({len(ta)} tensors)")
    print(f"compared {name}: final JSON {'identical' if a == b else 'differs'} ({len(a)} keys)")
print(f"compare: {len(names)} commands, {problems} difference(s)")
sys.exit(1 if problems else 0)
PY
