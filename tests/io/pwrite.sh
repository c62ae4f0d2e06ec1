#!/bin/sh
# pwrite: the parallel writer. tests/io/test_h5ad_pwrite writes a copy of a fixture (X, layers, raw,
# obsm copied by rows, new obs and obsm columns of every kind) and a new two-file list (generated
# X, obsm copied from both files) with each rank writing its own uneven block of rows, a rank with
# none at 3 and 4 ranks. The files written by 2, 3 and 4 ranks, and those written with transfers
# forced down to a few elements (KIDA_H5_CHUNK, KIDA_MPI_CHUNK: the chunked large-count paths),
# must be identical (h5diff) to the 1-rank files; a rank that fails before the commit leaves no
# output and no temporary; anndata opens the files with the values written (skipped without it).
# Exit 0 pass, 1 fail, 99 setup error. Without mpiexec only the 1-rank checks run.
set -u
B=$(cd "${TOP_BUILDDIR:-.}" && pwd)
S=${TOP_SRCDIR:-..}
PY=${PYTHON:-python3}
W="$B/tests/io/test_h5ad_pwrite"
[ -x "$W" ] || { echo "missing $W"; exit 99; }
command -v h5diff >/dev/null || { echo "missing h5diff (hdf5-tools)"; exit 99; }
T=$(mktemp -d) || exit 99
trap 'rm -rf "$T"' EXIT
fail=0
"$W" --fixture "$T/src.h5ad" || exit 99
"$W" --write "$T/src.h5ad" "$T/o1" || { echo "FAIL: 1 rank"; exit 1; }
same() {  # same NAME A B: h5diff finds no difference in any dataset or attribute
    if h5diff "$2" "$3" >"$T/diff" 2>&1; then echo "ok: $1"; else echo "FAIL: $1"; head -20 "$T/diff"; fail=1; fi
}
KIDA_H5_CHUNK=2 "$W" --write "$T/src.h5ad" "$T/c1" || { echo "FAIL: 1 rank, chunked"; fail=1; }
for f in copy list; do same "1 rank, transfers of 2 elements == 1 rank ($f)" "$T/o1.$f.h5ad" "$T/c1.$f.h5ad"; done
if [ -n "${MPIEXEC:-}" ]; then
    for n in 2 3 4; do
        $MPIEXEC -n $n "$W" --write "$T/src.h5ad" "$T/o$n" 2>"$T/err" || { echo "FAIL: $n ranks"; cat "$T/err"; fail=1; continue; }
        for f in copy list; do same "$n ranks == 1 rank ($f)" "$T/o1.$f.h5ad" "$T/o$n.$f.h5ad"; done
    done
    KIDA_H5_CHUNK=2 KIDA_MPI_CHUNK=3 $MPIEXEC -n 3 "$W" --write "$T/src.h5ad" "$T/c3" 2>"$T/err" || { echo "FAIL: 3 ranks, chunked"; cat "$T/err"; fail=1; }
    for f in copy list; do same "3 ranks, transfers of 2 elements, messages of 3 == 1 rank ($f)" "$T/o1.$f.h5ad" "$T/c3.$f.h5ad"; done
    mkdir "$T/die"
    $MPIEXEC -n 3 "$W" --die "$T/src.h5ad" "$T/die/x" 2 >"$T/out" 2>&1 && { echo "FAIL: --die exited 0"; fail=1; }
    left=$(ls -A "$T/die")
    if [ -z "$left" ] && grep -q "rank 2 stops" "$T/out"; then echo "ok: a rank failing before the commit leaves no output and no temporary"
    else echo "FAIL: after a failed rank the folder holds: $left"; cat "$T/out"; fail=1; fi
else
    echo "note: no mpiexec, only the 1-rank checks ran"
