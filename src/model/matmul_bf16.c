// matmul_bf16: see matmul_bf16.h.
#include "model/matmul_bf16.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/cpu.h"
#include "core/log.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define BF16_X86 1
#endif

static void round_scalar(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &src[i], sizeof u);
        u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even (inputs are finite)
        dst[i] = (uint16_t)(u >> 16);
    }
}

#ifdef BF16_X86
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) static void round_avx512bf16(uint16_t *dst, const float *src,
                                                                            size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)h);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)h);
    }
}
#endif

#ifdef BF16_X86
static pthread_once_t g_round_once = PTHREAD_ONCE_INIT;
static int g_round_vec;  // the CPU converts to bf16 itself (set once: CPUID is slow under a hypervisor)
static void round_choose(void) { g_round_vec = cpu_bf16() >= 1; }
#endif

void mm_bf16_round(uint16_t *dst, const float *src, size_t n) {
#ifdef BF16_X86
    pthread_once(&g_round_once, round_choose);
    if (g_round_vec) {
        round_avx512bf16(dst, src, n);
        return;
    }
#endif
    round_scalar(dst, src, n);
}

#ifdef HAVE_DNNL
#include <dnnl.h>

int mm_bf16_build(void) { return 1; }

// What a product is: the three kinds of matmul.h with their sizes.
enum { K_FWD, K_FWD_ACC, K_BWD_DATA, K_BWD_WEIGHT };

typedef struct {
    int kind;
    size_t R, K, N;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, dst;
} Prim;

// One thread's stream, primitives and rounding buffers.
typedef struct {
    dnnl_stream_t stream;
    Prim *prims;
    size_t n_prims;
    uint16_t *buf[3];  // rounded operands: a or d, w or x, and w when it has no mirror
    size_t cap[3];
} Ctx;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t g_engine;
static Ctx **g_ctx;       // every thread's context, for mm_bf16_release
static size_t g_n_ctx;
static unsigned g_gen = 1;  // bumped by mm_bf16_release: a thread's older context is gone
static _Thread_local Ctx *tl_ctx;
static _Thread_local unsigned tl_gen;

static const float *g_wbase;  // the weights mirrored in bf16
static size_t g_wn;
static uint16_t *g_wmirror;
static size_t g_wcap;

#define DNNL_OK(call, what)                                                                                     \
    do {                                                                                                       \
        dnnl_status_t st_ = (call);                                                                            \
        if (st_ != dnnl_success)                                                                               \
            FATAL("run with --precision fp32 (the bf16 products need oneDNN with bf16 support on this CPU)",   \
                  "oneDNN: %s failed (status %d)", what, (int)st_);                                            \
    } while (0)

static Ctx *ctx_get(void) {
    if (tl_ctx && tl_gen == g_gen) return tl_ctx;
    Ctx *c = xcalloc(1, sizeof *c);
    pthread_mutex_lock(&g_lock);
    if (!g_engine) DNNL_OK(dnnl_engine_create(&g_engine, dnnl_cpu, 0), "engine_create");
    g_ctx = xrealloc(g_ctx, (g_n_ctx + 1) * sizeof *g_ctx);
    g_ctx[g_n_ctx++] = c;
    tl_gen = g_gen;
    pthread_mutex_unlock(&g_lock);
    DNNL_OK(dnnl_stream_create(&c->stream, g_engine, dnnl_stream_default_flags), "stream_create");
    tl_ctx = c;
    return c;
}

static uint16_t *ctx_buf(Ctx *c, int i, size_t n) {
    if (c->cap[i] < n) {
        free(c->buf[i]);
        c->buf[i] = xmalloc(n * sizeof(uint16_t));
        c->cap[i] = n;
    }
    return c->buf[i];
}

