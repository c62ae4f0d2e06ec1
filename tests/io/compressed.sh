# Compressed .h5ad files as h5py writes them: LZF (compression='lzf', kida's own decoder) reads
# exactly as the uncompressed file; Blosc reads through Debian's plugin when it is installed;
# a filter this HDF5 cannot decode is FATAL at open, naming the filter and the package or fix.
. "$TOP_SRCDIR/tests/e2e/lib.sh"
DRV="$TOP_BUILDDIR/tests/io/io_driver"
[ -x "$DRV" ] || { echo "io_driver not built"; exit 99; }
$PYH5 -c "import anndata, h5py" 2>/dev/null || { echo "skip: $PYH5 cannot import anndata"; exit 77; }
BLOSC=/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins/libH5Zblosc.so
HDF5_PLUGIN_PATH=/nonexistent $PYH5 - "$WORK" <<'PY' 2>/dev/null || { echo "setup error: writing compressed files (h5py)"; exit 99; }
import sys, h5py, numpy as np, anndata as ad
w = sys.argv[1]
q = ad.read_h5ad("data/pbmc_v3_query.h5ad")[:300].copy()
q.write_h5ad(f"{w}/plain.h5ad")
q.write_h5ad(f"{w}/lzf.h5ad", compression="lzf")
d = q.copy(); d.X = d.X.toarray(); d.write_h5ad(f"{w}/lzf_dense.h5ad", compression="lzf")
# a filter listed in the file that no plugin provides (optional, so h5py can write the file)
def with_filter(name, fid):
    q.write_h5ad(f"{w}/{name}.h5ad")
    with h5py.File(f"{w}/{name}.h5ad", "a") as f:
        data = f["X/data"][:]
        del f["X/data"]
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4096,))
        dcpl.set_filter(fid, h5py.h5z.FLAG_OPTIONAL, ())
        sid = h5py.h5s.create_simple(data.shape)
        ds = h5py.h5d.create(f["X"].id, b"data", h5py.h5t.IEEE_F32LE, sid, dcpl=dcpl)
        ds.write(h5py.h5s.ALL, h5py.h5s.ALL, data)
with_filter("blosc_listed", 32001)
with_filter("unknown_filter", 32999)
PY
if [ -e "$BLOSC" ]; then   # Blosc-compressed data, written through the plugin
    HDF5_PLUGIN_PATH=$(dirname "$BLOSC") $PYH5 - "$WORK" <<'PY' 2>/dev/null || { echo "setup error: writing Blosc (h5py)"; exit 99; }
import sys, h5py, anndata as ad
w = sys.argv[1]
ad.read_h5ad(f"{w}/plain.h5ad").write_h5ad(f"{w}/blosc.h5ad")
with h5py.File(f"{w}/blosc.h5ad", "a") as f:
    for k in ("data", "indices"):
        v = f["X"][k][:]
        del f["X"][k]
        f["X"].create_dataset(k, data=v, chunks=(4096,), compression=32001, compression_opts=(0, 0, 0, 0, 5, 1, 0))
    assert f["X/data"].id.get_create_plist().get_filter(0)[0] == 32001
PY
fi
assert_same() {
    "$DRV" --counts --label cell_type "$WORK/plain.h5ad" >"$WORK/a" 2>&1 || { cat "$WORK/a"; fail "plain file"; }
    "$DRV" --counts --label cell_type "$WORK/$1.h5ad" >"$WORK/b" 2>&1 || { cat "$WORK/b"; fail "$1: not read"; }
    sed "s|$WORK/[a-z_]*.h5ad||g; /encoding/d; /^X:/d" "$WORK/a" >"$WORK/a2"
    sed "s|$WORK/[a-z_]*.h5ad||g; /encoding/d; /^X:/d" "$WORK/b" >"$WORK/b2"
    grep -q "sum" "$WORK/a2" || { cat "$WORK/a"; fail "io_driver printed no sum"; }
    diff "$WORK/a2" "$WORK/b2" >/dev/null || { diff "$WORK/a2" "$WORK/b2"; fail "$1 reads differently from the plain file"; }
    pass "$1 reads as the plain file"
}
assert_same lzf
"$DRV" --counts "$WORK/lzf_dense.h5ad" >"$WORK/c" 2>&1 || { cat "$WORK/c"; fail "lzf dense X"; }
grep -q "sum" "$WORK/c" || { cat "$WORK/c"; fail "lzf dense: no sum"; }
[ "$(grep -o 'sum [0-9.e+]*' "$WORK/c")" = "$(grep -o 'sum [0-9.e+]*' "$WORK/a")" ] || { cat "$WORK/a" "$WORK/c"; fail "lzf dense: another sum"; }
pass "lzf dense X reads as the plain file"
if [ -e "$BLOSC" ]; then assert_same blosc; else echo "note: no Blosc plugin ($BLOSC), Blosc data not read"; fi
# without plugins (HDF5_PLUGIN_PRELOAD=:: turns their loading off): the filter and the package are named
export HDF5_PLUGIN_PRELOAD=::
expect_fail "blosc, no plugin" "X/data' is compressed with the '.*' filter (HDF5 filter 32001), which this HDF5 cannot decode" \
    "$DRV" "$WORK/blosc_listed.h5ad"
grep -q "^HINT: install Debian's hdf5-filter-plugin-blosc-serial (tools/install-deps does)" "$WORK/err" \
    || { cat "$WORK/err"; fail "hint lacks the package"; }
assert_same lzf   # kida's own decoder needs no plugin
unset HDF5_PLUGIN_PRELOAD
expect_fail "a filter no plugin decodes" "X/data' is compressed with the '.*' filter (HDF5 filter 32999), which this HDF5 cannot decode" \
    "$DRV" "$WORK/unknown_filter.h5ad"
grep -q "HDF5_PLUGIN_PATH" "$WORK/err" || { cat "$WORK/err"; fail "hint lacks HDF5_PLUGIN_PATH"; }
