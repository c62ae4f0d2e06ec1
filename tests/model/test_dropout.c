// test_dropout: dropout masks are keyed by (seed, step, layer, site, global cell, element), never
// by the batch slot or batch size.
// 1. A cell alone in a batch of 1 and the same cell in slot 5 of a batch of 7 (same id, step,
//    seed) get identical masks at every site and the same logits/embedding/attention (1e-5).
// 2. The same call twice gives bit-identical masks and logits.
// 3. Another step gives another mask (about 2p(1-p) of the elements differ) and other logits.
// 4. The dropped fraction is p within 0.01 (10^5 elements); different cells get different masks.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "tests/model/model_fixtures.h"

static int failures = 0;

static void verdict(const char *what, int ok) {
    printf("%-58s %s\n", what, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

// Copies the masks of cell slot b (every layer and site) into out; returns the element count.
static size_t masks_of(uint8_t *out, const Model *m, size_t b) {
    const ModelConfig *c = &m->cfg;
    size_t k = 0;
    for (size_t l = 0; l < c->L; l++)
        for (size_t s = 0; s < 2; s++) {
            size_t n = (l + 1 == c->L ? 1 : c->T) * c->C;  // the last layer keeps the cls row only
            const uint8_t *site = m->a.mask + (2 * l + s) * m->max_B * c->T * c->C;
            memcpy(out + k, site + b * c->T * c->C, n);  // cell b owns T rows of every site
            k += n;
        }
    return k;
}

int main(void) {
    size_t G = 40, P = 9, C = 16, NH = 2, L = 3, K = 5, B = 7, slot = 5;
    float p = 0.3f;
    PathwayMap map = fixture_map(P, G, 0.2, 301);
    ModelConfig c = fixture_config(&map, C, NH, L, K, p);
    Model m;
    model_init(&m, &c, &map, B, 1);
    model_init_weights(&m, 3);
    fixture_fill(m.gene_zero, G, 0.3f, 302, 1);

    Csr big = fixture_batch(B, G, 0.3, 303, 100);
    int64_t ids[7] = {100, 101, 102, 103, 104, 105, 106};
    // the batch of one: row `slot` of big
    int64_t lo = big.indptr[slot], hi = big.indptr[slot + 1];
    Csr one = csr_alloc(1, G, (size_t)(hi - lo));
    one.indptr[1] = hi - lo;
    memcpy(one.indices, big.indices + lo, (size_t)(hi - lo) * sizeof(int32_t));
    memcpy(one.data, big.data + lo, (size_t)(hi - lo) * sizeof(float));
    int64_t id_one = ids[slot];

    size_t nmask = 2 * L * c.T * C;
    uint8_t *mk_big = xmalloc(nmask), *mk_one = xmalloc(nmask), *mk_other = xmalloc(nmask), *mk_cell0 = xmalloc(nmask);
    float out_big[3][64], out_one[3][64];  // logits, embedding, attn of the tested cell
    uint64_t step = 12, seed = 77;

    model_forward(&m, &big, ids, step, seed);
    size_t n = masks_of(mk_big, &m, slot);
    masks_of(mk_cell0, &m, 0);
    memcpy(out_big[0], m.logits + slot * K, K * sizeof(float));
    memcpy(out_big[1], m.embedding + slot * C, C * sizeof(float));
    memcpy(out_big[2], m.attn + slot * P, P * sizeof(float));
    model_forward(&m, &one, &id_one, step, seed);
    masks_of(mk_one, &m, 0);
    memcpy(out_one[0], m.logits, K * sizeof(float));
    memcpy(out_one[1], m.embedding, C * sizeof(float));
    memcpy(out_one[2], m.attn, P * sizeof(float));

    printf("%zu mask elements per cell (%zu layers x 2 sites)\n", n, L);
    verdict("1. masks: slot 5 of 7 == alone in a batch of 1", memcmp(mk_big, mk_one, n) == 0);
    double dl = fixture_rel_diff(out_one[0], out_big[0], K), de = fixture_rel_diff(out_one[1], out_big[1], C);
    double da = fixture_rel_diff(out_one[2], out_big[2], P);
    printf("   logits rel diff %.2e, embedding %.2e, attn %.2e\n", dl, de, da);
    verdict("1. outputs: slot 5 of 7 == alone in a batch of 1", dl <= 1e-5 && de <= 1e-5 && da <= 1e-5);

    model_forward(&m, &one, &id_one, step, seed);
    masks_of(mk_other, &m, 0);
    verdict("2. same call again: identical masks and logits",
            memcmp(mk_other, mk_one, n) == 0 && memcmp(m.logits, out_one[0], K * sizeof(float)) == 0);

    model_forward(&m, &one, &id_one, step + 1, seed);
    masks_of(mk_other, &m, 0);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) differ += mk_other[i] != mk_one[i];
    double frac = (double)differ / (double)n, want = 2.0 * p * (1.0 - p);
    printf("   next step: %.3f of the mask differs (expected ~%.3f)\n", frac, want);
    verdict("3. next step: another mask", fabs(frac - want) < 0.03);
    verdict("3. next step: other logits", fixture_rel_diff(m.logits, out_one[0], K) > 1e-3);

    size_t same0 = 0;
    for (size_t i = 0; i < n; i++) same0 += mk_cell0[i] == mk_big[i];
    verdict("4. another cell in the same batch: another mask", same0 < n);
    // dropped fraction over many elements: 150 steps of the one cell
    size_t dropped = 0, total = 0;
    for (uint64_t s = 0; s < 150; s++) {
        model_forward(&m, &one, &id_one, 1000 + s, seed);
        masks_of(mk_other, &m, 0);
        for (size_t i = 0; i < n; i++) dropped += !mk_other[i];
        total += n;
    }
    double rate = (double)dropped / (double)total;
    printf("   dropped %.4f of %zu elements (p = %.2f)\n", rate, total, (double)p);
    verdict("4. dropped fraction == p within 0.01", fabs(rate - p) < 0.01);

    free(mk_big), free(mk_one), free(mk_other), free(mk_cell0);
    csr_free(&big);
    csr_free(&one);
    model_free(&m);
    pathmap_free(&map);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
