// kern_portable: the kernels (kern_body.h) for the compiler's baseline instruction set.
#define KERN_VW 8
#define KERN_NAME kern_portable
#define KERN_PATH CPU_PATH_PORTABLE
#include "model/kern_body.h"
