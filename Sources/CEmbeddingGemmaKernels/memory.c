#include "CEmbeddingGemmaKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
void eg_release_free_memory(void) { malloc_trim(0); }
#else
void eg_release_free_memory(void) {}
#endif
