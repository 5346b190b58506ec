#ifndef ICEBERG_INGEST_CPREFETCH_H
#define ICEBERG_INGEST_CPREFETCH_H

/* Asks the cache for the line at `address` ahead of its use (a hint: never faults, never waits). Swift has
   no prefetch of its own; this inline function is compiled into its Swift callers. */
static inline void cprefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
