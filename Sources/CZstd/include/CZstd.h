#ifndef ICEBERG_INGEST_CZSTD_H
#define ICEBERG_INGEST_CZSTD_H
#include <zstd.h>
#endif
