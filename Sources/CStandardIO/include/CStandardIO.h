#ifndef ICEBERG_INGEST_CSTANDARDIO_H
#define ICEBERG_INGEST_CSTANDARDIO_H
#include <stdio.h>

/* Makes stdout line-buffered whatever it is (a terminal, a pipe, a file): each line is written when it
   ends. Swift 6 cannot name C's stdout (a mutable global), so the executable calls this instead. */
static inline void cstdio_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif
