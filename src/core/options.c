// options: the one table of kida's options. Parsing, --help, --print-config, config files and the
// text stored in model files all read this table, so an option is added in exactly one place.
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"  // autoconf: PACKAGE_VERSION
#include "core/confpath.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/options.h"

typedef enum { T_STR, T_INT, T_FLOAT, T_BOOL, T_CHOICE } OptType;

typedef struct {
    const char *name;     // long option and config key
    OptType type;
    const char *def;      // default, as text
    size_t off;           // offset into Config
    unsigned cmds;        // subcommands it applies to
    const char *choices;  // for T_CHOICE: "a|b|c"
    const char *help;
    const char *group;    // --help section
    double lo, hi;        // T_INT / T_FLOAT: allowed range [lo, hi], stated by --help; none when lo == hi
} OptSpec;

#define O(field) offsetof(Config, field)
#define R(lo, hi) (lo), (hi)   // an option's range, last in its row
// rows without a range leave lo and hi zero
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const OptSpec OPTS[] = {
    // general
    {"config", T_STR, "", O(config), CMD_ALL, 0, "read options from a `key = value` file (command line wins)", "General"},
    {"seed", T_INT, "0", O(seed), CMD_RUN | CMD_EVALUATE, 0, "global seed: weights, shuffles, dropout, hold-out split", "General"},
    {"threads", T_INT, "0", O(threads), CMD_ALL, 0, "CPU threads per rank (0 = cores on this node / ranks on this node)", "General", R(0, 1024)},
    {"log-every", T_INT, "20", O(log_every), CMD_RUN, 0, "progress line every N optimiser steps", "General", R(0, 1000000000)},
    {"quiet", T_BOOL, "false", O(quiet), CMD_ALL, 0, "print warnings and errors only", "General"},
    {"overwrite", T_BOOL, "false", O(overwrite), CMD_ALL, 0, "replace existing output files (never done otherwise)", "General"},
    {"debug-sync", T_BOOL, "false", O(debug_sync), CMD_RUN, 0, "compare a parameter checksum across ranks every step", "General"},
    {"device", T_CHOICE, "auto", O(device), CMD_RUN, "auto|cpu|cuda", "where the model runs (auto: a GPU per rank when present)", "General"},
    {"precision", T_CHOICE, "fp32", O(precision), CMD_RUN, "fp32|tf32|bf16|auto", "arithmetic of the dense products: GPU fp32/tf32; CPU fp32, or bf16 inputs with fp32 accumulation (oneDNN; auto = bf16 where every rank has AMX)", "General"},
    // data
    {"reference", T_STR, "", O(reference), CMD_FIT, 0, "labelled reference (.h5ad or 10x .h5), raw counts; several files: a,b,c", "Data"},
    {"query", T_STR, "", O(query), CMD_ANNOTATE | CMD_PREDICT, 0, "query to annotate (.h5ad or 10x .h5), raw counts; several files: a,b,c", "Data"},
    {"label-key", T_STR, "cell_type", O(label_key), CMD_FIT, 0, "obs column of the reference holding the cell types", "Data"},
    {"batch-key", T_STR, "", O(batch_key), CMD_EVALUATE | CMD_REPORT, 0, "obs column with batches (for the mixing score)", "Data"},
    {"layer", T_STR, "", O(layer), CMD_RUN | CMD_INSPECT | CMD_GENESCORE, 0, "matrix read: X, raw (raw/X, raw/var names) or a layer name; empty = auto in runs: X if counts, else a layer or raw with counts, else log1p X back to counts; sets --reference-layer and --query-layer", "Data"},
    {"reference-layer", T_STR, "", O(reference_layer), CMD_FIT, 0, "the reference's matrix, as --layer (empty: --layer)", "Data"},
    {"query-layer", T_STR, "", O(query_layer), CMD_ANNOTATE | CMD_PREDICT, 0, "the query's matrix, as --layer (empty: --layer)", "Data"},
    {"use-gene-ids", T_BOOL, "false", O(use_gene_ids), CMD_RUN | CMD_INSPECT, 0, "10x .h5: name genes by Ensembl ID instead of symbol", "Data"},
    {"gene-case-insensitive", T_BOOL, "false", O(gene_case_insensitive), CMD_RUN, 0, "match gene names ignoring case", "Data"},
    {"var-names-column", T_STR, "", O(var_names_column), CMD_RUN, 0, "var column with the gene names, e.g. feature_name, gene_symbols (empty: the var index, or a symbol column when the index holds Ensembl IDs)", "Data"},
    {"gene-map", T_STR, "", O(gene_map), CMD_RUN, 0, "two-column table (ID<TAB>symbol) translating gene names of reference and query", "Data"},
    {"min-gene-overlap", T_FLOAT, "0.5", O(min_gene_overlap), CMD_RUN, 0, "error when fewer model genes than this fraction are found in the query", "Data", R(0, 1)},
    {"modality", T_CHOICE, "rna", O(modality), CMD_RUN, "rna|atac|spatial", "what the counts are (atac: peaks, turned into gene scores with --genes)", "Data"},
    {"reference-modality", T_STR, "", O(reference_modality), CMD_FIT, 0, "modality of each reference file, e.g. rna,atac (empty: --modality for all)", "Data"},
    {"query-modality", T_STR, "", O(query_modality), CMD_ANNOTATE | CMD_PREDICT, 0, "modality of each query file, e.g. rna,atac (empty: --modality for all)", "Data"},
    {"genes", T_STR, "", O(genes), CMD_RUN | CMD_GENESCORE, 0, "gene coordinates (GTF or BED) for ATAC gene activity", "Data"},
    // preprocessing
    {"n-top-genes", T_INT, "3000", O(n_top_genes), CMD_FIT, 0, "highly variable genes chosen on the reference (Seurat flavour)", "Preprocessing", R(1, 1000000)},
    {"target-sum", T_FLOAT, "10000", O(target_sum), CMD_FIT, 0, "normalize_total target per cell", "Preprocessing", R(1, 1e+12)},
    {"scale-clip", T_FLOAT, "10", O(scale_clip), CMD_FIT, 0, "clip scaled values at this magnitude", "Preprocessing", R(0.01, 1e+06)},
    // knowledge
    {"gmt", T_STR, "gene_sets/reactome.gmt,gene_sets/c8.gmt", O(gmt), CMD_FIT, 0, "gene sets (GMT, .gz ok; comma-separated list); default: shipped Reactome pathways and MSigDB C8 cell-type signatures", "Knowledge"},
    {"n-pathways", T_INT, "300", O(n_pathways), CMD_FIT, 0, "pathway tokens chosen by over-representation", "Knowledge", R(1, 50000)},
    {"min-set-size", T_INT, "5", O(min_set_size), CMD_FIT, 0, "keep sets with at least this many model genes", "Knowledge", R(1, 1000000)},
    {"max-set-size", T_INT, "500", O(max_set_size), CMD_FIT, 0, "drop sets larger than this in the GMT", "Knowledge", R(1, 10000000)},
    {"pathway-choice", T_CHOICE, "markers", O(pathway_choice), CMD_FIT, "markers|enrichment", "markers: first the gene sets richest in each reference type's marker genes (round-robin over types), then by enrichment; enrichment: HVG enrichment only (the paper)", "Knowledge"},
    {"n-markers", T_INT, "50", O(n_markers), CMD_FIT, 0, "marker genes per reference type for --pathway-choice markers (one-vs-rest t on the model input)", "Knowledge", R(1, 100000)},
    {"unannotated", T_BOOL, "true", O(unannotated), CMD_FIT, 0, "add one token over model genes in no chosen set", "Knowledge"},
    // model
    // 4096: the LayerNorm kernels' limit (src/model/kern.h KERN_LN_MAX)
    {"width", T_INT, "128", O(width), CMD_FIT, 0, "token width h", "Model", R(1, 4096)},
    {"layers", T_INT, "4", O(layers), CMD_FIT, 0, "transformer layers", "Model", R(1, 256)},
    {"heads", T_INT, "8", O(heads), CMD_FIT, 0, "attention heads (must divide width)", "Model", R(1, 256)},
    {"dropout", T_FLOAT, "0.1", O(dropout), CMD_FIT, 0, "dropout probability in training", "Model", R(0, 0.95)},
    {"gene-dropout", T_FLOAT, "0", O(gene_dropout), CMD_FIT, 0, "training augmentation: each measured gene of a cell is read as unmeasured with this probability", "Model", R(0, 0.95)},
    // teacher
    {"epochs", T_INT, "6", O(epochs), CMD_FIT, 0, "teacher epochs over the reference", "Teacher", R(0, 1000000)},
    {"teacher-min-steps", T_INT, "800", O(teacher_min_steps), CMD_FIT, 0, "train the teacher for at least this many steps (more epochs on small references)", "Teacher", R(0, 1000000000)},
    {"class-weights", T_CHOICE, "sqrt", O(class_weights), CMD_FIT, "none|sqrt|balanced", "teacher loss weight of a type: 1, 1/sqrt(cells), 1/cells (mean weight over the cells 1)", "Teacher"},
    {"batch-size", T_INT, "16", O(batch_size), CMD_FIT, 0, "global batch (cells per step over all ranks)", "Teacher", R(1, 1048576)},
    {"lr", T_FLOAT, "0.001", O(lr), CMD_FIT, 0, "learning rate (teacher and student)", "Teacher", R(1e-08, 10)},
    {"optimizer", T_CHOICE, "adam", O(optimizer), CMD_FIT, "adam|adamw", "optimiser", "Teacher"},
    {"weight-decay", T_FLOAT, "0.01", O(weight_decay), CMD_FIT, 0, "AdamW decoupled weight decay (matrices only)", "Teacher", R(0, 1)},
    {"clip-grad", T_FLOAT, "0", O(clip_grad), CMD_FIT, 0, "clip the global gradient norm (0 = off)", "Teacher", R(0, 1e+06)},
    {"lr-schedule", T_CHOICE, "cosine", O(lr_schedule), CMD_FIT, "constant|cosine", "learning-rate schedule", "Teacher"},
    {"warmup-steps", T_INT, "50", O(warmup_steps), CMD_FIT, 0, "linear warm-up steps (cosine schedule)", "Teacher", R(0, 1000000000)},
    {"holdout", T_FLOAT, "0.1", O(holdout), CMD_FIT, 0, "stratified fraction of the reference never trained on, for accuracy", "Teacher", R(0, 0.5)},
    {"early-stop", T_INT, "0", O(early_stop), CMD_FIT, 0, "stop after N epochs without hold-out improvement (0 = off)", "Teacher", R(0, 1000000)},
    {"best-checkpoint", T_BOOL, "true", O(best_checkpoint), CMD_FIT, 0, "with --teacher-average 0: keep the teacher of the best hold-out epoch, not the last", "Teacher"},
    {"teacher-average", T_FLOAT, "0.5", O(teacher_average), CMD_FIT, 0, "keep the mean of the teacher's weights over this last fraction of its steps (weight averaging over the tail of the schedule; docs/results.md); 0 = off: the best hold-out epoch (--best-checkpoint) or the last", "Teacher", R(0, 1)},
    {"teacher", T_STR, "", O(teacher), CMD_ANNOTATE, 0, "skip the teacher's training: use the teacher of this model (kida train --model-out, or annotate --model-out) trained on the same reference with the same data and model options", "Teacher"},
    // student
    {"mode", T_CHOICE, "kida", O(mode), CMD_ANNOTATE, "kida|ki", "kida: teacher then student; ki: teacher only", "Student"},
    {"student-epochs", T_INT, "3", O(student_epochs), CMD_ANNOTATE, 0, "student epochs over the anchors", "Student", R(0, 1000000)},
    {"student-init", T_CHOICE, "teacher", O(student_init), CMD_ANNOTATE, "fresh|teacher", "student starts from new random weights (the paper) or from the teacher's", "Student"},
    {"student-min-steps", T_INT, "300", O(student_min_steps), CMD_ANNOTATE, 0, "train the student for at least this many steps (more epochs on small queries)", "Student", R(0, 1000000000)},
    {"student-average", T_FLOAT, "0", O(student_average), CMD_ANNOTATE, 0, "keep the mean of the student's weights over this last fraction of its steps (0 = off, the last step's weights)", "Student", R(0, 1)},
    {"student-lr", T_FLOAT, "0", O(student_lr), CMD_ANNOTATE, 0, "the student's learning rate (0: --lr); it starts from the teacher, so it fine-tunes", "Student", R(0, 10)},
    {"anchor-fraction", T_FLOAT, "0.4", O(anchor_fraction), CMD_ANNOTATE, 0, "per predicted type, this fraction of lowest-entropy cells become anchors", "Student", R(0.001, 1)},
    {"anchor-min", T_INT, "10", O(anchor_min), CMD_ANNOTATE, 0, "at least this many anchors per predicted type (all its cells when it has fewer)", "Student", R(0, 1000000000)},
    {"anchor-groups", T_CHOICE, "type", O(anchor_groups), CMD_ANNOTATE, "type|type-modality", "anchors per predicted type (the paper), or per type within each query modality", "Student"},
    {"final", T_CHOICE, "student", O(final_label), CMD_ANNOTATE | CMD_PREDICT, "student|blend", "the label and probabilities written: the student's, or the mean of the student's and the teacher's probabilities (--mode kida; predict: a model holding both)", "Student"},
    {"alpha", T_FLOAT, "0.8", O(alpha), CMD_ANNOTATE, 0, "weight of the distillation loss", "Student", R(0, 100)},
    {"beta", T_FLOAT, "0.2", O(beta), CMD_ANNOTATE, 0, "weight of the adaptive clustering loss", "Student", R(0, 100)},
    {"kd-temperature", T_FLOAT, "3", O(kd_temperature), CMD_ANNOTATE, 0, "distillation temperature", "Student", R(0.01, 100)},
    // outputs
    {"out", T_STR, "", O(out), CMD_ANNOTATE | CMD_PREDICT | CMD_GENESCORE | CMD_EXPLAIN | CMD_REPORT, 0, "output file (.h5ad) or folder (report)", "Output"},
    {"model-out", T_STR, "", O(model_out), CMD_FIT, 0, "save the model (weights, genes, pathways, classes, config) here", "Output"},
    {"model", T_STR, "", O(model), CMD_PREDICT | CMD_EXPLAIN, 0, "a model saved by kida train/annotate", "Output"},
    {"unknown-threshold", T_FLOAT, "0", O(unknown_threshold), CMD_RUN, 0, "label `unknown` below this max probability", "Output", R(0, 1)},
    {"oor-quantile", T_FLOAT, "0.99", O(oor_quantile), CMD_ANNOTATE, 0, "uns kida/oor_cutoff: this quantile of the reference hold-out's distances (kida_oor_score: Mahalanobis, X_kida); with --novel-distance a query cluster of median distance above it is out of reference", "Output", R(0.5, 0.999999)},
    {"predictions-out", T_STR, "", O(predictions_out), CMD_ANNOTATE | CMD_PREDICT, 0, "also write the labels as a table (.tsv): cell, label, confidence, label_raw, teacher_label, is_anchor, out_of_reference, one line per cell in query order", "Output"},
    {"majority-voting", T_BOOL, "false", O(majority_voting), CMD_ANNOTATE | CMD_PREDICT, 0, "CellTypist's majority voting: over-cluster the query (Leiden on the 15-NN graph of X_kida) and give each cluster its most frequent kida_label (obs kida_majority_voting, kida_over_clustering); resolution by cell count as CellTypist: 5 below 5,000 cells, up to 30 from 200,000", "Output"},
    {"over-clustering", T_STR, "", O(over_clustering), CMD_ANNOTATE | CMD_PREDICT, 0, "obs column of the query to vote over instead of Leiden clusters (implies --majority-voting)", "Output"},
    {"novel-cutoff", T_FLOAT, "0.8", O(novel_cutoff), CMD_ANNOTATE | CMD_PREDICT, 0, "novel types: over-cluster the query (Leiden on the 15-NN graph of X_kida) and mark every cell of a cluster whose median confidence is below this kida_out_of_reference; 0 = off", "Output", R(0, 1)},
    {"novel-distance", T_BOOL, "false", O(novel_distance), CMD_ANNOTATE, 0, "also call a cluster novel when its median kida_oor_score is above uns kida/oor_cutoff (--oor-quantile); finds types the model labels confidently but embeds far away, and flags whole known types on strongly shifted queries (docs/results.md)", "Output"},
    {"novel-holdout-quantile", T_FLOAT, "0.1", O(novel_holdout_quantile), CMD_ANNOTATE, 0, "the --novel-cutoff in use is at most this quantile of the reference hold-out's confidences (a cluster must be less sure than 90% of held-out reference cells); 0 = the cut-off as given", "Output", R(0, 1)},
    {"spatial-smooth", T_INT, "0", O(spatial_smooth), CMD_ANNOTATE | CMD_PREDICT, 0, "spatial query files (--modality spatial, coordinates in obsm spatial): a spot's probabilities become the mean over its N nearest spots of the same file, itself included (7: a Visium spot and its ring of six; configs/spatial.conf); labels follow. 0 or 1 = off. It can erase a rare layer the model is unsure of (docs/results.md)", "Output", R(0, 10000)},
    {"novel-profile-r", T_FLOAT, "0.25", O(novel_profile_r), CMD_ANNOTATE | CMD_PREDICT, 0, "also call a cluster novel when the correlation of its mean expression with its label's reference profile (both centred, over the reference's marker genes; obs kida_cluster_profile_r) is below this: a type the model labels confidently as another but whose cells do not look like it (docs/results.md); -1 = off; needs a model file that holds prep/type_profile", "Output", R(-1, 1)},
    {"novel-resolution", T_FLOAT, "1", O(novel_resolution), CMD_ANNOTATE | CMD_PREDICT, 0, "Leiden resolution of the novel-type clusters (coarse: a missing type should be one cluster)", "Output", R(0.01, 100)},
    {"oor-unknown", T_BOOL, "false", O(oor_unknown), CMD_ANNOTATE, 0, "label out-of-reference cells (kida_out_of_reference: in a novel-type cluster) `unknown` in kida_label, and take no anchors from the teacher's novel-type clusters", "Output"},
    {"attn-all-layers", T_BOOL, "false", O(attn_all_layers), CMD_RUN, 0, "also store cls attention of every layer", "Output"},
    // checkpoints
    {"checkpoint-dir", T_STR, "", O(checkpoint_dir), CMD_FIT, 0, "folder for checkpoints (default: <out>.ckpt)", "Checkpoints"},
    {"checkpoint-every", T_INT, "200", O(checkpoint_every), CMD_FIT, 0, "checkpoint every N steps (and at every phase end)", "Checkpoints", R(0, 1000000000)},
    {"resume", T_BOOL, "false", O(resume), CMD_FIT, 0, "continue from the latest complete checkpoint", "Checkpoints"},
    // evaluate
    {"pred", T_STR, "", O(pred), CMD_EVALUATE | CMD_EXPLAIN, 0, "annotated .h5ad written by kida annotate/predict", "Evaluate"},
    {"truth-key", T_STR, "cell_type", O(truth_key), CMD_EVALUATE | CMD_REPORT, 0, "obs column with the true labels", "Evaluate"},
    {"metrics-out", T_STR, "", O(metrics_out), CMD_EVALUATE, 0, "write metrics as <prefix>.json and <prefix>.tsv", "Evaluate"},
    {"modality-key", T_STR, "kida_modality", O(modality_key), CMD_EVALUATE, 0, "obs column with each cell's modality (--embedding: mixing within types)", "Evaluate"},
    {"group-key", T_STR, "kida_label", O(group_key), CMD_EXPLAIN, 0, "obs column whose groups are explained (e.g. the true cell types)", "Evaluate"},
    {"embedding", T_BOOL, "false", O(embedding), CMD_EVALUATE, 0, "also cluster X_kida (Leiden) and report NMI/ARI and batch mixing", "Evaluate"},
    // genescore
    {"peaks", T_STR, "", O(peaks), CMD_GENESCORE, 0, "peak x cell counts (.h5ad) or a BED of peak coordinates", "Gene activity"},
    {"window", T_INT, "2000", O(window), CMD_GENESCORE | CMD_RUN, 0, "bases upstream of the TSS added to the gene body", "Gene activity", R(0, 10000000)},
    {"gene-types", T_STR, "protein_coding", O(gene_types), CMD_GENESCORE | CMD_RUN, 0, "comma-separated gene types to keep (empty = all)", "Gene activity"},
};
#pragma GCC diagnostic pop
#undef O
static const size_t N_OPTS = sizeof OPTS / sizeof OPTS[0];