static void md_init(dnnl_memory_desc_t *md, size_t rows, size_t cols, dnnl_data_type_t t, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {(dnnl_dim_t)rows, (dnnl_dim_t)cols};
    DNNL_OK(dnnl_memory_desc_init_by_tag(md, 2, dims, t, tag), "memory_desc_init");
}

// The primitive of one kind and shape, made on first use in this thread.
static Prim *prim_get(Ctx *c, int kind, size_t R, size_t K, size_t N) {
    for (size_t i = 0; i < c->n_prims; i++) {
        Prim *p = &c->prims[i];
        if (p->kind == kind && p->R == R && p->K == K && p->N == N) return p;
    }
    dnnl_memory_desc_t s, w, d;
    switch (kind) {
    case K_FWD:
    case K_FWD_ACC:  // out (R,N) = a (R,K) · wᵀ: weights (K,N) read from w (N,K) row-major
        md_init(&s, R, K, dnnl_bf16, dnnl_ab);
        md_init(&w, K, N, dnnl_bf16, dnnl_ba);
        md_init(&d, R, N, dnnl_f32, dnnl_ab);
        break;
    case K_BWD_DATA:  // out (R,K) = d (R,N) · w (N,K)
        md_init(&s, R, N, dnnl_bf16, dnnl_ab);
        md_init(&w, N, K, dnnl_bf16, dnnl_ab);
        md_init(&d, R, K, dnnl_f32, dnnl_ab);
        break;
    default:  // out (N,K) = dᵀ (N,R) · x (R,K): dᵀ read from d (R,N) row-major
        md_init(&s, N, R, dnnl_bf16, dnnl_ba);
        md_init(&w, R, K, dnnl_bf16, dnnl_ab);
        md_init(&d, N, K, dnnl_f32, dnnl_ab);
        break;
    }
    dnnl_primitive_attr_t attr = NULL;
    if (kind == K_FWD_ACC) {
        dnnl_post_ops_t po;
        DNNL_OK(dnnl_post_ops_create(&po), "post_ops_create");
        DNNL_OK(dnnl_post_ops_append_sum(po, 1.0f), "post_ops_append_sum");
        DNNL_OK(dnnl_primitive_attr_create(&attr), "primitive_attr_create");
        DNNL_OK(dnnl_primitive_attr_set_post_ops(attr, po), "primitive_attr_set_post_ops");
        dnnl_post_ops_destroy(po);
    }
    dnnl_matmul_desc_t md;
    DNNL_OK(dnnl_matmul_desc_init(&md, &s, &w, NULL, &d), "matmul_desc_init");
    dnnl_primitive_desc_t pd;
    DNNL_OK(dnnl_primitive_desc_create(&pd, &md, attr, g_engine, NULL), "matmul primitive_desc_create");
    c->prims = xrealloc(c->prims, (c->n_prims + 1) * sizeof *c->prims);
    Prim *p = &c->prims[c->n_prims++];
    *p = (Prim){.kind = kind, .R = R, .K = K, .N = N};
    DNNL_OK(dnnl_primitive_create(&p->prim, pd), "matmul primitive_create");
    dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    DNNL_OK(dnnl_memory_create(&p->src, &s, g_engine, DNNL_MEMORY_NONE), "memory_create");
    DNNL_OK(dnnl_memory_create(&p->wei, &w, g_engine, DNNL_MEMORY_NONE), "memory_create");
    DNNL_OK(dnnl_memory_create(&p->dst, &d, g_engine, DNNL_MEMORY_NONE), "memory_create");
    return p;
}

static void prim_run(Ctx *c, Prim *p, const void *src, const void *wei, float *dst) {
    DNNL_OK(dnnl_memory_set_data_handle_v2(p->src, (void *)src, c->stream), "set_data_handle");
    DNNL_OK(dnnl_memory_set_data_handle_v2(p->wei, (void *)wei, c->stream), "set_data_handle");
    DNNL_OK(dnnl_memory_set_data_handle_v2(p->dst, dst, c->stream), "set_data_handle");
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->wei}, {DNNL_ARG_DST, p->dst}};
    DNNL_OK(dnnl_primitive_execute(p->prim, c->stream, 3, args), "matmul execute");
    DNNL_OK(dnnl_stream_wait(c->stream), "stream_wait");
}

