#ifndef ICEBERG_INGEST_CZLIB_H
#define ICEBERG_INGEST_CZLIB_H
#include <zlib.h>

/* deflateInit2/inflateInit2 are macros over functions that take the version and struct size;
   Swift cannot expand them, so these wrappers do. */
static inline int czlib_deflate_init2(z_stream *strm, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}
static inline int czlib_inflate_init2(z_stream *strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
