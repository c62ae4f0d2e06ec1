// trainer: see trainer.h.
#include "train/trainer.h"

#include <math.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "core/signals.h"
#include "kernels/gpu.h"
#include "loss/losses.h"
#include "mpi/exchange.h"
#include "train/gradreduce.h"

size_t train_n_batches(size_t n_ids, size_t batch) { return (n_ids + batch - 1) / batch; }

// Gene dropout: removes each stored entry of row i with probability p (the gene then reads as a
// zero count), drawn from (seed, step, global cell, gene) so no rank or slot changes the mask.
static void drop_genes(Csr *b, const int64_t *ids, float p, uint64_t seed, uint64_t step) {
    int64_t w = 0;
    for (size_t i = 0; i < b->n_rows; i++) {
        int64_t lo = b->indptr[i], hi = b->indptr[i + 1];
        b->indptr[i] = w;
        for (int64_t k = lo; k < hi; k++) {
            uint64_t key = ((uint64_t)ids[i] << 20) ^ (uint64_t)b->indices[k];
            if (rng_uniform(seed, (uint64_t)RNG_STREAM_GENE_DROP + (step << 8), key, 0) < p) continue;
            b->indices[w] = b->indices[k];
            b->data[w++] = b->data[k];
        }
    }
    b->indptr[b->n_rows] = w;
}

uint8_t *train_decay_mask(const Model *m) {
    uint8_t *mask = xcalloc_for(m->n_params, 1, "training: weight-decay mask of %zu parameters", m->n_params);
    size_t sizes[N_PARAM_TENSORS], at = 0;
    model_param_shapes(&m->cfg, sizes);
    for (size_t i = 0; i < N_PARAM_TENSORS; i++) {
        if (model_param_is_matrix(i)) memset(mask + at, 1, sizes[i]);
        at += sizes[i];
    }
    return mask;
}

static void fmt_eta(char *buf, size_t n, double s) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

void train_log_json(const char *path, const Dist *d, const char *fields) {
    if (!path || d->rank != 0) return;
    FILE *f = fopen(path, "a");
    if (!f) {
        log_warn("cannot append to %s; metrics.jsonl is not written", path);
        return;
    }
    fprintf(f, "{%s}\n", fields);
    fclose(f);
}

void train_check_sync(const Model *m, const Dist *d, const char *where) {
    if (d->size == 1) return;
    double s[2] = {0, 0};
    for (size_t i = 0; i < m->n_params; i++) s[0] += m->params[i];
    s[1] = -s[0];
    dist_allreduce_max_f64(d, s, 2);
    if (s[0] != -s[1])
        FATAL("this is a bug or a hardware fault; rerun with --debug-sync and report it",
              "%s: parameters differ across ranks (checksum max %.17g, min %.17g)", where, s[0], -s[1]);
}

// The student's loss terms for this rank's slice [s0, s0+c) of a global batch of n cells.
// Adds α·KD and β·L_ada gradients into dlogits (c,K) and demb (c,C); returns the global batch
// losses (kd mean, ada) in out[0..1]. L_ada sees the whole gathered batch; its N x N work is
// split by rows over the ranks.
static void student_loss(const Model *m, const float *logits, const float *embedding, const Dist *d,
                         const float *soft, size_t s0, size_t c, size_t n, const TrainOptions *o, float *dlogits,
                         float *demb, double out[2]) {
    size_t K = m->cfg.K, C = m->cfg.C;
    double *rows = xcalloc_for(c ? c : 1, sizeof(double), "training: distillation loss of %zu cells", c);  // per-cell KD, summed in batch order
    for (size_t i = 0; i < c; i++) rows[i] = kd_forward(logits + i * K, soft + i * K, 1, K, o->tau);
    if (c) kd_backward(dlogits, logits, soft, c, K, o->tau, o->alpha / (float)n);
    out[0] = grad_reduce_sum_rows(d, rows, c, n) / (double)n;
    free(rows);
    out[1] = 0;
    if (o->beta == 0.0f) return;
    // the clustering loss sees the whole global batch, in global batch order
#define CL_WHAT "training: clustering loss of a batch of %zu cells x width %zu x %zu classes", n, C, K
    float *q = xmalloc_for(szmul(szmul(c ? c : 1, K), sizeof(float)), CL_WHAT);
    if (c) softmax_rows(q, logits, c, K, 1.0f);
    float *E = xmalloc_for(szmul(szmul(n, C), sizeof(float)), CL_WHAT), *Q = xmalloc_for(szmul(szmul(n, K), sizeof(float)), CL_WHAT);
    dist_allgatherv_f32(d, embedding, c * C, E, NULL);
    dist_allgatherv_f32(d, q, c * K, Q, NULL);
    // each rank computes its own rows of the similarity matrix; the rows of U = S Q are gathered
    // and every rank forms the K x K sums from all of them in batch order
    AdaBlock blk;
    ada_block_begin(&blk, E, Q, n, C, K, s0, c);
    double *U = xmalloc_for(szmul(szmul(n, K), sizeof(double)), CL_WHAT);
#undef CL_WHAT
    dist_allgatherv_f64(d, blk.U, c * K, U, NULL);
    ada_block_sum(&blk, Q, U);
    free(U);
    out[1] = ada_block_loss(&blk);
    ada_block_backward(&blk, demb, dlogits, E, Q, o->beta);
    ada_block_free(&blk);
    free(q); free(E); free(Q);
}

