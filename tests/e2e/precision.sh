# --precision on the CPU. Where this build and CPU run bf16 products (`kida --version` says so):
# a bf16 run logs them, gives the same bits on 1 and 2 ranks, differs from the fp32 run (so bf16
# really ran) and agrees with its labels on at least 90% of cells; auto picks bf16 exactly when
# the CPU has AMX. Elsewhere: --precision bf16 stops before any work with the fix, and auto runs
# fp32. The network of tests/e2e/ranks.conf (head size 16: the attention tiles), a few seconds a run.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
NET="--config tests/e2e/ranks.conf"
"$KIDA" --version >"$WORK/version" 2>&1 || fail "kida --version"
grep -q "^bf16 products" "$WORK/version" || { cat "$WORK/version"; fail "--version does not say whether bf16 runs"; }
if ! grep -q "^bf16 products (--precision bf16): available" "$WORK/version"; then
    expect_fail "bf16 refused where it cannot run" "precision bf16 is not available" \
        "$KIDA" annotate $NET --precision bf16 --out "$WORK/b.h5ad"
    [ ! -e "$WORK/b.h5ad" ] || fail "a refused run wrote its output"
    "$KIDA" annotate $NET --precision auto --out "$WORK/a.h5ad" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "auto"; }
    grep -q "CPU products: fp32" "$WORK/log" || { cat "$WORK/log"; fail "auto did not run fp32 here"; }
    pass "auto runs fp32 here ($(sed -n 's/^bf16 products[^(]*([^)]*): //p' "$WORK/version"))"
    exit 0
fi
"$KIDA" annotate $NET --out "$WORK/f.h5ad" >"$WORK/logf" 2>&1 || { cat "$WORK/logf"; fail "fp32 run"; }
"$KIDA" annotate $NET --precision bf16 --out "$WORK/b1.h5ad" >"$WORK/log1" 2>&1 || { cat "$WORK/log1"; fail "bf16 run"; }
grep -q "CPU products: bf16" "$WORK/log1" || { cat "$WORK/log1"; fail "no 'CPU products: bf16' line"; }
pass "bf16 run"
if [ -n "${MPIEXEC:-}" ] && command -v "$MPIEXEC" >/dev/null 2>&1; then
    timeout 300 "$MPIEXEC" --oversubscribe -np 2 "$KIDA" annotate $NET --precision bf16 --out "$WORK/b2.h5ad" \
        >"$WORK/log2" 2>&1 || { cat "$WORK/log2"; fail "bf16 on 2 ranks"; }
    h5diff --exclude-path /uns/kida/config "$WORK/b1.h5ad" "$WORK/b2.h5ad" >"$WORK/diff" 2>&1 \
        || { head -n 20 "$WORK/diff"; fail "bf16: 1 and 2 ranks differ"; }
    pass "bf16: 1 and 2 ranks bit-identical"
fi
$PYH5 - "$WORK/f.h5ad" "$WORK/b1.h5ad" <<'PY' || fail "bf16 against fp32"
import sys, h5py, numpy as np
f, b = (h5py.File(p, "r") for p in sys.argv[1:3])
pf, pb = f["obsm/kida_proba"][:], b["obsm/kida_proba"][:]
agree = (pf.argmax(1) == pb.argmax(1)).mean()
print(f"fp32 vs bf16: largest probability difference {np.abs(pf - pb).max():.3g}, labels agree on {agree:.1%}")
assert np.isfinite(pb).all() and not np.array_equal(pf, pb), "bf16 gave the fp32 bits: did it run?"
assert agree >= 0.90, "bf16 labels far from fp32's"
PY
pass "bf16 differs from fp32 in the bits, not in the labels"
"$KIDA" annotate $NET --precision auto --out "$WORK/a.h5ad" >"$WORK/loga" 2>&1 || { cat "$WORK/loga"; fail "auto"; }
if grep -q "this CPU: AMX-BF16" "$WORK/version"; then want="CPU products: bf16"; else want="CPU products: fp32"; fi
grep -q "$want" "$WORK/loga" || { cat "$WORK/loga"; fail "auto: want '$want'"; }
pass "auto: $want"
