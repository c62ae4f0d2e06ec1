// gradsum: exact sums of per-cell gradient contributions, so that a batch's gradient does not
// depend on how its cells are split over ranks, threads or GEMM calls.
//
// A parameter gradient is the sum over the batch's cells of each cell's contribution. Summed in
// float, the result depends on the order and grouping of the additions; here every contribution
// is rounded once to an integer multiple of a grid step 2^-e, and the integers are added. Integer
// addition is exact and associative, so the sum over any split of the cells (cells over threads,
// ranks over an integer all-reduce) is the same bit for bit, and so is the float gradient made
// from it.
//
// The grid belongs to a block (a slice of the parameter buffer that one layer writes: one layer's
// weight matrix, one bias). e is chosen per block and per step from the largest |contribution|
// over every process's cells, agreed through one collective max for all blocks (max is
// associative too; the model keeps every block's per-cell contributions until then): a
// contribution then rounds to |q| <= 2^qbits with qbits = min(50, 60 - ceil(log2 n_cells)), so
// the sum over the n_cells of the global batch stays below 2^61 and cannot overflow. The rounding
// error of one contribution is at most 2^-(qbits+1) of the block's largest (about 4e-16).
#ifndef KIDA_GRADSUM_H
#define KIDA_GRADSUM_H
#include <stddef.h>
#include <stdint.h>

// In place: every v[i] becomes its maximum over all processes that share the batch (collective;
// every process calls it the same number of times with the same n).
typedef void (*GradMaxFn)(void *ctx, double *v, size_t n);

typedef struct {
    size_t off, len;  // the block's slice of the parameter buffer
    int e;            // grid step 2^-e
} GradBlock;

typedef struct {
    size_t n;            // parameters
    int64_t *acc;        // (n) fixed-point sums of the current batch
    GradBlock *blocks;   // blocks opened in the current batch, in order
    size_t n_blocks, cap;
    int qbits;           // |q| bound per contribution, from the batch size
    int nonfinite;       // a block's largest |contribution| was NaN or infinite on some process
    GradMaxFn max;       // NULL: this process holds the whole batch
    void *ctx;
} GradSum;

// n parameters; acc is allocated here.
void gradsum_init(GradSum *s, size_t n);
void gradsum_free(GradSum *s);
// Starts a batch of n_cells cells over all processes: zeroes acc, forgets the blocks.
void gradsum_begin(GradSum *s, size_t n_cells, GradMaxFn max, void *ctx);
// Opens k blocks whose local largest |contribution| is lmax[i] (0 when this process has none):
// one collective max over all k, then the grid of each block; scale[i] = 2^e (a contribution v
// is added as round(v · scale[i])). A maximum that is not finite (the training diverged) sets
// s->nonfinite on every process: the block's scale is 0 (nothing is added) and gradsum_to_float
// writes NaN gradients, so the caller's non-finite check stops the step.
void gradsum_open(GradSum *s, size_t k, const size_t *off, const size_t *len, const double *lmax, double *scale);

// Per-cell contributions of one block: v[b·stride + i] for cells b < B, elements i < len.
typedef struct {
    size_t off, len;   // block in the parameter buffer
    const float *v;
    size_t stride;
} GradPart;
// lmax[p] = largest |contribution| of part p over the B cells.
void gradsum_parts_max(const GradPart *parts, size_t k, size_t B, double *lmax);
// Adds every cell's contribution of each part, on the grid scale[p] returned by gradsum_open.
void gradsum_parts_add(GradSum *s, const GradPart *parts, size_t k, size_t B, const double *scale);

// acc[i] += round(v[i] · scale), i < n: the grid value of a float contribution.
void gradsum_add(int64_t *acc, const float *v, size_t n, double scale);
// acc[i] += round(a · v[i] · scale) with the product taken exactly (in double).
void gradsum_add_scaled(int64_t *acc, const float *v, float a, size_t n, double scale);
// Largest |v[i]| (0 for n = 0).
float gradsum_max_abs(const float *v, size_t n);

// grads[i] += the sum held in acc, over every opened block (call after acc has been summed over
// the processes, e.g. with an integer all-reduce).
void gradsum_to_float(const GradSum *s, float *grads);
// The float value of one element of acc in block b.
float gradsum_value(const GradSum *s, const GradBlock *b, size_t i);
// The block that starts at parameter offset off (NULL if none was opened).
const GradBlock *gradsum_block(const GradSum *s, size_t off);
#endif