fi
# A full disk during the write (here the file size limit, ulimit -f in 512-byte blocks, which acts
# as one would: kida ignores SIGXFSZ once it writes a temporary; mpiexec's ranks do not inherit
# the shell's trap), at limits from 8 kB to past the files' size: each run either writes the
# 1-rank files or ends with exit 1 (not a crash: libhdf5 once crashed at exit after the error)
# and an ERROR naming the output, and leaves no temporary and no partial output. The sweep must
# reach a failure in the middle of the write, past the room check. (The shared memory files of
# PMIx and of Open MPI's shared-memory transport trip over the limit themselves: PMIx's hash
# store and the TCP transport need none.)
full_disk() {  # full_disk LABEL LAUNCHER...: the sweep with test_h5ad_pwrite run by LAUNCHER
    label=$1; shift
    mid=0; whole=0
    for blocks in 16 32 48 56 64 72 90 200; do
        rm -rf "$T/fd" && mkdir "$T/fd"
        ( trap '' XFSZ; ulimit -f $blocks; export PMIX_MCA_gds=hash OMPI_MCA_btl=self,tcp
          exec "$@" "$W" --write "$T/src.h5ad" "$T/fd/o" ) >"$T/out" 2>&1
        rc=$?
        tmps=$(ls -A "$T/fd" | grep '\.tmp\.')
        [ -z "$tmps" ] || { echo "FAIL: $label, limit $blocks blocks: temporary left: $tmps"; fail=1; }
        if [ $rc -eq 0 ]; then
            whole=$((whole + 1))
            for f in copy list; do
                h5diff "$T/o1.$f.h5ad" "$T/fd/o.$f.h5ad" >/dev/null 2>&1 ||
                    { echo "FAIL: $label, limit $blocks blocks: exit 0 but $f differs"; fail=1; }
            done
            continue
        fi
        [ $rc -eq 1 ] || { echo "FAIL: $label, limit $blocks blocks: exit $rc, want 1"; sed 's/^/    /' "$T/out" | head; fail=1; }
        # (mpiexec's own lines may split the ERROR line)
        grep -q "ERROR " "$T/out" && grep -q "$T/fd/o\.\(copy\|list\)\.h5ad" "$T/out" ||
            { echo "FAIL: $label, limit $blocks blocks: no ERROR naming the output"; sed 's/^/    /' "$T/out" | head; fail=1; }
        grep -q "ERROR .*no room" "$T/out" || mid=$((mid + 1))
        for f in "$T"/fd/*.h5ad; do   # what was committed before the failure is complete
            [ -e "$f" ] || continue
            h5diff "$T/o1.$(basename "$f" | cut -d. -f2).h5ad" "$f" >/dev/null 2>&1 ||
                { echo "FAIL: $label, limit $blocks blocks: partial output $f"; fail=1; }
        done
    done
    if [ $mid -gt 0 ] && [ $whole -gt 0 ]; then
        echo "ok: $label: a full disk (file size limit) leaves no temporary and no partial output ($mid failed mid-write, $whole complete)"
    else echo "FAIL: $label: the sweep reached $mid mid-write failures and $whole complete writes (want both)"; fail=1; fi
}
full_disk "1 rank"
[ -n "${MPIEXEC:-}" ] && full_disk "3 ranks" $MPIEXEC -n 3
if "$PY" -c "import anndata" 2>/dev/null; then
    "$PY" - "$T/src.h5ad" "$T/o1.copy.h5ad" "$T/o1.list.h5ad" <<'PYEOF' || fail=1
import sys, anndata as ad, numpy as np, scipy.sparse as sp
src, cp, ls = (ad.read_h5ad(p) for p in sys.argv[1:4])
i = np.arange(src.n_obs)
checks = {
    "copy X (int32 kept)": cp.X.dtype == np.int32 and (cp.X != src.X).nnz == 0,
    "copy layers": np.array_equal(cp.layers["counts"], src.layers["counts"]),
    "copy raw": (cp.raw.X != src.raw.X).nnz == 0 and list(cp.raw.var_names) == list(src.raw.var_names),
    "copy obsm spatial": np.array_equal(cp.obsm["spatial"], src.obsm["spatial"]),
    "copy names": list(cp.obs_names) == list(src.obs_names) and cp.uns["title"][0] == "fixture",
    "obs f32/i32/bool": np.allclose(cp.obs["kida_conf"], i / 8) and np.array_equal(cp.obs["kida_count"], i * i - 100)
        and np.array_equal(cp.obs["kida_flag"], i % 3 == 0) and np.allclose(cp.obs["depth"], i / 8),
    "obs categorical": list(cp.obs["kida_label"].astype(str)) == ["nan" if k % 4 == 3 else ["alpha", "beta", "gamma"][k % 3] for k in i],
    "obsm written": np.array_equal(cp.obsm["X_kida"], (i[:, None] * 3 + np.arange(3)).astype(np.float32))
        and np.array_equal(cp.obsm["kida_proba"], -(i[:, None] * 4 + np.arange(4)).astype(np.float32)),
    "list X": (ls.X != sp.vstack([src.X, src.X])).nnz == 0 and ls.X.indptr.dtype == ls.X.indices.dtype,
    "list obsm copied from both files": np.array_equal(ls.obsm["spatial"], np.vstack([src.obsm["spatial"]] * 2)),
    "list names and source": ls.obs_names[src.n_obs + 3] == "cell3-1" and list(ls.obs["kida_source"].cat.codes) == [0] * src.n_obs + [1] * src.n_obs,
}
for k, v in checks.items(): print(("ok: " if v else "FAIL: ") + "anndata: " + k)
sys.exit(0 if all(checks.values()) else 1)
PYEOF
else
    echo "note: $PY cannot import anndata; the anndata checks did not run"
fi
[ $fail = 0 ] && echo "pwrite: pass" || echo "pwrite: FAIL"
exit $fail
