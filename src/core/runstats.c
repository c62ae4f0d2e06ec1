// runstats: see runstats.h.
#include "core/runstats.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/log.h"

static struct {
    char name[48];
    double wall, cpu;
    size_t cells;
} g_phase[RUNSTATS_MAX];
static int g_n;

PhaseClock phase_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    PhaseClock t = {wall_time(), (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec};
    return t;
}

void phase_add(const char *name, double wall, double cpu, size_t cells) {
    if (g_n == RUNSTATS_MAX) return;
    snprintf(g_phase[g_n].name, sizeof g_phase[g_n].name, "%s", name);
    g_phase[g_n].wall = wall;
    g_phase[g_n].cpu = cpu;
    g_phase[g_n].cells = cells;
    g_n++;
}

void phase_since(const char *name, PhaseClock t0, size_t cells) {
    PhaseClock t = phase_clock();
    phase_add(name, t.wall - t0.wall, t.cpu - t0.cpu, cells);
}

double peak_rss_mib(void) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
    return (double)u.ru_maxrss / 1024.0;   // Linux reports KiB
}

// "1,234,567" into buf.
static void grouped(double v, char *buf, size_t n) {
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t len = strlen(raw), k = 0;
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = '\0';
}

void run_summary(const Dist *d) {
    static int done;
    if (done) return;
    done = 1;
    int n = g_n, lo = n, hi = n;
    if (d->size > 1) {
        MPI_CHECK(MPI_Allreduce(&n, &lo, 1, MPI_INT, MPI_MIN, d->comm));
        MPI_CHECK(MPI_Allreduce(&n, &hi, 1, MPI_INT, MPI_MAX, d->comm));
    }
    if (lo == hi && n > 0) {
        double sec[2 * RUNSTATS_MAX];   // wall, then CPU
        int64_t cells[RUNSTATS_MAX];
        for (int i = 0; i < n; i++) {
            sec[i] = g_phase[i].wall;
            sec[n + i] = g_phase[i].cpu;
            cells[i] = (int64_t)g_phase[i].cells;
        }
        dist_allreduce_max_f64(d, sec, 2 * (size_t)n);
        dist_allreduce_sum_i64(d, cells, (size_t)n);
        char line[RUNSTATS_MAX * 128] = "summary:", part[160], rate[32];
        for (int i = 0; i < n; i++) {
            if (cells[i] && sec[i] > 0) {
                grouped((double)cells[i] / sec[i], rate, sizeof rate);
                snprintf(part, sizeof part, "%s %.47s %.2f s (%.31s cells/s, CPU %.2f s)", i ? " |" : "", g_phase[i].name,
                         sec[i], rate, sec[n + i]);
            } else snprintf(part, sizeof part, "%s %.47s %.2f s (CPU %.2f s)", i ? " |" : "", g_phase[i].name, sec[i], sec[n + i]);
            strncat(line, part, sizeof line - strlen(line) - 1);
        }
        log_info("%s", line);
    } else if (lo != hi) log_warn("run summary: the ranks recorded different phases (%d to %d); not summarised", lo, hi);
    double mine = peak_rss_mib(), *all = xmalloc((size_t)d->size * sizeof *all);
    if (d->size > 1) MPI_CHECK(MPI_Gather(&mine, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, d->comm));
    else all[0] = mine;
    double sum = 0, top = 0;
    for (int r = 0; r < d->size; r++) {
        log_info("peak RSS rank %d: %.0f MiB", r, all[r]);
        sum += all[r];
        if (all[r] > top) top = all[r];
    }
    if (d->size > 1) log_info("peak RSS: largest %.0f MiB, mean %.0f MiB over %d ranks", top, sum / d->size, d->size);
    free(all);
}