typedef struct {
    const char *name;
    Command cmd;
    const char *usage;
    const char *about;
    const char *required;   // options a run cannot do without, comma-separated ("FILE": the argument)
} CmdSpec;

static const CmdSpec CMDS[] = {
    {"annotate", CMD_ANNOTATE, "kida annotate --reference REF.h5ad --query Q.h5ad --out OUT.h5ad [options]",
     "The whole KIDA method: preprocess, choose pathways, train the teacher\n"
     "on the reference, pick anchors in the query, distil a student,\n"
     "annotate every query cell.", "reference,query,out"},
    {"train", CMD_TRAIN, "kida train --reference REF.h5ad --model-out MODEL.h5 [options]",
     "Train a teacher on a labelled reference and save it (predict with it later).", "reference,model-out"},
    {"predict", CMD_PREDICT, "kida predict --model MODEL.h5 --query Q.h5ad --out OUT.h5ad [options]",
     "Annotate new data with a saved model.", "model,query,out"},
    {"explain", CMD_EXPLAIN, "kida explain --model MODEL.h5 --pred OUT.h5ad [--out EXPLAIN_PREFIX]",
     "Top pathways and key genes per cell type.", "model,pred"},
    {"evaluate", CMD_EVALUATE, "kida evaluate --pred OUT.h5ad [--truth-key cell_type] [--metrics-out PREFIX]",
     "Accuracy, macro-F1, per-class F1, confusion matrix (and NMI/ARI with --embedding).", "pred|FILE"},
    {"genescore", CMD_GENESCORE, "kida genescore --peaks ATAC.h5ad --genes GENES.gtf --out GENES.h5ad",
     "ATAC peaks -> gene activity scores (peaks overlapping gene body + upstream window).", "out"},
    {"inspect", CMD_INSPECT, "kida inspect FILE.h5ad",
     "Shape, X encoding, obs columns and categories, var names: the first look at a file.", "FILE"},
    {"report", CMD_REPORT, "kida report OUT.h5ad --out FOLDER", "Figures and an HTML page for an annotated file.",
     "FILE,out"},
};
static const size_t N_CMDS = sizeof CMDS / sizeof CMDS[0];