void mm_bf16_weights(const float *base, size_t n) {
    if (g_wcap < n) {
        free(g_wmirror);
        g_wmirror = xmalloc(n * sizeof(uint16_t));
        g_wcap = n;
    }
    mm_bf16_round(g_wmirror, base, n);
    g_wbase = base, g_wn = n;
}

// w (n floats) in bf16: the mirror when it holds w, else rounded into buffer slot 2.
static const uint16_t *weights_bf16(Ctx *c, const float *w, size_t n) {
    if (g_wmirror && w >= g_wbase && w + n <= g_wbase + g_wn) return g_wmirror + (w - g_wbase);
    uint16_t *b = ctx_buf(c, 2, n);
    mm_bf16_round(b, w, n);
    return b;
}

void mm_bf16_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc) {
    Ctx *c = ctx_get();
    uint16_t *ab = ctx_buf(c, 0, R * K);
    mm_bf16_round(ab, a, R * K);
    prim_run(c, prim_get(c, acc ? K_FWD_ACC : K_FWD, R, K, N), ab, weights_bf16(c, w, N * K), out);
}

void mm_bf16_backward_linear(float *din, float *dw, const float *d, const float *x, const float *w, size_t R,
                             size_t N, size_t K) {
    Ctx *c = ctx_get();
    uint16_t *db = ctx_buf(c, 0, R * N), *xb = ctx_buf(c, 1, R * K);
    mm_bf16_round(db, d, R * N);
    mm_bf16_round(xb, x, R * K);
    prim_run(c, prim_get(c, K_BWD_WEIGHT, R, K, N), db, xb, dw);
    prim_run(c, prim_get(c, K_BWD_DATA, R, K, N), db, weights_bf16(c, w, N * K), din);
}

void mm_bf16_release(void) {
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_n_ctx; i++) {
        Ctx *c = g_ctx[i];
        for (size_t j = 0; j < c->n_prims; j++) {
            Prim *p = &c->prims[j];
            dnnl_primitive_destroy(p->prim);
            dnnl_memory_destroy(p->src);
            dnnl_memory_destroy(p->wei);
            dnnl_memory_destroy(p->dst);
        }
        free(c->prims);
        for (int k = 0; k < 3; k++) free(c->buf[k]);
        dnnl_stream_destroy(c->stream);
        free(c);
    }
    free(g_ctx);
    g_ctx = NULL, g_n_ctx = 0;
    g_gen++;
    free(g_wmirror);
    g_wmirror = NULL, g_wbase = NULL, g_wn = 0, g_wcap = 0;
    pthread_mutex_unlock(&g_lock);
}

#else  // no oneDNN

int mm_bf16_build(void) { return 0; }

static _Noreturn void no_dnnl(const char *what) {
    FATAL("rebuild kida with oneDNN (apt-get install libdnnl-dev, then ./configure) or run with --precision fp32",
          "%s: this kida was built without oneDNN", what);
}

void mm_bf16_weights(const float *base, size_t n) { (void)base, (void)n, no_dnnl("bf16 products"); }
void mm_bf16_forward(float *out, const float *a, const float *w, size_t R, size_t K, size_t N, int acc) {
    (void)out, (void)a, (void)w, (void)R, (void)K, (void)N, (void)acc, no_dnnl("bf16 products");
}
void mm_bf16_backward_linear(float *din, float *dw, const float *d, const float *x, const float *w, size_t R,
                             size_t N, size_t K) {
    (void)din, (void)dw, (void)d, (void)x, (void)w, (void)R, (void)N, (void)K, no_dnnl("bf16 products");
}
void mm_bf16_release(void) {}
#endif
