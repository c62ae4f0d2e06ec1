// cuda_device: what the GPU side of kida can see. Compiled only when configure finds CUDA.
#ifndef KIDA_CUDA_DEVICE_H
#define KIDA_CUDA_DEVICE_H
#ifdef __cplusplus
extern "C" {
#endif
// Number of usable CUDA devices (0 when the driver or devices are missing; never fails).
int cuda_device_count(void);
// Name of device i into buf (empty on failure).
void cuda_device_name(int i, char *buf, int len);
#ifdef __cplusplus
}
#endif
#endif