static const OptSpec *find_opt(const char *name) {
    for (size_t i = 0; i < N_OPTS; i++)
        if (strcmp(OPTS[i].name, name) == 0) return &OPTS[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (lb >= 63) return 99;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static _Noreturn void unknown_key(const char *key, const char *origin) {
    const char *best = NULL;
    size_t bd = 4;
    for (size_t i = 0; i < N_OPTS; i++) {
        size_t dd = edit_distance(key, OPTS[i].name);
        if (dd < bd) { bd = dd; best = OPTS[i].name; }
    }
    char hint[256];
    if (best) snprintf(hint, sizeof hint, "did you mean `%s`? `kida <command> --help` lists the options", best);
    else snprintf(hint, sizeof hint, "`kida <command> --help` lists the options");
    FATAL(hint, "%s: unknown option `%s`", origin, key);
}

static void free_str_field(Config *c, const OptSpec *o) {
    char **p = (char **)((char *)c + o->off);
    free(*p);
    *p = NULL;
}

static int has_range(const OptSpec *o) { return o->hi > o->lo; }

// "[lo, hi]" of a ranged option, in buf.
static const char *range_text(const OptSpec *o, char *buf, size_t n) {
    snprintf(buf, n, o->type == T_INT ? "[%.0f, %.0f]" : "[%g, %g]", o->lo, o->hi);
    return buf;
}

// FATAL when a number is outside the option's range (options without a range take any value).
static void check_range(const OptSpec *o, double v, const char *text, const char *origin) {
    if (!has_range(o) || (v >= o->lo && v <= o->hi)) return;
    char r[96], hint[256];
    range_text(o, r, sizeof r);
    snprintf(hint, sizeof hint, "give --%s a value in %s (`kida <command> --help` lists every option's range)", o->name, r);
    FATAL(hint, "%s: bad value for `%s` (got %s, want %s in %s)", origin, o->name, text,
          o->type == T_INT ? "an integer" : "a number", r);
}

int config_range(const char *option, double *lo, double *hi) {
    const OptSpec *o = find_opt(option);
    if (!o || !has_range(o)) return 0;
    *lo = o->lo;
    *hi = o->hi;
    return 1;
}

// 1 for true, yes, 1, on; 0 for false, no, 0, off; -1 for any other word.
static int truth_value(const char *w) {
    static const char *const YES[] = {"true", "yes", "1", "on"}, *const NO[] = {"false", "no", "0", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(w, YES[i])) return 1;
        if (!strcmp(w, NO[i])) return 0;
    }
    return -1;
}

// Sets one option from text; `origin` names where the text came from, for the error.
static void set_opt(Config *c, const OptSpec *o, const char *val, const char *origin) {
    char *base = (char *)c + o->off;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case T_STR:
        free_str_field(c, o);
        *(char **)base = xstrdup(val);
        break;
    case T_CHOICE: {
        size_t n = strlen(val);
        const char *p = o->choices;
        int ok = 0;
        while (*p) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == n && strncmp(p, val, n) == 0) ok = 1;
            p += len + (bar != NULL);
        }
        if (!ok) {
            char hint[256];
            snprintf(hint, sizeof hint, "use one of: %s", o->choices);
            FATAL(hint, "%s: bad value for `%s` (got `%s`, want one of %s)", origin, o->name, val, o->choices);
        }
        free_str_field(c, o);
        *(char **)base = xstrdup(val);
        break;
    }
    case T_INT: {
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            FATAL("give a whole number", "%s: bad value for `%s` (got `%s`, want an integer)", origin, o->name, val);
        if (v < 0 && !has_range(o)) FATAL("give a number >= 0", "%s: bad value for `%s` (got %ld, want >= 0)", origin, o->name, v);
        check_range(o, (double)v, val, origin);
        *(long *)base = v;
        break;
    }
    case T_FLOAT: {
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v))
            FATAL("give a number such as 0.5 or 1e-3", "%s: bad value for `%s` (got `%s`, want a number)", origin, o->name, val);
        check_range(o, v, val, origin);
        *(double *)base = v;
        break;
    }
    case T_BOOL: {
        int t = truth_value(val);
        if (t < 0) FATAL("use true or false", "%s: bad value for `%s` (got `%s`, want true|false)", origin, o->name, val);
        *(int *)base = t;
        break;
    }
    }
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

