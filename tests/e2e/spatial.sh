# --spatial-smooth on a spatial query: the probabilities written are the mean of the unsmoothed
# ones over each spot's 7 nearest spots (checked in numpy from the coordinates), labels are their
# arg-max, 1 and 2 ranks write the same bits, and an RNA query with the same coordinates is left
# alone. The query is the bundled PBMC v3 file with planted coordinates (a hex grid: many equal
# distances, so the tie rule matters). Off by default: the default run is the unsmoothed one.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
"$KIDA" train $SMALL --model-out "$WORK/m.h5" --quiet 2>/dev/null || fail "train"
cp data/pbmc_v3_query.h5ad "$WORK/q.h5ad"
$PYH5 - "$WORK/q.h5ad" <<'PY' || fail "planting coordinates"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r+")
n = f["obs"].attrs.get("_index", "_index")
n = len(f["obs"][n if isinstance(n, str) else n.decode()])
i = np.arange(n)
r, c = i // 40, i % 40
xy = np.stack([100.0 * c + 50.0 * (r % 2), 86.6025 * r], axis=1)   # hex grid, spacing 100
g = f.require_group("obsm")
if "spatial" in g: del g["spatial"]
g.create_dataset("spatial", data=xy)
print(f"{n} spots on a hex grid")
PY
P="predict --model $WORK/m.h5 --query $WORK/q.h5ad --quiet"
"$KIDA" $P --modality spatial --out "$WORK/raw.h5ad" || fail "unsmoothed (the default)"
"$KIDA" $P --modality spatial --spatial-smooth 7 --out "$WORK/s.h5ad" || fail "smoothed"
"$KIDA" $P --spatial-smooth 7 --out "$WORK/rna.h5ad" || fail "rna query"
$PYH5 - "$WORK" <<'PY' || fail "smoothed probabilities"
import sys, h5py, numpy as np
w = sys.argv[1]
raw, s, rna = (h5py.File(f"{w}/{x}.h5ad", "r") for x in ("raw", "s", "rna"))
xy = raw["obsm/spatial"][:].astype(np.float32).astype(np.float64)   # kida reads float32
pr, ps = raw["obsm/kida_proba"][:].astype(np.float64), s["obsm/kida_proba"][:]
n, k = len(xy), 7
want = np.empty_like(pr)
for i in range(n):
    d = ((xy - xy[i]) ** 2).sum(1)
    d[i] = -1
    nb = np.lexsort((np.arange(n), d))[:k]   # by distance, then index; itself first
    want[i] = pr[nb].mean(0)
err = np.abs(ps - want).max()
assert err < 1e-6, f"largest difference {err}"
changed = (pr.argmax(1) != ps.argmax(1)).sum()
assert changed > 0, "smoothing changed no label: the check would be vacuous"
assert np.array_equal(ps.argmax(1), want.argmax(1))
assert s["uns/kida/spatial_smooth"][()] == 7 and raw["uns/kida/spatial_smooth"][()] == 0
assert rna["uns/kida/spatial_smooth"][()] == 0 and np.array_equal(rna["obsm/kida_proba"][:], raw["obsm/kida_proba"][:])
print(f"{n} spots: smoothed = mean over the 7 nearest to {err:.1e}; {changed} arg-max labels changed; RNA left alone")
PY
pass "smoothed probabilities are the means over the 7 nearest spots"
# one position for every spot: warned about and left alone (no neighbourhood, and no quadratic search)
cp "$WORK/q.h5ad" "$WORK/q0.h5ad"
$PYH5 -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); f['obsm/spatial'][...] = 5.0" "$WORK/q0.h5ad" || fail "planting one position"
"$KIDA" predict --model "$WORK/m.h5" --query "$WORK/q0.h5ad" --modality spatial --spatial-smooth 7 --out "$WORK/s0.h5ad" >"$WORK/l0" 2>&1 || { cat "$WORK/l0"; fail "one position"; }
grep -q "every spot has the same obsm\[\"spatial\"\] position" "$WORK/l0" || { cat "$WORK/l0"; fail "no warning for one position"; }
$PYH5 -c "import h5py, sys; assert h5py.File(sys.argv[1], 'r')['uns/kida/spatial_smooth'][()] == 0" "$WORK/s0.h5ad" || fail "one position was smoothed"
pass "one position for all spots: warned, not smoothed"
if [ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1; then
    timeout 300 "$MPIEXEC" --oversubscribe -np 2 "$KIDA" $P --modality spatial --spatial-smooth 7 --out "$WORK/s2.h5ad" >"$WORK/l" 2>&1 || { cat "$WORK/l"; fail "2 ranks"; }
    h5diff --exclude-path /uns/kida/config "$WORK/s.h5ad" "$WORK/s2.h5ad" >"$WORK/d" 2>&1 || { head "$WORK/d"; fail "2 ranks differ"; }
    pass "2 ranks: bit-identical to 1"
fi
