#!/bin/sh
# torch_ref_paper: the C-vs-PyTorch comparison of tests/validation/torch_ref.sh at the paper's shapes
# (G=3000, P=300, C=128, NH=8, L=4, K=7, B=16). Not part of make check (about a minute and
# ~2 GB in torch). Usage, after building the check programs (make check TESTS= or
# make tests/validation/test_torch_ref) in BUILD_DIR:
#     validation/torch_ref_paper.sh BUILD_DIR [WORK_DIR]
# Prints the same table as the small test; exit 0 pass, 1 fail, 77 no torch, 99 setup error.
PY=/usr/bin/python3
build=${1:?usage: torch_ref_paper.sh BUILD_DIR [WORK_DIR]}
src=$(cd "$(dirname "$0")/.." && pwd)
if ! "$PY" -c "import torch, h5py" >/dev/null 2>&1; then
    echo "SKIP: $PY cannot import torch and h5py"; exit 77
fi
if [ -n "$2" ]; then work=$2; mkdir -p "$work" || exit 99
else work=$(mktemp -d) || exit 99; trap 'rm -rf "$work"' EXIT; fi
"$build/tests/validation/test_torch_ref" write "$work/ref_in.h5" --paper || exit 99
"$PY" "$src/validation/torch_kida.py" "$work/ref_in.h5" "$work/ref_out.h5" || exit 99
"$build/tests/validation/test_torch_ref" compare "$work/ref_in.h5" "$work/ref_out.h5"