// Config-file keys may use underscores; option names use dashes.
static void dashify(char *k) {
    for (; *k; k++)
        if (*k == '_') *k = '-';
}

// Loads key = value lines. config_file: the file they come from (--config: keys checked against the
// command, relative paths taken from its folder), or NULL for text stored in a model file.
static void load_text(Config *c, const char *text, const char *origin, const char *const *only, const char *config_file) {
    char *buf = xstrdup(text), *save = NULL;
    size_t lineno = 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *l = trim(line);
        if (!*l) continue;
        char where[512];
        snprintf(where, sizeof where, "%s:%zu", origin, lineno);
        char *eq = strchr(l, '=');
        if (!eq) FATAL("write one `key = value` per line", "%s: cannot parse `%s` (want key = value)", where, l);
        *eq = 0;
        char *key = trim(l), *val = trim(eq + 1);
        dashify(key);
        if (only) {
            int keep = 0;
            for (const char *const *k = only; *k; k++) keep |= !strcmp(*k, key);
            if (!keep) continue;
        }
        const OptSpec *o = find_opt(key);
        if (!o) unknown_key(key, where);
        if (!strcmp(key, "config")) FATAL("config files cannot include other config files", "%s: `config` key not allowed here", where);
        if (config_file && !(o->cmds & c->cmd)) {
            log_warn("%s: `%s` does not apply to `kida %s`; ignored", where, key, c->cmd_name);
            continue;
        }
        // values may be quoted
        size_t n = strlen(val);
        if (n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0]) { val[n - 1] = 0; val++; }
        if (config_file) {
            char *v = confpath_resolve(key, val, config_file);
            set_opt(c, o, v, where);
            free(v);
        } else set_opt(c, o, val, where);
    }
    free(buf);
}

