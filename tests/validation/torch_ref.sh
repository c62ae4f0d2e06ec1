#!/bin/sh
# torch_ref: the C model, losses and Adam against the PyTorch float64 reference
# (validation/torch_kida.py) at small odd shapes. Exit 0 pass, 1 fail, 77 when Debian's
# /usr/bin/python3 cannot import torch and h5py, 99 setup error.
PY=/usr/bin/python3
if ! "$PY" -c "import torch, h5py" >/dev/null 2>&1; then
    echo "SKIP: $PY cannot import torch and h5py (apt-get install python3-torch python3-h5py)"
    exit 77
fi
: "${TOP_BUILDDIR:=.}" "${TOP_SRCDIR:=.}"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
"$TOP_BUILDDIR/tests/validation/test_torch_ref" write "$tmp/ref_in.h5" || exit 99
"$PY" "$TOP_SRCDIR/validation/torch_kida.py" "$tmp/ref_in.h5" "$tmp/ref_out.h5" || exit 99
"$TOP_BUILDDIR/tests/validation/test_torch_ref" compare "$tmp/ref_in.h5" "$tmp/ref_out.h5"
