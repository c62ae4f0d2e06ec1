// test_gradsum: a gradient that is not finite stays not finite through the exact sums
// (src/model/gradsum.c), so that the trainer's non-finite check sees it and stops the run with a
// checkpoint. A max passes over a NaN (NaN > m is false): gradsum_max_abs and gradsum_parts_max
// report a non-finite block as such, the agreed maximum stays non-finite in either order of the
// collective max (MPI_MAX takes a > b ? a : b), nothing is added on such a block, and the whole
// gradient comes out NaN. The next batch starts clean and sums exactly again. Exit 0 pass, 1 fail.
#include <math.h>
#include <stdio.h>

#include "model/gradsum.h"

static int fails = 0;
#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond)) {                    \
            printf("FAIL: " __VA_ARGS__); \
            printf("\n");                 \
            fails++;                      \
        }                                 \
    } while (0)

// Another rank's block maxima combined the way MPI_MAX may: (a > b ? a : b), in the order
// `order` picks.
static const double other_rank[2] = {0.5, 0.25};
static int order = 0;
static void max_like_mpi(void *ctx, double *v, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        double a = order ? other_rank[i] : v[i], b = order ? v[i] : other_rank[i];
        v[i] = a > b ? a : b;
    }
}

// A batch of two blocks of 3 parameters over two cells (cell b's contributions at b * 6) summed
// with s: the gradient in g.
static void sum_batch(GradSum *s, const float cells[12], float g[6], double scale[2], int *nonfinite) {
    gradsum_begin(s, 2, max_like_mpi, NULL);
    GradPart parts[2] = {{0, 3, cells, 6}, {3, 3, cells + 3, 6}};
    size_t off[2] = {0, 3}, len[2] = {3, 3};
    double lmax[2];
    gradsum_parts_max(parts, 2, 2, lmax);
    gradsum_open(s, 2, off, len, lmax, scale);
    gradsum_parts_add(s, parts, 2, 2, scale);
    for (int i = 0; i < 6; i++) g[i] = 0.0f;
    gradsum_to_float(s, g);
    *nonfinite = s->nonfinite;
}

int main(void) {
    const float fin[3] = {1.0f, -3.0f, 2.0f}, withnan[3] = {1.0f, NAN, 2.0f}, withinf[2] = {-INFINITY, 0.5f};
    CHECK(gradsum_max_abs(fin, 3) == 3.0f, "max |v| of finite values is %g, want 3", gradsum_max_abs(fin, 3));
    CHECK(!isfinite(gradsum_max_abs(withnan, 3)), "max |v| with a NaN is %g, want non-finite", gradsum_max_abs(withnan, 3));
    CHECK(!isfinite(gradsum_max_abs(withinf, 2)), "max |v| with -inf is %g, want non-finite", gradsum_max_abs(withinf, 2));
    CHECK(gradsum_max_abs(fin, 0) == 0.0f, "max |v| of nothing is %g, want 0", gradsum_max_abs(fin, 0));

    const float bad[12] = {1.0f, 2.0f, 3.0f, 1.0f, 1.0f, 1.0f, 0.5f, 0.25f, -1.0f, 4.0f, NAN, 1.0f};
    const float good[12] = {1.0f, 2.0f, 3.0f, 1.0f, 1.0f, 1.0f, 0.5f, 0.25f, -1.0f, 4.0f, -2.0f, 1.0f};
    for (order = 0; order < 2; order++) {
        float g[6];
        double scale[2];
        int nonfinite = 0;
        GradSum s;   // one for both batches: the second starts clean
        gradsum_init(&s, 6);
        sum_batch(&s, bad, g, scale, &nonfinite);
        CHECK(nonfinite && scale[0] > 0 && scale[1] == 0.0, "order %d: nonfinite %d, scales %g %g, want 1, > 0 and 0",
              order, nonfinite, scale[0], scale[1]);
        for (int i = 0; i < 6; i++) CHECK(isnan(g[i]), "order %d: g[%d] = %g after a NaN contribution, want NaN", order, i, g[i]);
        sum_batch(&s, good, g, scale, &nonfinite);
        const float want[6] = {1.5f, 2.25f, 2.0f, 5.0f, -1.0f, 2.0f};
        CHECK(!nonfinite, "order %d: a finite batch is marked non-finite", order);
        for (int i = 0; i < 6; i++) CHECK(g[i] == want[i], "order %d: finite batch g[%d] = %g, want %g", order, i, g[i], want[i]);
        gradsum_free(&s);
    }
    printf("test_gradsum: %s\n", fails ? "FAIL" : "pass");
    return fails ? 1 : 0;
}