void config_load_text(Config *c, const char *text, const char *origin, const char *const *only) {
    load_text(c, text, origin, only, NULL);
}

static char *read_file_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) FATAL("check the path given to --config", "cannot open config file %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *s = xmalloc(cap);
    size_t got;
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) s = xrealloc(s, cap *= 2);
    }
    if (ferror(f)) FATAL("check the file", "cannot read config file %s: %s", path, strerror(errno));
    fclose(f);
    s[n] = 0;
    return s;
}

static void print_value(FILE *out, const Config *c, const OptSpec *o) {
    const char *base = (const char *)c + o->off;
    switch (o->type) {
    case T_STR:
    case T_CHOICE: fprintf(out, "%s", *(char *const *)base ? *(char *const *)base : ""); break;
    case T_INT: fprintf(out, "%ld", *(const long *)base); break;
    case T_FLOAT: fprintf(out, "%.9g", *(const double *)base); break;
    case T_BOOL: fprintf(out, "%s", *(const int *)base ? "true" : "false"); break;
    }
}

static void print_help(const CmdSpec *cs) {
    printf("usage: %s\n\n%s\n", cs->usage, cs->about);
    const char *group = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        const OptSpec *o = &OPTS[i];
        if (!(o->cmds & cs->cmd)) continue;
        if (!group || strcmp(group, o->group)) {
            group = o->group;
            printf("\n%s:\n", group);
        }
        char left[64];
        const char *arg = o->type == T_BOOL ? "" : o->type == T_CHOICE ? " CHOICE" : o->type == T_STR ? " TEXT" : " N";
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        printf("  %-28s %s", left, o->help);
        if (o->type == T_CHOICE) printf(" [%s]", o->choices);
        char r[96];
        if (has_range(o)) printf(" (range %s%s%s)", range_text(o, r, sizeof r), o->def[0] ? ", default: " : "", o->def);
        else if (o->def[0]) printf(" (default: %s)", o->def);
        printf("\n");
    }
    printf("\nEvery option can also be set in a config file (`key = value`, see configs/) with --config;\n"
           "the command line wins over the file, the file over the defaults. Relative paths of input\n"
           "files in a config file are taken from the config file's folder, outputs from the working\n"
           "folder. --print-config prints the resolved options as such a file. Run many ranks with\n"
           "`mpirun -np N kida ...` or `srun kida ...` (as root: OMPI_ALLOW_RUN_AS_ROOT=1\n"
           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 for Open MPI's mpirun).\n");
}

