#!/bin/sh
# test_genescore_bad: bad input to `kida genescore` and to `kida annotate --modality atac`: each
# must exit 1 with a message naming the file and the field and a HINT, before any output is
# written. Exit 0 pass, 1 fail, 99 setup error.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
RNA=data/pbmc_v3_query.h5ad          # gene names, not peaks
[ -f "$RNA" ] || { echo "setup error: $RNA missing"; exit 99; }

# a tiny peak file: var names chr1:..., written with h5py in the anndata layout
$PYH5 - "$WORK/atac.h5ad" <<'PY' || { echo "setup error: cannot write the peak fixture (h5py)"; exit 99; }
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["encoding-type"], f.attrs["encoding-version"] = "anndata", "0.1.0"
    x = f.create_group("X")
    x.attrs["encoding-type"], x.attrs["encoding-version"] = "csr_matrix", "0.1.0"
    x.attrs["shape"] = np.array([3, 3], dtype=np.int64)
    x["data"] = np.array([1, 2, 3, 4], dtype=np.float32)
    x["indices"] = np.array([0, 1, 2, 0], dtype=np.int32)
    x["indptr"] = np.array([0, 2, 3, 4], dtype=np.int64)
    s = h5py.string_dtype()
    for df, names in (("obs", ["c0", "c1", "c2"]), ("var", ["chr1:100-200", "chr1:5000-5100", "chr2:10-20"])):
        g = f.create_group(df)
        g.attrs["encoding-type"], g.attrs["encoding-version"] = "dataframe", "0.2.0"
        g.attrs["_index"] = "_index"
        g.attrs["column-order"] = np.array([], dtype=s)
        d = g.create_dataset("_index", data=np.array(names, dtype=object), dtype=s)
        d.attrs["encoding-type"], d.attrs["encoding-version"] = "string-array", "0.2.0"
    for k in ("obsm", "varm", "layers", "uns"):
        g = f.create_group(k)
        g.attrs["encoding-type"], g.attrs["encoding-version"] = "dict", "0.1.0"
PY
printf 'chr1\t150\t300\tGENEA\t+\nchr2\t0\t50\tGENEB\t-\n' >"$WORK/genes.bed"
printf 'scaffold_1\t150\t300\tGENEA\t+\n' >"$WORK/other.bed"
printf 'chr1\tsrc\tgene\t151\t300\t.\t+\t.\tgene_id "G1"; gene_name "GENEA"; gene_type "lncRNA";\n' >"$WORK/lnc.gtf"
printf 'chr1\t100\t200\nchr1\t5000\t5100\n' >"$WORK/short_peaks.bed"
printf 'chr1\t100\t200\nchr1\tfive\t5100\nchr2\t10\t20\n' >"$WORK/badcoord_peaks.bed"

# the good case first, so the failures below are about the input alone
"$KIDA" genescore --peaks "$WORK/atac.h5ad" --genes "$WORK/genes.bed" --out "$WORK/ok.h5ad" >"$WORK/ok.log" 2>&1 ||
    { cat "$WORK/ok.log"; fail "genescore on the good fixture"; }
pass "good fixture converts"

expect_fail "var names that are not peaks" "pbmc_v3_query.h5ad: var row 0" \
    "$KIDA" genescore --peaks "$RNA" --genes "$WORK/genes.bed" --out "$WORK/o1.h5ad"
grep -q "is not a peak name" "$WORK/err" && grep -q -- "--peaks PEAKS.bed" "$WORK/err" || fail "message lacks the form or the --peaks hint"
expect_fail "gene table without the peaks' chromosomes" "none of the peaks' chromosomes" \
    "$KIDA" genescore --peaks "$WORK/atac.h5ad" --genes "$WORK/other.bed" --out "$WORK/o2.h5ad"
grep -q "other.bed" "$WORK/err" && grep -q "scaffold_1" "$WORK/err" || fail "message lacks the file or its chromosomes"
expect_fail "no gene of the asked types" "no gene of type(s) 'protein_coding'" \
    "$KIDA" genescore --peaks "$WORK/atac.h5ad" --genes "$WORK/lnc.gtf" --out "$WORK/o3.h5ad"
grep -q "lnc.gtf" "$WORK/err" && grep -q "lncRNA (1)" "$WORK/err" && grep -q -- "--gene-types" "$WORK/err" ||
    fail "message lacks the file, the types present or the option"
expect_fail "no --genes" "needs gene coordinates" "$KIDA" genescore --peaks "$WORK/atac.h5ad" --out "$WORK/o4.h5ad"
expect_fail "missing gene table" "nope.gtf" "$KIDA" genescore --peaks "$WORK/atac.h5ad" --genes "$WORK/nope.gtf" --out "$WORK/o5.h5ad"
expect_fail "peak BED with too few lines" "2 peak line(s)" \
    "$KIDA" genescore "$WORK/atac.h5ad" --peaks "$WORK/short_peaks.bed" --genes "$WORK/genes.bed" --out "$WORK/o6.h5ad"
expect_fail "peak BED with a bad start" "badcoord_peaks.bed' line 2: field 2 (start)" \
    "$KIDA" genescore "$WORK/atac.h5ad" --peaks "$WORK/badcoord_peaks.bed" --genes "$WORK/genes.bed" --out "$WORK/o7.h5ad"
expect_fail "peak BED without the counts" "give the count file" \
    "$KIDA" genescore --peaks "$WORK/short_peaks.bed" --genes "$WORK/genes.bed" --out "$WORK/o8.h5ad"
expect_fail "negative window" 'window` (got -3' \
    "$KIDA" genescore --peaks "$WORK/atac.h5ad" --genes "$WORK/genes.bed" --window -3 --out "$WORK/o9.h5ad"
expect_fail "annotate --modality atac on RNA data" "var row 0" \
    "$KIDA" annotate $SMALL --reference "$RNA" --query "$RNA" --modality atac --genes "$WORK/genes.bed" --out "$WORK/o10.h5ad"
grep -q "kida genescore" "$WORK/err" || fail "annotate hint does not point at kida genescore"
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ ! -e "$WORK/o$i.h5ad" ] || fail "output o$i.h5ad written despite the error"
done
ls -a "$WORK" | grep -q '\.tmp\.' && fail "temporary file left behind"
pass "no output written on error"
exit 0
