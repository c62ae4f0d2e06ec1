// exactsum: see exactsum.h.
#include "exactsum.h"

#include <math.h>

void exact_normalize(int64_t *acc) {
    for (int i = 0; i < EXACT_NDIG - 1; i++) {
        int64_t lo = (int64_t)((uint64_t)acc[i] & 0xffffffffu);
        int64_t carry = (acc[i] - lo) / ((int64_t)1 << 32);  // exact: acc[i] - lo is a multiple of 2^32
        acc[i] = lo;
        acc[i + 1] += carry;
    }
}

double exact_to_double(const int64_t *acc) {
    int64_t d[EXACT_NDIG];
    memcpy(d, acc, sizeof d);
    exact_normalize(d);
    // Top digits first, so the big terms are added before the small ones.
    double r = 0;
    for (int i = EXACT_NDIG - 1; i >= 0; i--) r += ldexp((double)d[i], 32 * i - 149);
    return r;
}