static void print_usage(void) {
    printf("kida %s — cell-type annotation across batches with knowledge-based inductive bias and\n"
           "domain adaptation (KIDA).\n\nusage: kida COMMAND [options]    (kida COMMAND --help for its options)\n\ncommands:\n",
           PACKAGE_VERSION);
    for (size_t i = 0; i < N_CMDS; i++) {   // the whole description, its later lines indented
        printf("  %-10s ", CMDS[i].name);
        for (const char *p = CMDS[i].about; *p; p++) {
            putchar(*p);
            if (*p == '\n') printf("%13s", "");
        }
        putchar('\n');
    }
    printf("\nQuick start, in the kida sources:\n"
           "  kida annotate --reference data/pbmc_v2_ref.h5ad --query data/pbmc_v3_query.h5ad --out pbmc.h5ad\n"
           "or, in any folder, with the installed demo (after `make install`; outputs in results/):\n"
           "  mkdir -p results && kida annotate --config %s/configs/demo.conf\n",
           KIDA_PKGDATADIR);
}

static void print_version(void) {
    if (log_rank() == 0) {
        printf("kida %s\nCPU: %s; kernels: %s (best here: %s; KIDA_CPU_PATH=portable|avx2|avx512 picks a lower one)\n",
               PACKAGE_VERSION, cpu_model_name(), cpu_path_name(cpu_path()), cpu_path_name(cpu_path_best()));
#ifdef HAVE_DNNL
        int built = 1;
#else
        int built = 0;
#endif
        int hw = cpu_bf16();
        printf("bf16 products (--precision bf16): %s (oneDNN in this build: %s; this CPU: %s)\n",
               built && hw ? "available" : "not available", built ? "yes" : "no",
               hw == 2 ? "AMX-BF16" : hw == 1 ? "AVX512-BF16" : "neither AMX-BF16 nor AVX512-BF16");
    }
}

