// xvalues: what the values of an expression matrix are (integer counts, log1p-normalised,
// normalised but not logged, scaled, or fractional counts), told from a sample of its cells
// before any work, and the way back from a normalised matrix to counts. kida's preprocessing
// starts from counts; scanpy and CellTypist users often keep log1p(normalize_total(counts)) in X.
#ifndef KIDA_XVALUES_H
#define KIDA_XVALUES_H
#include <stddef.h>

#include "core/csr.h"
#include "io/h5ad.h"

typedef enum {
    XV_COUNTS,       // whole numbers >= 0 (or no stored values)
    XV_FRACTIONAL,   // >= 0, not whole, no normalisation found (EM or ambient-corrected counts)
    XV_NORMALISED,   // >= 0, per-cell totals equal or values whole multiples of a per-cell unit
    XV_LOG1P,        // log1p of normalised counts: the same after expm1
    XV_SCALED,       // negative values: centred or scaled, counts cannot be recovered
} XValuesKind;

typedef struct {
    XValuesKind kind;
    size_t cells, values;   // sampled cells (with a stored value) and stored values
    int uns_log1p;          // the file has uns/log1p (scanpy's mark of sc.pp.log1p)
    double log_base;        // LOG1P: base of the logarithm (e, or uns/log1p/base)
    double total;           // NORMALISED/LOG1P: median per-cell total of the un-logged values
    int totals_equal;       // every sampled cell's total within 1% of the median
    double unit_share;      // share of sampled cells (>= 5 values) whose un-logged values are
                            // whole multiples of their smallest: counts come back exactly
    double max;             // largest sampled value
    size_t neg_row;         // SCALED: first negative value (global row, column, value)
    long long neg_col;
    double neg_val;
} XValues;

// Samples up to XVALUES_SAMPLE cells of h (evenly spread blocks; one block for CSC, whose every
// read scans the whole matrix) and says what they hold. Not collective (independent reads);
// every rank that calls it on the same file gets the same answer.
XValues xvalues_detect(H5ad *h);
#define XVALUES_SAMPLE 2048
// "integer counts", "log1p-normalised", ... (no trailing detail).
const char *xvalues_name(XValuesKind k);
// One phrase with what the decision rests on, e.g. "log1p-normalised (uns['log1p']; per-cell
// totals 10000 after expm1)", in buf.
const char *xvalues_describe(const XValues *v, char *buf, size_t n);
// Usable as kida's input: anything but XV_SCALED.
int xvalues_usable(const XValues *v);
// Rows of a matrix holding v's kind, in place, as counts for normalize_total: LOG1P rows get
// base^x - 1; LOG1P and NORMALISED rows whose values are whole multiples of their smallest
// become those whole numbers (the counts, the per-cell size factor divided out); other rows keep
// their scale (normalize_total makes it irrelevant). COUNTS and FRACTIONAL are left as they are.
// Returns the number of rows turned into whole counts.
size_t xvalues_to_counts(const XValues *v, Csr *rows);
#endif
