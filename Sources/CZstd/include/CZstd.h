#ifndef ICEBERG_INGEST_CZSTD_H
#define ICEBERG_INGEST_CZSTD_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