// Whether the required entry `name` ("FILE" = the argument) has a value.
static int required_given(const Config *c, const char *name, size_t len) {
    if (len == 4 && !strncmp(name, "FILE", 4)) return c->input && *c->input;
    char key[64];
    if (len >= sizeof key) return 0;
    memcpy(key, name, len);
    key[len] = 0;
    const OptSpec *o = find_opt(key);
    if (!o) FATAL("a bug in kida: please report it", "required option `%s` is not in the option table", key);
    const char *v = *(char *const *)((const char *)c + o->off);
    return v && *v;
}

// FATAL naming every required option the run lacks, in one message, before any work or output.
// An entry "a|b" is satisfied by either.
static void check_required(const CmdSpec *cs, const Config *c) {
    char missing[512] = "";
    size_t n_missing = 0;
    for (const char *p = cs->required; *p;) {
        size_t len = strcspn(p, ","), alt = strcspn(p, "|");
        int given = alt < len ? required_given(c, p, alt) || required_given(c, p + alt + 1, len - alt - 1)
                              : required_given(c, p, len);
        if (!given) {
            size_t shown = alt < len ? alt : len, at = strlen(missing);
            int file = shown == 4 && !strncmp(p, "FILE", 4);
            if (file) snprintf(missing + at, sizeof missing - at, "%sa file argument", n_missing++ ? ", " : "");
            else snprintf(missing + at, sizeof missing - at, "%s--%.*s", n_missing++ ? ", " : "", (int)shown, p);
        }
        p += len + (p[len] == ',');
    }
    if (!n_missing) return;
    char hint[320];
    snprintf(hint, sizeof hint, "usage: %s (kida %s --help lists every option)", cs->usage, cs->name);
    FATAL(hint, "kida %s needs %s", cs->name, missing);
}