// A loss (what 1) or gradient norm (what 2) that is not finite (the same on every rank): the
// batch is not applied, its step not counted.
static void stop_nonfinite(EpochStats *st, int what, double v, uint64_t *step, Csr *b) {
    st->nonfinite = what;
    st->bad = v;
    if (step) *step -= 1;
    csr_free(b);
}

size_t train_epoch(Model *m, const Dist *d, const TrainData *td, const TrainOptions *o, size_t epoch,
                   size_t first_batch, uint64_t *step, EpochStats *st, TrainHook hook, void *ctx) {
    size_t nb = train_n_batches(td->n_ids, o->batch), K = m->cfg.K, C = m->cfg.C;
    if (first_batch >= nb) return nb;
    // this epoch's order and this rank's slices of batches first_batch..nb-1
#define EPOCH_WHAT "training: epoch of %zu cells in batches of %zu", td->n_ids, o->batch
    size_t *perm = xcalloc_for(td->n_ids, sizeof(size_t), EPOCH_WHAT);
    rng_permutation(perm, td->n_ids, o->seed, (uint64_t)RNG_STREAM_SHUFFLE * 1000003u + o->phase_id * 10007u + epoch);
    size_t *s0 = xcalloc_for(nb, sizeof(size_t), EPOCH_WHAT), *cnt = xcalloc_for(nb, sizeof(size_t), EPOCH_WHAT);
    size_t *off = xcalloc_for(szadd(nb, 1), sizeof(size_t), EPOCH_WHAT);
    size_t n_mine = 0;
    for (size_t t = first_batch; t < nb; t++) {
        size_t bsz = t + 1 < nb ? o->batch : td->n_ids - t * o->batch;
        dist_block(bsz, d->rank, d->size, &s0[t], &cnt[t]);
        off[t] = n_mine;
        n_mine += cnt[t];
    }
    int64_t *want = xcalloc_for(n_mine ? n_mine : 1, sizeof(int64_t), EPOCH_WHAT);
    for (size_t t = first_batch; t < nb; t++)
        for (size_t i = 0; i < cnt[t]; i++) want[off[t] + i] = td->ids[perm[t * o->batch + s0[t] + i]];
    float *soft = NULL;
    Csr rows = exchange_rows(d, td->x, td->n_total, td->soft, td->soft ? K : 0, want, n_mine, &soft);

    size_t maxc = 0;
    for (size_t t = first_batch; t < nb; t++) maxc = cnt[t] > maxc ? cnt[t] : maxc;
    size_t mK = szmul_for(maxc ? maxc : 1, K, EPOCH_WHAT), mC = szmul_for(maxc ? maxc : 1, C, EPOCH_WHAT);
    float *dlogits = xcalloc_for(mK, sizeof(float), EPOCH_WHAT);
    float *demb = xcalloc_for(mC, sizeof(float), EPOCH_WHAT);
    float *probs = xcalloc_for(mK, sizeof(float), EPOCH_WHAT);
    int32_t *lab = xcalloc_for(maxc ? maxc : 1, sizeof(int32_t), EPOCH_WHAT);
    double *rowloss = xcalloc_for(maxc ? maxc : 1, sizeof(double), EPOCH_WHAT);
#undef EPOCH_WHAT
    size_t total_steps = o->epochs * nb;
    double t0 = wall_time(), win_loss = 0;
    size_t win_steps = 0, win_cells = 0;
    size_t t;
    for (t = first_batch; t < nb; t++) {
        size_t c = cnt[t], bsz = t + 1 < nb ? o->batch : td->n_ids - t * o->batch;
        Csr b = csr_slice(&rows, off[t], c);
        const int64_t *ids = want + off[t];
        if (o->gene_dropout > 0) drop_genes(&b, ids, o->gene_dropout, o->seed, (o->phase_id << 40) + *step);
        struct ModelCuda *gpu = o->gpu;
        if (gpu) model_cuda_zero_grad(gpu);
        else model_zero_grad(m);
        memset(dlogits, 0, mK * sizeof(float));
        memset(demb, 0, mC * sizeof(float));
        uint64_t dropout_step = (o->phase_id << 40) + *step;
        if (c && gpu) model_cuda_forward(gpu, &b, ids, dropout_step, o->seed);
        else if (c) model_forward(m, &b, ids, dropout_step, o->seed);
        const float *logits = gpu ? model_cuda_host_logits(gpu) : m->logits;            // (c,K)
        const float *embedding = gpu ? model_cuda_host_embedding(gpu) : m->embedding;   // (c,C)
        double loss[3] = {0, 0, 0};  // total, kd, ada
        if (o->loss == LOSS_CE) {
            for (size_t i = 0; i < c; i++) lab[i] = td->labels[ids[i]];
            for (size_t i = 0; i < c; i++) rowloss[i] = ce_forward(probs + i * K, logits + i * K, lab + i, 1, K);
            if (c) ce_backward(dlogits, probs, lab, c, K, 1.0f / (float)bsz);
            if (c && td->class_weight) ce_weight_rows(dlogits, rowloss, lab, c, K, td->class_weight);
            loss[0] = grad_reduce_sum_rows(d, rowloss, c, bsz) / (double)bsz;
        } else {
            double part[2];
            student_loss(m, logits, embedding, d, soft + off[t] * K, s0[t], c, bsz, o, dlogits, demb, part);
            loss[1] = part[0];
            loss[2] = part[1];
            loss[0] = o->alpha * part[0] + o->beta * part[1];
        }
        int poison = signals_test_nan_at(*step + 1);
        if (poison == 1) loss[0] = NAN;
        if (poison == 2 && c) dlogits[0] = NAN;
        if (!isfinite(loss[0])) { stop_nonfinite(st, 1, loss[0], NULL, &b); break; }   // before any update
        const float *de = o->loss == LOSS_STUDENT ? demb : NULL;
        *step += 1;
        float lr = lr_at(o->schedule, o->adam.lr, *step, o->warmup, total_steps);
        if (gpu) {
            if (c) model_cuda_backward(gpu, dlogits, de);
            model_cuda_allreduce_grads(gpu, d);
            double gnorm = model_cuda_grad_clip(gpu, o->adam.clip_norm);
            if (!isfinite(gnorm)) { stop_nonfinite(st, 2, gnorm, step, &b); break; }
            model_cuda_adam_step(gpu, &o->adam, lr, *step);
            if (o->debug_sync) model_cuda_download_params(gpu, m);
        } else {
            grad_reduce_backward(m, d, dlogits, de, c, bsz);  // exact: the same on any rank count
            double gnorm = grad_clip(m->grads, m->n_params, o->adam.clip_norm);
            if (!isfinite(gnorm)) { stop_nonfinite(st, 2, gnorm, step, &b); break; }
            adam_step(m->params, m->grads, m->adam_m, m->adam_v, m->n_params, &o->adam, lr, *step, o->decay_mask);
        }
        if (o->debug_sync) train_check_sync(m, d, o->name);
        csr_free(&b);
        st->loss += loss[0];
        st->kd += loss[1];
        st->ada += loss[2];
        st->steps++;
        st->cells += bsz;
        win_loss += loss[0];
        win_steps++;
        win_cells += bsz;
        size_t done = epoch * nb + t + 1;
        if (o->log_every && (done % o->log_every == 0 || t + 1 == nb)) {
            double el = wall_time() - t0, rate = (double)win_cells / (el > 0 ? el : 1e-9);
            char eta[32];
            fmt_eta(eta, sizeof eta, (double)(total_steps - done) * o->batch / (rate > 0 ? rate : 1));
            if (o->loss == LOSS_CE)
                log_info("%s | epoch %zu/%zu | step %zu/%zu | loss %.4f | %.0f cells/s | ETA %s", o->name, epoch + 1,
                         o->epochs, done, total_steps, win_loss / (double)win_steps, rate, eta);
            else
                log_info("%s | epoch %zu/%zu | step %zu/%zu | loss %.4f (kd %.4f, ada %.4f) | %.0f cells/s | ETA %s",
                         o->name, epoch + 1, o->epochs, done, total_steps, win_loss / (double)win_steps, loss[1], loss[2],
                         rate, eta);
            char js[512];
            snprintf(js, sizeof js,
                     "\"phase\": \"%s\", \"epoch\": %zu, \"step\": %zu, \"loss\": %.6g, \"kd\": %.6g, \"ada\": %.6g, "
                     "\"lr\": %.6g, \"cells_per_s\": %.4g",
                     o->name, epoch + 1, done, win_loss / (double)win_steps, loss[1], loss[2], lr, rate);
            train_log_json(o->metrics_path, d, js);
            t0 = wall_time();
            win_loss = 0;
            win_steps = win_cells = 0;
        }
        int stop = signals_stop_requested(d);
        if (hook && hook(ctx, epoch, t + 1, stop)) { t++; break; }
    }
    if (o->gpu) model_cuda_download_params(o->gpu, m);  // the host model is current after train_epoch
    csr_free(&rows);
    free(soft); free(perm); free(s0); free(cnt); free(off); free(want);
    free(dlogits); free(demb); free(probs); free(lab); free(rowloss);
    return t;
}
