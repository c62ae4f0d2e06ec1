#!/bin/sh
# test_genescore_check: `kida genescore` on the shipped Granja haematopoiesis scATAC data (600 cells x
# 5,000 peaks, hg19) against validation/genescore_check.py, an independent numpy/scipy
# computation; the gene x cell matrices must be IDENTICAL (genes, order, integer counts):
#   1. peak coordinates from var names, window 2000, 1 rank
#   2. peak coordinates from the source BED, window 0, counts checked against the source .mtx
#   3. 2 ranks (when mpiexec exists), window 10000: same check, and obs/obsm copied
# plus: an existing output is not replaced without --overwrite. Exit 0 pass, 1 fail, 77 when the
# Python modules (numpy, scipy, h5py; anndata to build the .h5ad) are missing, 99 setup error.
. "$TOP_SRCDIR/tests/e2e/lib.sh"

PY=""
for p in /usr/bin/python3 "${PYTHON:-python3}"; do
    if "$p" -c "import numpy, scipy.sparse, scipy.io, h5py" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with numpy, scipy and h5py"; exit 77; }

SRC=""
for d in "$TOP_SRCDIR/../shared/data" /work/shared/data; do
    [ -f "$d/granja_hemato_atac_epichaos/hemato_atac.peaks.hg19.bed" ] && { SRC=$d; break; }
done
[ -n "$SRC" ] || { echo "setup error: shared/data/granja_hemato_atac_epichaos not found beside the repository"; exit 99; }
G=$SRC/granja_hemato_atac_epichaos
ATAC=.work/datasets/granja_hemato_atac.h5ad
if [ ! -f "$ATAC" ]; then
    "$PY" -c "import anndata, pandas" 2>/dev/null || { echo "SKIP: no anndata/pandas to build $ATAC"; exit 77; }
    "$PY" validation/make_extra_datasets.py --src "$SRC" --out "$WORK" --only granja_hemato_atac >"$WORK/mk.log" 2>&1 ||
        { cat "$WORK/mk.log"; echo "setup error: make_extra_datasets.py failed"; exit 99; }
    ATAC=$WORK/granja_hemato_atac.h5ad
fi
GENES=data/gene_annotation/hg19_genes.bed.gz
CHECK="$PY validation/genescore_check.py --genes $GENES --gene-types protein_coding"

# 1. var names
"$KIDA" genescore --peaks "$ATAC" --genes hg19 --out "$WORK/g1.h5ad" >"$WORK/log1" 2>&1 || { cat "$WORK/log1"; fail "genescore (var names)"; }
grep -q "3955 of 5000 peaks" "$WORK/log1" || { cat "$WORK/log1"; fail "peak usage line"; }
$CHECK --kida "$WORK/g1.h5ad" --h5ad "$ATAC" --window 2000 || fail "var-name peaks, window 2000: not identical"
pass "var-name peaks, window 2000: identical to the independent check"

# 2. BED coordinates, counts against the source Matrix Market file
"$KIDA" genescore "$ATAC" --peaks "$G/hemato_atac.peaks.hg19.bed" --genes "$GENES" --window 0 --out "$WORK/g2.h5ad" \
    >"$WORK/log2" 2>&1 || { cat "$WORK/log2"; fail "genescore (BED)"; }
grep -q "matched by name" "$WORK/log2" || { cat "$WORK/log2"; fail "BED rows not matched by name"; }
$CHECK --kida "$WORK/g2.h5ad" --window 0 --mtx "$G/hemato_atac.counts.peaks_x_cells.mtx.gz" \
    --peaks-bed "$G/hemato_atac.peaks.hg19.bed" --cells "$G/hemato_atac.cells.csv" || fail "BED peaks, window 0: not identical"
pass "BED peaks, window 0, source .mtx: identical"

# 3. two ranks
if [ -n "${MPIEXEC:-}" ] && command -v "${MPIEXEC%% *}" >/dev/null 2>&1; then
    $MPIEXEC -np 2 "$KIDA" genescore --peaks "$ATAC" --genes hg19 --window 10000 --out "$WORK/g3.h5ad" >"$WORK/log3" 2>&1 ||
        { cat "$WORK/log3"; fail "genescore on 2 ranks"; }
    grep -q "2 rank(s)" "$WORK/log3" || { cat "$WORK/log3"; fail "not run on 2 ranks"; }
    $CHECK --kida "$WORK/g3.h5ad" --h5ad "$ATAC" --window 10000 || fail "2 ranks, window 10000: not identical"
    pass "2 ranks, window 10000: identical"
else
    "$KIDA" genescore --peaks "$ATAC" --genes hg19 --window 10000 --out "$WORK/g3.h5ad" >"$WORK/log3" 2>&1 || fail "genescore"
    $CHECK --kida "$WORK/g3.h5ad" --h5ad "$ATAC" --window 10000 || fail "window 10000: not identical"
    pass "window 10000: identical (no mpiexec: 1 rank)"
fi
"$PY" - "$WORK/g3.h5ad" "$ATAC" <<'PY' || fail "obs/obsm/uns of the output"
import sys, h5py, numpy as np
out, src = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert list(out["obs"].keys()) == list(src["obs"].keys()), (list(out["obs"]), list(src["obs"]))
assert np.array_equal(out["obs"]["_index"][()], src["obs"]["_index"][()])
assert np.array_equal(out["obs"]["cell_type"]["codes"][()], src["obs"]["cell_type"]["codes"][()])
assert np.array_equal(out["obsm"]["X_umap_paper"][()], src["obsm"]["X_umap_paper"][()])
assert out["var"]["_index"].shape[0] == out["X"].attrs["shape"][1]
assert out["uns"]["kida_genescore"]["window"][()] == 10000
print("obs, obsm copied; uns/kida_genescore present")
PY
pass "obs and obsm copied from the input"

# an existing output is kept without --overwrite
cp "$WORK/g1.h5ad" "$WORK/keep.h5ad"
expect_fail "existing output without --overwrite" "already exists" "$KIDA" genescore --peaks "$ATAC" --genes hg19 --window 5 --out "$WORK/g1.h5ad"
cmp -s "$WORK/g1.h5ad" "$WORK/keep.h5ad" || fail "existing output was changed"
ls -a "$WORK" | grep -q '\.tmp\.' && fail "temporary file left behind"
pass "all"
exit 0
