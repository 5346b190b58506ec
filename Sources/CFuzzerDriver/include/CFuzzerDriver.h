#ifndef ICEBERG_INGEST_CFUZZERDRIVER_H
#define ICEBERG_INGEST_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry for programs that have their own main (LLVM 11 and later). SwiftPM names an executable's
   main itself, so the fuzz executable calls this instead of linking libFuzzer's main. Defined only when the
   program is linked with -sanitize=fuzzer; only code built with -D FUZZING calls it. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
