#ifndef ICEBERG_INGEST_COPENSSL_H
#define ICEBERG_INGEST_COPENSSL_H
/* libcrypto only: SHA-256, HMAC and MD5 (Content-MD5 of DeleteObjects) for SigV4 and checksums. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/md5.h>
#include <openssl/crypto.h>
#endif
