// cpu: see cpu.h.
#include "core/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mpi/dist.h"

static int g_path = -1;  // not chosen yet

static const char *const PATH_NAMES[CPU_N_PATHS] = {"portable", "avx2", "avx512"};

const char *cpu_path_name(CpuPath p) { return (unsigned)p < CPU_N_PATHS ? PATH_NAMES[p] : "?"; }

#if defined(__GNUC__) && defined(__x86_64__)
#define KIDA_X86 1
#include <cpuid.h>
#endif

CpuPath cpu_path_best(void) {
#ifdef KIDA_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
        return CPU_PATH_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CPU_PATH_AVX2;
#endif
    return CPU_PATH_PORTABLE;
}

void cpu_path_set(CpuPath p) {
    CpuPath best = cpu_path_best();
    if ((unsigned)p >= CPU_N_PATHS || p > best)
        FATAL("choose a vector path this CPU has (portable, or up to its best)",
              "vector path %s is not available here (best: %s)", cpu_path_name(p), cpu_path_name(best));
    g_path = (int)p;
}

CpuPath cpu_path(void) {
    if (g_path >= 0) return (CpuPath)g_path;
    CpuPath p = cpu_path_best();
    const char *e = getenv("KIDA_CPU_PATH");
    if (e && *e) {
        int want = -1;
        for (int i = 0; i < CPU_N_PATHS; i++)
            if (!strcmp(e, PATH_NAMES[i])) want = i;
        if (want < 0) FATAL("set KIDA_CPU_PATH to portable, avx2 or avx512 (or unset it)", "KIDA_CPU_PATH=%s is not a vector path", e);
        p = (CpuPath)want;
    }
    cpu_path_set(p);
    return p;
}

void cpu_path_agree(const Dist *d) {
    double v = -(double)cpu_path();
    dist_allreduce_max_f64(d, &v, 1);
    if ((CpuPath)(int)-v != cpu_path()) cpu_path_set((CpuPath)(int)-v);
}

int cpu_bf16(void) {
#ifdef KIDA_X86
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int amx = (d >> 22) & 1;  // CPUID.(7,0):EDX[22] AMX-BF16
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return amx ? 2 : 0;
    int avx512bf16 = (a >> 5) & 1;  // CPUID.(7,1):EAX[5] AVX512-BF16
    return amx ? 2 : avx512bf16 ? 1 : 0;
#else
    return 0;
#endif
}

const char *cpu_model_name(void) {
    static char name[128] = "";
    if (name[0]) return name;
    snprintf(name, sizeof name, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return name;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) break;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        snprintf(name, sizeof name, "%s", v);
        name[strcspn(name, "\n")] = 0;
        break;
    }
    fclose(f);
    return name;
}
