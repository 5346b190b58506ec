#ifndef ICEBERG_INGEST_CSNAPPY_H
#define ICEBERG_INGEST_CSNAPPY_H
/* snappy's C API (libsnappy-dev ships snappy-c.h; the library itself is C++). */
#include <snappy-c.h>
#endif
