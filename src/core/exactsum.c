// exactsum: see exactsum.h.
#include "core/exactsum.h"

#include <math.h>

void exact_normalize(int64_t *acc, size_t stride) {
    for (size_t i = 0; i < EXACT_NDIG - 1; i++) {
        int64_t *a = acc + i * stride, lo = (int64_t)((uint64_t)*a & 0xffffffffu);
        int64_t carry = (*a - lo) / ((int64_t)1 << 32);  // exact: *a - lo is a multiple of 2^32
        *a = lo;
        a[stride] += carry;
    }
}

double exact_to_double(const int64_t *acc, size_t stride) {
    int64_t d[EXACT_NDIG];
    for (size_t i = 0; i < EXACT_NDIG; i++) d[i] = acc[i * stride];
    exact_normalize(d, 1);
    // Top digits first, so the big terms are added before the small ones.
    double r = 0;
    for (int i = EXACT_NDIG - 1; i >= 0; i--) r += ldexp((double)d[i], 32 * i - 149);
    return r;
}
