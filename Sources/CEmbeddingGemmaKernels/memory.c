#include "CEmbeddingGemmaKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
void eg_release_free_memory(void) { malloc_trim(0); }
#else
void eg_release_free_memory(void) {}
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>

void *eg_pages_allocate(size_t bytes) {
    void *pages = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return pages == MAP_FAILED ? NULL : pages;
}

void eg_pages_free(void *pages, size_t bytes) {
    if (pages) munmap(pages, bytes);
}
#else
#include <stdlib.h>

void *eg_pages_allocate(size_t bytes) { return calloc(1, bytes); }
void eg_pages_free(void *pages, size_t bytes) { (void)bytes; free(pages); }
#endif
