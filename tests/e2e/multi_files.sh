# Reference and query given as lists of files (--reference a,b --query c,d): a list made by
# splitting the bundled files gives exactly the single-file result (model, anchors, labels,
# embedding, counts); 3 ranks agree with 1 when a rank's block spans two files, and their run
# summary gives cells/s per phase and every rank's peak RSS; an RNA + ATAC query carries each
# cell's modality and the ATAC cells' gene activity; bad lists are refused.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
$PYH5 -c "import anndata, h5py" 2>/dev/null || { echo "skip: $PYH5 cannot import anndata"; exit 77; }
# split the bundled files; the second halves get their genes in another order, q2 an extra column
$PYH5 - "$WORK" <<'PY' 2>/dev/null || fail "setup: splitting the bundled files"
import sys, numpy as np, anndata as ad
w = sys.argv[1]
rng = np.random.default_rng(0)
q = ad.read_h5ad("data/pbmc_v3_query.h5ad")
r = ad.read_h5ad("data/pbmc_v2_ref.h5ad")
q[:400].copy().write_h5ad(f"{w}/q1.h5ad")
q2 = q[400:, rng.permutation(q.n_vars)].copy()
q2.obs["only_here"] = "x"
q2.write_h5ad(f"{w}/q2.h5ad")
r[:500].copy().write_h5ad(f"{w}/r1.h5ad")
r[500:, rng.permutation(r.n_vars)].copy().write_h5ad(f"{w}/r2.h5ad")
r3 = r[500:].copy()
del r3.obs["cell_type"]
r3.write_h5ad(f"{w}/r3.h5ad")
PY
LIST="--reference $WORK/r1.h5ad,$WORK/r2.h5ad --query $WORK/q1.h5ad,$WORK/q2.h5ad"
"$KIDA" annotate $SMALL --out "$WORK/one.h5ad" --model-out "$WORK/one.h5" >"$WORK/log1" 2>&1 || { cat "$WORK/log1"; fail "single files"; }
"$KIDA" annotate $SMALL $LIST --out "$WORK/list.h5ad" --model-out "$WORK/list.h5" >"$WORK/log2" 2>&1 || { cat "$WORK/log2"; fail "lists"; }
grep -q "reference $WORK/r2.h5ad (rna): 800/800 model genes present" "$WORK/log2" || { cat "$WORK/log2"; fail "no gene coverage line for r2"; }
$PYH5 - "$WORK" <<'PY' 2>/dev/null || fail "lists differ from the single files"
import sys, h5py, numpy as np, anndata as ad, scipy.sparse as sp
w = sys.argv[1]
m1, m2 = h5py.File(f"{w}/one.h5"), h5py.File(f"{w}/list.h5")
assert list(m1["prep/genes"][:]) == list(m2["prep/genes"][:]), "model genes differ"
for k in ("prep/mean", "prep/std"):
    assert np.array_equal(m1[k][:], m2[k][:]), k
for g in ("teacher", "student"):
    d = max(float(np.abs(m1[g][k][:] - m2[g][k][:]).max()) for k in m1[g])
    print(f"{g} weights: max abs diff {d:g}"); assert d == 0.0
a, b = h5py.File(f"{w}/one.h5ad"), h5py.File(f"{w}/list.h5ad")
for k in ("obsm/X_kida", "obsm/kida_proba", "obsm/kida_pathway_attn", "obs/kida_label/codes", "obs/kida_is_anchor"):
    assert np.array_equal(a[k][:], b[k][:]), k
print("X_kida, probabilities, attention, labels, anchors: identical")
S, L = ad.read_h5ad(f"{w}/one.h5ad"), ad.read_h5ad(f"{w}/list.h5ad")
assert list(S.obs_names) == list(L.obs_names), "obs names"
assert list(L.var_names) == [x.decode() for x in m1["prep/genes"][:]], "var = model genes"
assert L.obs["kida_source"].value_counts().to_dict() == {f"{w}/q1.h5ad": 400, f"{w}/q2.h5ad": 506}
assert set(L.obs["kida_modality"]) == {"rna"}
assert (S.obs["cell_type"].astype(str) == L.obs["cell_type"].astype(str)).all(), "cell_type carried over"
assert "only_here" not in L.obs, "a column of one file only must not be carried over"
col = {g: i for i, g in enumerate(S.var_names)}
have = [j for j, g in enumerate(L.var_names) if g in col]
SX, LX = sp.csr_matrix(S.X, dtype=np.float64), sp.csr_matrix(L.X, dtype=np.float64)
d = abs(SX[:, [col[L.var_names[j]] for j in have]] - LX[:, have]).max()
rest = LX[:, [j for j in range(L.n_vars) if L.var_names[j] not in col]].nnz
print(f"X: {len(have)} model genes in the query, max diff {d:g}; {rest} values in genes the query lacks")
assert d == 0 and rest == 0
PY
pass "lists of split files give the single-file result"

if [ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1; then
    # 3 ranks: rank 1's block (302 cells from 302) spans q1 and q2
    timeout 300 "$MPIEXEC" --oversubscribe -np 3 "$KIDA" annotate $SMALL $LIST --out "$WORK/list3.h5ad" >"$WORK/log3" 2>&1 \
        || { cat "$WORK/log3"; fail "3 ranks"; }
    $PYH5 - "$WORK" <<'PY' || fail "3 ranks differ from 1"
import sys, h5py, numpy as np
w = sys.argv[1]
a, b = h5py.File(f"{w}/list.h5ad"), h5py.File(f"{w}/list3.h5ad")
agree = float((a["obs/kida_label_raw/codes"][:] == b["obs/kida_label_raw/codes"][:]).mean())
same_x = np.array_equal(a["X/data"][:], b["X/data"][:]) and np.array_equal(a["X/indices"][:], b["X/indices"][:])
print(f"3 ranks: identical labels {agree:.4%}, identical X {same_x}")
assert agree >= 0.999 and same_x
PY
    pass "3 ranks agree with 1 on lists"
    # the run summary: cells/s of every per-cell phase, then each rank's peak RSS (gathered)
    for p in "reference read + preprocess" "query read + preprocess" "teacher inference" "student inference" \
        "novel types" write; do
        grep "^summary: " "$WORK/log3" | grep -Fq "$p " || { cat "$WORK/log3"; fail "summary lacks '$p'"; }
    done
    [ "$(grep '^summary: ' "$WORK/log3" | grep -o 'cells/s, CPU [0-9.]* s' | wc -l)" -eq 6 ] \
        || { cat "$WORK/log3"; fail "summary: want cells/s and CPU seconds for 6 phases"; }
    for r in 0 1 2; do
        grep -Eq "^peak RSS rank $r: [1-9][0-9]* MiB$" "$WORK/log3" || { cat "$WORK/log3"; fail "no peak RSS line for rank $r"; }
    done
    grep -q "^peak RSS rank 3:" "$WORK/log3" && fail "a peak RSS line for a rank that does not exist"
    pass "3 ranks: summary with cells/s per phase and every rank's peak RSS"
fi

# RNA + ATAC: the ATAC rows are the gene activity kida genescore writes, on the model genes;
# anchors per (type, modality): ceil(40%) of every group
"$KIDA" annotate $SMALL --query data/pbmc_v3_query.h5ad,data/granja_atac.h5ad --query-modality rna,atac --genes hg19 \
    --mode ki --anchor-groups type-modality --out "$WORK/mm.h5ad" --model-out "$WORK/mm.h5" >"$WORK/log4" 2>&1 || { cat "$WORK/log4"; fail "RNA + ATAC query"; }
"$KIDA" genescore --peaks data/granja_atac.h5ad --genes hg19 --out "$WORK/gs.h5ad" >"$WORK/log5" 2>&1 || { cat "$WORK/log5"; fail "genescore"; }
$PYH5 - "$WORK" <<'PY' 2>/dev/null || fail "RNA + ATAC output"
import sys, numpy as np, anndata as ad, scipy.sparse as sp
w = sys.argv[1]
L, G = ad.read_h5ad(f"{w}/mm.h5ad"), ad.read_h5ad(f"{w}/gs.h5ad")
mods = L.obs["kida_modality"].astype(str)
assert (mods[:906] == "rna").all() and (mods[906:] == "atac").all(), "kida_modality"
assert list(L.obs_names[906:]) == list(G.obs_names), "ATAC cell names"
assert set(L.obs["batch"].cat.categories) >= {"BMMC_D5T1", "BMMC_D6T1"}, "batch united"
col = {g: i for i, g in enumerate(G.var_names)}
have = [j for j, g in enumerate(L.var_names) if g in col]
GX = sp.csr_matrix(G.X, dtype=np.float64)[:, [col[L.var_names[j]] for j in have]]
LX = sp.csr_matrix(L.X, dtype=np.float64)[906:, :]
d = abs(GX - LX[:, have]).max()
print(f"ATAC rows: {len(have)} model genes scored, {GX.nnz} values, max diff {d:g}")
assert d == 0 and GX.nnz > 0 and LX[:, [j for j in range(L.n_vars) if L.var_names[j] not in col]].nnz == 0
grp = L.obs.groupby([L.obs["kida_teacher_label_raw"].astype(str), mods], observed=True)["kida_is_anchor"]
# ceil(40%) of every group, at least --anchor-min 10 (all its cells when fewer)
bad = {k: (int(v.sum()), len(v)) for k, v in grp if int(v.sum()) != min(len(v), max(10, int(np.ceil(0.4 * len(v) - 1e-9))))}
print(f"anchors: {int(L.obs['kida_is_anchor'].sum())} in {grp.ngroups} (type, modality) groups; wrong counts: {bad}")
assert not bad and L.obs["kida_is_anchor"][906:].sum() > 0
PY
pass "RNA + ATAC query: modality and gene activity per cell"
if [ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1; then
    timeout 300 "$MPIEXEC" --oversubscribe -np 2 "$KIDA" annotate $SMALL --query data/pbmc_v3_query.h5ad,data/granja_atac.h5ad \
        --query-modality rna,atac --genes hg19 --mode ki --anchor-groups type-modality --out "$WORK/mm2.h5ad" \
        >"$WORK/log6" 2>&1 || { cat "$WORK/log6"; fail "RNA + ATAC on 2 ranks"; }
    $PYH5 - "$WORK" <<'PY' || fail "RNA + ATAC: 2 ranks differ from 1"
import sys, h5py, numpy as np
w = sys.argv[1]
a, b = h5py.File(f"{w}/mm.h5ad"), h5py.File(f"{w}/mm2.h5ad")
same = {k: bool(np.array_equal(a[k][:], b[k][:])) for k in ("X/data", "X/indices", "obs/kida_modality/codes")}
agree = float((a["obs/kida_label_raw/codes"][:] == b["obs/kida_label_raw/codes"][:]).mean())
print(f"2 ranks: identical {same}, labels {agree:.4%}")
assert all(same.values()) and agree >= 0.999
# anchors: the same count per (type, modality) and the same entropy cut-off; many ATAC cells have
# almost no counts and tie in entropy to 1e-7, so which of the tied cells is taken may differ
grp = a["obs/kida_teacher_label_raw/codes"][:].astype(int) * 8 + a["obs/kida_modality/codes"][:]
for g in np.unique(grp):
    m = grp == g
    xa, xb = a["obs/kida_is_anchor"][:][m].astype(bool), b["obs/kida_is_anchor"][:][m].astype(bool)
    ca, cb = a["obs/kida_entropy"][:][m][xa].max(), b["obs/kida_entropy"][:][m][xb].max()
    assert xa.sum() == xb.sum() and abs(ca - cb) < 1e-5, (g, xa.sum(), xb.sum(), ca, cb)
print(f"anchors: same count and entropy cut-off in {len(np.unique(grp))} groups; "
      f"{int((a['obs/kida_is_anchor'][:] != b['obs/kida_is_anchor'][:]).sum())} tied cells swapped")
PY
    pass "RNA + ATAC: 2 ranks agree with 1 (gene activity, anchors per type and modality)"
fi

expect_fail "modality count" "has 1 value(s) but --query lists 2 file(s)" \
    "$KIDA" annotate $SMALL $LIST --query-modality rna --out "$WORK/x.h5ad"
expect_fail "unknown modality" "bad value in --query-modality: got \`dna\`" \
    "$KIDA" annotate $SMALL $LIST --query-modality rna,dna --out "$WORK/x.h5ad"
expect_fail "file listed twice" "listed twice" \
    "$KIDA" annotate $SMALL --query "$WORK/q1.h5ad,$WORK/q1.h5ad" --out "$WORK/x.h5ad"
expect_fail "empty entry" "entry 2 is empty" \
    "$KIDA" annotate $SMALL --query "$WORK/q1.h5ad,,$WORK/q2.h5ad" --out "$WORK/x.h5ad"
expect_fail "label column missing in one reference file" "r3.h5ad: obs column 'cell_type' not found" \
    "$KIDA" train $SMALL --reference "$WORK/r1.h5ad,$WORK/r3.h5ad" --model-out "$WORK/x.h5"
expect_fail "peaks given as RNA in a reference list" "too few model genes in reference data/granja_atac.h5ad" \
    "$KIDA" train $SMALL --reference "data/pbmc_v2_ref.h5ad,data/granja_atac.h5ad" --model-out "$WORK/x.h5"
[ ! -e "$WORK/x.h5ad" ] && [ ! -e "$WORK/x.h5" ] || fail "a refused run left an output"
pass "lists of files"