int config_parse(Config *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (log_rank() == 0) print_usage();
        return 1;
    }
    if (!strcmp(argv[1], "--version")) {
        print_version();
        return 1;
    }
    const CmdSpec *cs = NULL;
    for (size_t i = 0; i < N_CMDS; i++)
        if (!strcmp(argv[1], CMDS[i].name)) cs = &CMDS[i];
    if (!cs) FATAL("run `kida --help` for the list of commands", "unknown command `%s`", argv[1]);
    c->cmd = cs->cmd;
    c->cmd_name = cs->name;
    for (size_t i = 0; i < N_OPTS; i++) set_opt(c, &OPTS[i], OPTS[i].def, "default");

    // pass 1: help, print-config, config file
    int print_config = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (log_rank() == 0) print_help(cs);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            print_version();
            return 1;
        }
        if (!strcmp(argv[i], "--print-config")) print_config = 1;
        const char *cfg = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc) cfg = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9)) cfg = argv[i] + 9;
        if (cfg) {
            char *text = read_file_text(cfg);
            load_text(c, text, cfg, NULL, cfg);
            free(text);
            set_opt(c, find_opt("config"), cfg, "command line");
        }
    }
    // pass 2: the command line
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--print-config")) continue;
        if (strncmp(a, "--", 2) != 0) {
            if (c->cmd & (CMD_RUN | CMD_EXPLAIN))   // these name every file with an option
                FATAL("name files with their option (e.g. --query FILE); switches take --X, --no-X or --X=false",
                      "command line: unexpected argument `%s` (kida %s takes no positional argument)", a, c->cmd_name);
            if (c->input) FATAL("give one input file; options start with --", "unexpected argument `%s`", a);
            c->input = xstrdup(a);
            continue;
        }
        char key[128];
        const char *val = NULL;
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (klen >= sizeof key) unknown_key(a + 2, "command line");
        memcpy(key, a + 2, klen);
        key[klen] = 0;
        if (eq) val = eq + 1;
        int negate = 0;
        const OptSpec *o = find_opt(key);
        if (!o && !strncmp(key, "no-", 3) && (o = find_opt(key + 3)) && o->type == T_BOOL) negate = 1;
        else if (!o || (!strncmp(key, "no-", 3) && o->type != T_BOOL)) o = find_opt(key);
        if (!o) unknown_key(key, "command line");
        if (!(o->cmds & c->cmd)) {
            char hint[160];
            snprintf(hint, sizeof hint, "`kida %s --help` lists the options it takes", c->cmd_name);
            FATAL(hint, "command line: option --%s does not apply to `kida %s`", o->name, c->cmd_name);
        }
        // a switch followed by a truth word takes it (`--majority-voting false`), so that the word is
        // not mistaken for a positional argument and the switch for on
        if (o->type == T_BOOL && !val && !negate && i + 1 < argc && truth_value(argv[i + 1]) >= 0) val = argv[++i];
        if (o->type == T_BOOL && !val) val = negate ? "false" : "true";
        else if (negate) FATAL("use --no-X only for switches", "command line: --no-%s takes no value", o->name);
        if (!val) {
            if (i + 1 >= argc) FATAL("give the option a value", "command line: --%s needs a value", o->name);
            val = argv[++i];
        }
        if (!strcmp(o->name, "config")) continue;  // handled in pass 1
        set_opt(c, o, val, "command line");
    }
    if (print_config) {
        if (log_rank() == 0) {
            char *t = config_to_text(c);
            fputs(t, stdout);
            free(t);
        }
        return 1;
    }
    check_required(cs, c);
    return 0;
}

char *config_to_text(const Config *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) FATAL("", "open_memstream failed: %s", strerror(errno));
    fprintf(f, "# kida %s %s — resolved options\n", PACKAGE_VERSION, c->cmd_name ? c->cmd_name : "");
    for (size_t i = 0; i < N_OPTS; i++) {
        const OptSpec *o = &OPTS[i];
        if (!(o->cmds & c->cmd) || !strcmp(o->name, "config")) continue;
        fprintf(f, "%s = ", o->name);
        print_value(f, c, o);
        fputc('\n', f);
    }
    fclose(f);
    return buf;
}

void config_print_table(const Config *c, FILE *out) {
    const char *group = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        const OptSpec *o = &OPTS[i];
        if (!(o->cmds & c->cmd)) continue;
        if (!group || strcmp(group, o->group)) {
            group = o->group;
            fprintf(out, "  %s\n", group);
        }
        fprintf(out, "    %-24s ", o->name);
        print_value(out, c, o);
        fputc('\n', out);
    }
}

void config_free(Config *c) {
    for (size_t i = 0; i < N_OPTS; i++)
        if (OPTS[i].type == T_STR || OPTS[i].type == T_CHOICE) free_str_field(c, &OPTS[i]);
    free(c->input);
    memset(c, 0, sizeof *c);
}

char *config_data_path(const char *relative) {
    const char *roots[3] = {getenv("KIDA_DATADIR"), KIDA_SRCDIR "/data", KIDA_PKGDATADIR};
    for (int i = 0; i < 3; i++) {
        if (!roots[i] || !*roots[i]) continue;
        size_t n = strlen(roots[i]) + strlen(relative) + 2;
        char *p = xmalloc(n);
        snprintf(p, n, "%s/%s", roots[i], relative);
        FILE *f = fopen(p, "rb");
        if (f) {
            fclose(f);
            return p;
        }
        free(p);
    }
    return NULL;
}
