// output: the annotated .h5ad, a copy of the query with the kida keys added, written atomically.
// Every rank writes its own cells' rows (X copied from the query, the kida obs columns and obsm
// matrices) into the one file with parallel HDF5; nothing per-cell is gathered. A query of
// several files becomes one new file (output_list_base) with the cells of all files in list order.
#ifndef KIDA_OUTPUT_H
#define KIDA_OUTPUT_H
#include <stddef.h>
#include <stdint.h>

#include "io/h5ad.h"
#include "mpi/dist.h"
#include "train/dataset.h"
#include "train/infer.h"
#include "train/modelfile.h"

typedef struct {
    const Dataset *query;       // the query file(s) the output is built on
    const Config *c;
    const char *out_path;
    int overwrite;
    const ModelSpec *spec;
    Predictions *final;         // this rank's cells (student, or teacher in KI mode); output_write
                                // hands its emb, probs and attn to the writer (left NULL)
    const Predictions *teacher; // this rank's teacher predictions (annotate), or NULL
    const int64_t *anchors;     // global rows (ascending), or NULL
    size_t n_anchor;
    size_t n_total;             // query cells over all ranks
    double unknown_threshold;
    const float *oor_score;     // this rank's distances from the reference (final model), or NULL
    const float *teacher_oor_score;  // the same from the teacher, or NULL
    double oor_cutoff;          // uns kida/oor_cutoff (--novel-distance: a cluster of median score above it is novel)
    int oor_flag;               // 1: out-of-reference (novel) cells are labelled unknown
    const float *oor_holdout;   // (n_oor_holdout) the reference hold-out's scores, ascending
    const float *holdout_conf;  // (n_oor_holdout) and their max probabilities, ascending
    size_t n_oor_holdout;
    // novel types (analysis/novelty.h), or NULL: this rank's cells' cluster, whether it is novel
    // (kida_out_of_reference), its median confidence and (annotate) its median kida_oor_score
    const uint8_t *novel;
    const int32_t *novel_cluster;  // (n) codes of novel_cats
    char *const *novel_cats;
    size_t n_novel_cats;
    const float *cluster_conf, *cluster_score;
    const float *cluster_r;     // (n) the cluster's profile correlation (--novel-profile-r), or NULL
    double novel_cutoff, novel_resolution, novel_profile_r;
    size_t spatial_smooth;      // spots averaged per spot (analysis/spatial.h), 0: not smoothed
    const char *mode;           // "kida", "ki" or "predict"
    const double *hist;         // (n_hist,5) per-epoch history, or NULL
    size_t n_hist;
    // majority voting (--majority-voting), or NULL: this rank's cells' vote and over-cluster
    const int32_t *majority;    // (n) kida_majority_voting, codes of OutputLabels.cats
    const int32_t *over_cluster;  // (n) kida_over_clustering, codes of cluster_cats (-1: none)
    char *const *cluster_cats;
    size_t n_cluster_cats;
} OutputSpec;

// The labels of this rank's cells as the outputs hold them (output_labels).
typedef struct {
    size_t n;                        // this rank's cells
    size_t n_cats;                   // K + 1: the classes, then "unknown"
    char **cats;                     // (n_cats) the spec's class names and "unknown" (not owned)
    int32_t *label, *label_raw;      // (n) kida_label (unknown: code K), kida_label_raw
    int32_t *teacher, *teacher_raw;  // (n) kida_teacher_label(_raw), or NULL without a teacher
    uint8_t *is_anchor;              // (n) or NULL without anchors
    uint8_t *oor;                    // (n) kida_out_of_reference (the cell's cluster is novel), or NULL
    int64_t *count;                  // (n_cats) kida_label cells of all ranks per code
    size_t n_unknown, n_total;       // all ranks: kida_label unknown, cells
} OutputLabels;

// Collective: the labels of o's cells, with the unknown rule (max probability below
// o->unknown_threshold or, with o->oor_flag, a cell of a novel-type cluster) and the counts over
// ranks.
OutputLabels output_labels(const OutputSpec *o, const Dist *d);
void output_labels_free(OutputLabels *l);
// Collective: every rank writes its rows (labels l, made by output_labels from o). Categorical
// columns list only the categories some cell has. One more obs column or obsm matrix is one more
// h5ad_write_* call in output_write.
void output_write(const OutputSpec *o, const OutputLabels *l, const Dist *d);
// Collective, after output_write: the table of --predictions-out at path (tab-separated, a header
// line, then one line per cell in query order: obs name, label, confidence, label_raw,
// teacher_label, is_anchor, out_of_reference; empty where the run has no such value). Each rank
// reads its cells' obs names back from the annotated file and formats its lines; rank 0 writes
// them in rank order into a temporary and renames it over path (atomic). FATAL if path exists
// and !overwrite.
void output_write_tsv(const char *path, int overwrite, const OutputSpec *o, const OutputLabels *l, const Dist *d);
// Before any work (rank 0; a FATAL stops every rank): what output_write will copy from each file
// of the comma-separated query list is checked as the copy checks it (h5ad_check_copy_source), so
// a damaged part of a query is refused before training, not after.
void output_check_query(const char *query_list);
// The base of the output for a query of several files (collective; each rank writes the rows of
// its block q->start, q->count): X = counts on the model genes (ATAC files as gene activity), read
// by each rank for its rows; var = the model genes; obs names of all files (made unique; rank 0
// reads and writes them); obs kida_source and kida_modality; the text obs columns and obsm
// matrices that every file has. kida keys of an earlier run are not carried over.
H5adWriter *output_list_base(const char *out_path, int overwrite, const Dataset *q, const ModelSpec *spec,
                             const Config *c, const Dist *d);
#endif
