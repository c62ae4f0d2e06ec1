"""kida from Python: runs the kida binary on AnnData objects and returns the annotated query.

    import kida
    q = kida.annotate(adata_ref, adata_query, label_key="cell_type", n_pathways=300)
    q = kida.predict("model.h5", adata_query)

Nothing is computed here: the objects are written to temporary .h5ad files, `kida annotate` or
`kida predict` runs on them (through mpiexec with ranks=N), and its output file is read back.
"""
from ._run import KidaError, annotate, find_binary, predict

__all__ = ["annotate", "predict", "find_binary", "KidaError"]
__version__ = "0.1.0"
