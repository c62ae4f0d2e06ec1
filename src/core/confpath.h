// confpath: a relative path in a config file names a file beside the config file, not one in
// the folder kida runs in, so a config (and the data it names) works from any folder.
#ifndef KIDA_CONFPATH_H
#define KIDA_CONFPATH_H

// The value to set for option `key`, read from config file `config_file`, as a new string. For
// the options that read files (reference, query, gmt, genes, gene-map, model, pred, peaks) each
// comma-separated relative entry becomes an absolute path in the config file's folder. A gmt or
// genes entry with no such file stays as written, for the shipped-data lookup (gene_sets/c8.gmt,
// hg38). Outputs (out, model-out, metrics-out, checkpoint-dir) and other options: unchanged.
char *confpath_resolve(const char *key, const char *value, const char *config_file);
#endif
