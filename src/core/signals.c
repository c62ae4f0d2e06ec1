// signals: see signals.h.
#include "core/signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t g_stop = 0;
static long g_stop_after = 0, g_calls = 0;

static void on_signal(int sig) { g_stop = sig; }

void signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    const char *e = getenv("KIDA_STOP_AFTER_STEPS");
    g_stop_after = e ? atol(e) : 0;
}

int signals_stop_requested(const Dist *d) {
    int flag = g_stop != 0;
    if (g_stop_after > 0 && ++g_calls >= g_stop_after) flag = 1;
    if (d->size > 1) MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, d->comm));
    return flag;
}

int signals_test_nan_at(uint64_t step) {
    static long at = -1;
    static int what = 1;
    if (at < 0) {
        const char *e = getenv("KIDA_TEST_NAN_AT_STEP");
        at = e ? atol(e) : 0;
        what = e && strstr(e, ":grad") ? 2 : 1;
    }
    return at > 0 && step == (uint64_t)at ? what : 0;
}
