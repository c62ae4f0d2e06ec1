// output_tsv: the --predictions-out table (see output.h).
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/atomic.h"
#include "core/log.h"
#include "io/h5ad.h"
#include "train/output.h"

enum { TSV_TAG = 7301 };

static const char *flag(const uint8_t *v, size_t i) { return !v ? "" : v[i] ? "true" : "false"; }

// A name as one field: tabs and line breaks become spaces.
static void put_field(FILE *f, const char *s) {
    for (; *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

// This rank's lines (malloc'ed text, *len bytes).
static char *format_lines(const OutputSpec *o, const OutputLabels *l, char **names, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) FATAL("free memory on this node", "--predictions-out: open_memstream failed: %s", strerror(errno));
    const float *conf = o->final->conf;
    for (size_t i = 0; i < l->n; i++) {
        put_field(f, names[i]);
        fprintf(f, "\t%s\t%.6g\t%s\t%s\t%s\t%s\n", l->cats[l->label[i]], (double)conf[i], l->cats[l->label_raw[i]],
                l->teacher ? l->cats[l->teacher[i]] : "", flag(l->is_anchor, i), flag(l->oor, i));
    }
    if (fclose(f) != 0) FATAL("free memory on this node", "--predictions-out: formatting the lines failed");
    return buf;
}

// Rank 0: the bytes of rank r (a length, then chunks of at most INT_MAX bytes) appended to out.
static void receive_lines(const Dist *d, int r, FILE *out, const char *tmp) {
    int64_t len = 0;
    MPI_CHECK(MPI_Recv(&len, 1, MPI_INT64_T, r, TSV_TAG, d->comm, MPI_STATUS_IGNORE));
    size_t chunk = len < INT_MAX ? (size_t)len : (size_t)INT_MAX;
    char *buf = xmalloc(chunk ? chunk : 1);
    for (int64_t got = 0; got < len;) {
        int m = (int)(len - got < (int64_t)chunk ? len - got : (int64_t)chunk);
        MPI_CHECK(MPI_Recv(buf, m, MPI_CHAR, r, TSV_TAG, d->comm, MPI_STATUS_IGNORE));
        if (fwrite(buf, 1, (size_t)m, out) != (size_t)m)
            FATAL("free space in the folder of --predictions-out", "writing %s: %s", tmp, strerror(errno));
        got += m;
    }
    free(buf);
}

static void send_lines(const Dist *d, const char *text, size_t len) {
    int64_t n = (int64_t)len;
    MPI_CHECK(MPI_Send(&n, 1, MPI_INT64_T, 0, TSV_TAG, d->comm));
    for (size_t off = 0; off < len;) {
        int m = (int)(len - off < (size_t)INT_MAX ? len - off : (size_t)INT_MAX);
        MPI_CHECK(MPI_Send(text + off, m, MPI_CHAR, 0, TSV_TAG, d->comm));
        off += (size_t)m;
    }
}

void output_write_tsv(const char *path, int overwrite, const OutputSpec *o, const OutputLabels *l, const Dist *d) {
    H5ad *h = h5ad_open(o->out_path, NULL, 0, d);
    char **names = h5ad_obs_names(h, o->query->start, l->n);
    h5ad_close(h);
    size_t len = 0;
    char *text = format_lines(o, l, names, &len);
    strv_free(names, l->n);
    if (d->rank != 0) {
        send_lines(d, text, len);
        free(text);
        dist_barrier(d);
        return;
    }
    if (!overwrite && path_exists(path))
        FATAL("pass --overwrite to replace it, or choose another --predictions-out", "%s (--predictions-out) already exists "
              "(it was not changed)", path);
    char *tmp = atomic_tmp_path(path);
    FILE *f = fopen(tmp, "wb");
    if (!f) FATAL("give --predictions-out a path in a folder you can write to", "cannot create %s (temporary for %s): %s",
                  tmp, path, strerror(errno));
    fputs("cell\tlabel\tconfidence\tlabel_raw\tteacher_label\tis_anchor\tout_of_reference\n", f);
    if (fwrite(text, 1, len, f) != len) FATAL("free space in the folder of --predictions-out", "writing %s: %s", tmp, strerror(errno));
    free(text);
    for (int r = 1; r < d->size; r++) receive_lines(d, r, f, tmp);
    if (fflush(f) != 0 || ferror(f) || fclose(f) != 0)
        FATAL("free space in the folder of --predictions-out", "writing %s: %s", tmp, strerror(errno));
    if (!overwrite && path_exists(path))
        FATAL("pass --overwrite to replace it, or choose another --predictions-out",
              "%s appeared while writing (it was not changed)", path);
    atomic_commit(tmp, path);
    free(tmp);
    dist_barrier(d);
}
