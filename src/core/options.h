// options: every option of every subcommand, resolved once (defaults < config file < command line)
// from the one table in options.c, which also drives --help and --print-config.
#ifndef KIDA_OPTIONS_H
#define KIDA_OPTIONS_H
#include <stddef.h>
#include <stdio.h>

typedef enum {
    CMD_ANNOTATE = 1 << 0,
    CMD_TRAIN = 1 << 1,
    CMD_PREDICT = 1 << 2,
    CMD_EXPLAIN = 1 << 3,
    CMD_EVALUATE = 1 << 4,
    CMD_GENESCORE = 1 << 5,
    CMD_INSPECT = 1 << 6,
    CMD_REPORT = 1 << 7,
} Command;
#define CMD_ALL 0xffu
#define CMD_FIT (CMD_ANNOTATE | CMD_TRAIN)
#define CMD_RUN (CMD_ANNOTATE | CMD_TRAIN | CMD_PREDICT)

typedef struct {
    Command cmd;
    const char *cmd_name;
    // general
    char *config;
    long seed, threads, log_every;
    int quiet, overwrite, debug_sync;
    char *device, *precision;
    // data
    char *reference, *query, *reference_modality, *query_modality, *label_key, *batch_key, *layer, *reference_layer, *query_layer, *var_names_column, *gene_map, *modality, *genes;
    int use_gene_ids, gene_case_insensitive;
    double min_gene_overlap, target_sum, scale_clip;
    long n_top_genes;
    // knowledge
    char *gmt, *pathway_choice;
    long n_pathways, min_set_size, max_set_size, n_markers;
    int unannotated;
    // model
    long width, layers, heads;
    double dropout, gene_dropout;
    // teacher
    long epochs, batch_size, warmup_steps, early_stop, teacher_min_steps;
    double lr, weight_decay, clip_grad, holdout;
    char *optimizer, *lr_schedule, *class_weights;
    int best_checkpoint;
    // student
    char *mode, *student_init, *anchor_groups, *final_label;
    long student_epochs, student_min_steps, anchor_min, spatial_smooth;
    double anchor_fraction, alpha, beta, kd_temperature, student_lr, teacher_average, student_average;
    // predict / outputs
    double unknown_threshold, oor_quantile;
    double novel_cutoff, novel_resolution, novel_holdout_quantile, novel_profile_r;
    int novel_distance;
    int oor_unknown;
    int attn_all_layers;
    char *model, *out, *model_out;
    char *teacher;  // annotate --teacher: a saved model whose teacher is used as is
    char *predictions_out, *over_clustering;
    int majority_voting;
    // checkpoints
    char *checkpoint_dir;
    long checkpoint_every;
    int resume;
    // evaluate
    char *pred, *truth_key, *metrics_out, *modality_key, *group_key;
    int embedding;
    // genescore
    char *peaks, *gene_types;
    long window;
    // positional argument (inspect FILE, report FILE)
    char *input;
} Config;

// Parses argv (argv[0] = "kida", argv[1] = subcommand). Returns 0 to run, 1 when --help or
// --print-config was answered (the caller exits 0). Bad input is FATAL with the key and the
// allowed values.
int config_parse(Config *c, int argc, char **argv);
// The resolved options as "key = value" lines (a valid config file); caller frees.
char *config_to_text(const Config *c);
// Loads "key = value" text (as stored in a model file) on top of c, for the keys in `only`
// (a NULL-terminated list) or all keys when only is NULL. Unknown keys are FATAL naming `origin`.
void config_load_text(Config *c, const char *text, const char *origin, const char *const *only);
// The range [lo, hi] of a numeric option (as --help states it); 0 when it has none. Files that
// carry option values (model files) are checked against it.
int config_range(const char *option, double *lo, double *hi);
// Prints the start-up table of the options that apply to the subcommand.
void config_print_table(const Config *c, FILE *out);
void config_free(Config *c);
// Path of a shipped data file (gene sets, example data): $KIDA_DATADIR, the source tree's data/,
// then the installed pkgdatadir. Returns a new string, or NULL when none exists.
char *config_data_path(const char *relative);
#endif
