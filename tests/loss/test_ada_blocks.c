// The row-block form of the clustering loss (one block per rank, every block's U rows gathered,
// n formed in row order) gives the loss and gradients of the whole-batch form bit for bit.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "loss/losses.h"

int main(void) {
    enum { N = 23, C = 6, K = 5 };
    static float E[N * C], Z[N * K], Q[N * K];
    for (size_t i = 0; i < N * C; i++) E[i] = 0.4f * rng_normal(7, 1, i, 0);
    for (size_t i = 0; i < N * K; i++) Z[i] = 2.0f * rng_normal(7, 2, i, 0);
    softmax_rows(Q, Z, N, K, 1.0f);
    double L = ada_forward(E, Q, N, C, K);
    static float dE[N * C], dZ[N * K], dEb[N * C], dZb[N * K];
    ada_backward(dE, dZ, E, Q, N, C, K, 0.7f);
    // three uneven blocks, as three ranks would hold them
    size_t cut[4] = {0, 9, 10, N};
    AdaBlock b[3];
    static double U[N * K];
    for (int r = 0; r < 3; r++) {
        ada_block_begin(&b[r], E, Q, N, C, K, cut[r], cut[r + 1] - cut[r]);
        memcpy(U + cut[r] * K, b[r].U, (cut[r + 1] - cut[r]) * K * sizeof(double));  // the gather
    }
    double worst = 0;
    for (int r = 0; r < 3; r++) {
        ada_block_sum(&b[r], Q, U);
        double Lb = ada_block_loss(&b[r]);
        worst = fmax(worst, fabs(Lb - L) / fabs(L));
        ada_block_backward(&b[r], dEb + cut[r] * C, dZb + cut[r] * K, E, Q, 0.7f);
        ada_block_free(&b[r]);
    }
    double gmax = 0, gerr = 0;
    for (size_t i = 0; i < N * C; i++) { gmax = fmax(gmax, fabs(dE[i])); gerr = fmax(gerr, fabs(dE[i] - dEb[i])); }
    for (size_t i = 0; i < N * K; i++) { gmax = fmax(gmax, fabs(dZ[i])); gerr = fmax(gerr, fabs(dZ[i] - dZb[i])); }
    printf("L_ada %.9g; block loss worst rel err %.3e; gradient worst err %.3e of max %.3e (both must be 0)\n", L, worst,
           gerr, gmax);
    if (!(L > 0) || worst != 0 || gerr != 0 || gmax == 0) {
        printf("FAIL\n");
        return 1;
    }
    printf("PASS\n");
    return 0;
}
