// cuda_device: see cuda_device.h.
#include <cuda_runtime.h>
#include <string.h>

#include "cuda_device.h"

extern "C" int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

extern "C" void cuda_device_name(int i, char *buf, int len) {
    cudaDeviceProp p;
    if (len <= 0) return;
    buf[0] = 0;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) return;
    strncpy(buf, p.name, (size_t)len - 1);
    buf[len - 1] = 0;
}
