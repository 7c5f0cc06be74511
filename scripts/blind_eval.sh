#!/usr/bin/env bash
# Every suite of the blind-written shops (evals/shops/*), static model, no LLM.
# usage: scripts/blind_eval.sh OUTDIR      (needs ../shared/models beside the repository)
# Prints each suite's metrics; the --json results stay in OUTDIR for `kefu eval compare`.
set -u
out=${1:?usage: scripts/blind_eval.sh OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
model="$root/../shared/models/w2v-zh-synonyms-100d"
mkdir -p "$out"
cd "$root"
# every blind shop, fold by fold (evals/shops/folds.json)
shops=$(python -c 'import json,sys; print(" ".join(s for f in json.load(open(sys.argv[1]))["folds"] for s in f["shops"]))' evals/shops/folds.json)
for s in $shops; do
  for suite in answer presales emotion reply grounding; do
    kefu eval "evals/shops/$s/$suite.jsonl" --shop "evals/shops/$s/shop" --embed-model "$model" \
      --index "$out/idx-$s" --json "$out/$s-$suite.json" > "$out/$s-$suite.txt" 2>&1
  done
  rm -rf "$out/idx-$s"
done
# the sample shop's pre-sales suite (written blind against knowledge/)
kefu eval evals/presales.jsonl --shop knowledge --embed-model "$model" --index "$out/idx-sample" \
  --json "$out/sample-presales.json" > "$out/sample-presales.txt" 2>&1
rm -rf "$out/idx-sample"
python - "$out" <<'PY'
import json, pathlib, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    m = json.loads(f.read_text())["metrics"]
    print(f"{f.stem:24}", "  ".join(f"{k}={v:.3f}" for k, v in m.items() if "." not in k))
PY
