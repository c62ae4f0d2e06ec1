#!/bin/sh
# scanpy_check: kida's preprocessing (tests/prep/prep_dump) against scanpy's normalize_total, log1p,
# highly_variable_genes(flavor="seurat", n_top_genes=3000) and scale(max_value=10) on the bundled
# PBMC reference and query (validation/scanpy_check.py states the tolerances).
# Exit 0 pass, 1 fail, 77 skip (scanpy not importable), 99 setup error.
PY="${PYTHON:-python3}"
SRC="${TOP_SRCDIR:-.}"
DATA="${KIDA_DATADIR:-$SRC/data}"
DUMP="${TOP_BUILDDIR:-.}/tests/prep/prep_dump"
[ -x "$DUMP" ] || { echo "setup error: $DUMP not built"; exit 99; }
for f in pbmc_v2_ref.h5ad pbmc_v3_query.h5ad; do
    [ -f "$DATA/$f" ] || { echo "setup error: bundled data $DATA/$f missing"; exit 99; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/kida_scanpy.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
# run Python from the scratch directory: nothing in the working directory may shadow a module
(cd "$T" && "$PY" -c "import scanpy, anndata, h5py" >/dev/null 2>&1) || {
    echo "SKIP: $PY cannot import scanpy (pip install scanpy)"; exit 77; }
"$DUMP" "$DATA/pbmc_v2_ref.h5ad" "$DATA/pbmc_v3_query.h5ad" "$T/dump.h5" 3000 || { echo "FAIL: prep_dump"; exit 1; }
cd "$T" && "$PY" "$SRC/validation/scanpy_check.py" "$DATA/pbmc_v2_ref.h5ad" "$DATA/pbmc_v3_query.h5ad" "$T/dump.h5" 3000
