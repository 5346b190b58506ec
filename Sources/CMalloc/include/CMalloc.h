#ifndef ICEBERG_INGEST_CMALLOC_H
#define ICEBERG_INGEST_CMALLOC_H
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

/* Caps glibc's malloc arenas (M_ARENA_MAX); Swift's Glibc module does not carry <malloc.h>. Returns 1 when
   set, 0 where the C library has no such option. */
static inline int cmalloc_limit_arenas(int count) {
#ifdef M_ARENA_MAX
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}
#endif
