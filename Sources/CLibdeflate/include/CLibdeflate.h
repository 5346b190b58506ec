#ifndef ICEBERG_INGEST_CLIBDEFLATE_H
#define ICEBERG_INGEST_CLIBDEFLATE_H
#include <libdeflate.h>
#endif
