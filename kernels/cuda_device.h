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
// Makes device local_rank % count current for this rank (one GPU per local rank) and returns it.
// FATAL when no device is visible. local_size (ranks on this node) only decides a warning when
// ranks must share devices.
int cuda_device_select(int local_rank, int local_size);
#ifdef __cplusplus
}
#endif
#endif
