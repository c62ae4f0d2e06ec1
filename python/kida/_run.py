"""Runs the kida binary: finds it, turns keyword options into its command line, reports its errors."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading

import anndata

# Options the wrappers set themselves from their arguments.
_RESERVED = {"reference", "query", "out", "model", "label_key", "label-key"}


class KidaError(RuntimeError):
    """kida failed. str() is kida's error and hint lines; .stderr holds all it wrote there,
    .returncode its exit status and .command the command line that ran."""

    def __init__(self, message, stderr="", returncode=None, command=None):
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode
        self.command = command


def find_binary(binary=None):
    """The kida executable: `binary`, else $KIDA_BIN, else `kida` on the PATH."""
    for candidate in (binary, os.environ.get("KIDA_BIN")):
        if candidate:
            path = shutil.which(candidate) or (candidate if os.path.isfile(candidate) else None)
            if not path or not os.access(path, os.X_OK):
                raise KidaError(f"kida binary {candidate!r} is not an executable file "
                                "(give binary= or KIDA_BIN the path of the built kida, e.g. build/kida)")
            return path
    path = shutil.which("kida")
    if not path:
        raise KidaError("kida binary not found: pass binary='/path/to/kida', set KIDA_BIN, "
                        "or put kida on the PATH (build it with tools/build, or make install)")
    return path


def _option_args(options):
    """Keyword options as kida arguments: n_pathways=300 -> ['--n-pathways', '300']."""
    args = []
    for key, value in options.items():
        if value is None:
            continue
        name = key.replace("_", "-")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        else:
            text = str(os.fspath(value)) if isinstance(value, os.PathLike) else str(value)
        args += [f"--{name}", text]
    return args


def _check_options(options):
    bad = sorted(k for k in options if k in _RESERVED)
    if bad:
        raise TypeError(f"option(s) {', '.join(bad)} are set by the function's own arguments")


def _error_message(stderr, returncode):
    """kida's ERROR and HINT lines (all of stderr's last lines when it printed none)."""
    lines = [l for l in stderr.splitlines() if "ERROR" in l or l.startswith("HINT:")]
    if not lines:
        lines = stderr.strip().splitlines()[-10:] or [f"kida exited with status {returncode} and no message"]
    return "\n".join(lines)


def _pump(stream, sink, keep):
    for line in iter(stream.readline, ""):
        keep.append(line)
        if sink is not None:
            sink.write(line)
            sink.flush()
    stream.close()


def _run(subcommand, args, binary, ranks, mpiexec, verbose, names=None):
    """Runs kida; names maps the temporary files written here to the arguments they hold, so that
    an error about one names the argument (adata_ref) instead of a file that is gone."""
    cmd = [find_binary(binary), subcommand] + args
    if ranks is not None and int(ranks) > 1:
        launcher = mpiexec or os.environ.get("KIDA_MPIEXEC") or "mpiexec"
        if not shutil.which(launcher):
            raise KidaError(f"ranks={ranks} needs {launcher!r} on the PATH (or pass mpiexec='/path/to/mpiexec')")
        cmd = [launcher, "-np", str(int(ranks))] + cmd
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    out, err = [], []
    threads = [threading.Thread(target=_pump, args=(proc.stdout, sys.stdout if verbose else None, out)),
               threading.Thread(target=_pump, args=(proc.stderr, None, err))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rc = proc.wait()
    stderr = "".join(err)
    if rc != 0:
        message = _error_message(stderr, rc)
        for path, name in (names or {}).items():
            message = message.replace(path, f"{name} (written for kida as {os.path.basename(path)})")
        raise KidaError(message, stderr=stderr, returncode=rc, command=cmd)
    if verbose and stderr:
        sys.stderr.write(stderr)   # kida's warnings
    return "".join(out)


def _as_file(data, folder, name, arg, names):
    """A path kida can read: an existing .h5ad/.h5 path as given, else the AnnData written to
    folder (recorded in names as the argument arg)."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    if not isinstance(data, anndata.AnnData):
        raise TypeError(f"{arg}: want an AnnData or a path to an .h5ad file, got {type(data).__name__}")
    path = os.path.join(folder, f"{name}.h5ad")
    data.write_h5ad(path)
    names[path] = arg
    return path


def _read_back(path):
    result = anndata.read_h5ad(path)
    return result.to_memory() if getattr(result, "isbacked", False) else result


def annotate(adata_ref, adata_query, label_key="cell_type", *, model_out=None, binary=None, ranks=None,
             mpiexec=None, verbose=True, **options):
    """kida annotate: teacher on the reference, anchors and student on the query.

    adata_ref, adata_query: AnnData with raw counts (or paths to .h5ad files). label_key: the
    reference's obs column with the cell types. model_out: also save the model there (for
    predict). options: any `kida annotate` option, `_` for `-` (n_pathways=300, width=64,
    device="cuda", overwrite=True). ranks=N runs through mpiexec -np N (mpiexec= or
    $KIDA_MPIEXEC names another launcher). verbose: echo kida's log. Returns the annotated query
    (obs kida_label, ..., obsm X_kida, uns kida) read back from kida's output file. Raises
    KidaError with kida's message when kida fails.
    """
    _check_options(options)
    with tempfile.TemporaryDirectory(prefix="kida-") as tmp:
        names = {}
        args = ["--reference", _as_file(adata_ref, tmp, "reference", "adata_ref", names),
                "--query", _as_file(adata_query, tmp, "query", "adata_query", names),
                "--label-key", label_key, "--out", os.path.join(tmp, "annotated.h5ad")]
        if model_out is not None:
            args += ["--model-out", os.fspath(model_out)]
        _run("annotate", args + _option_args(options), binary, ranks, mpiexec, verbose, names)
        return _read_back(os.path.join(tmp, "annotated.h5ad"))


def predict(model, adata_query, *, binary=None, ranks=None, mpiexec=None, verbose=True, **options):
    """kida predict: annotate a query with a saved model (kida train, or annotate's model_out).

    model: path of the model file. adata_query: AnnData (or .h5ad path). options, ranks,
    mpiexec, verbose and the result as in annotate().
    """
    _check_options(options)
    with tempfile.TemporaryDirectory(prefix="kida-") as tmp:
        names = {}
        args = ["--model", os.fspath(model), "--query", _as_file(adata_query, tmp, "query", "adata_query", names),
                "--out", os.path.join(tmp, "annotated.h5ad")]
        _run("predict", args + _option_args(options), binary, ranks, mpiexec, verbose, names)
        return _read_back(os.path.join(tmp, "annotated.h5ad"))
