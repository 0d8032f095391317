/*
 * sha1.h — SHA-1 (FIPS 180-4), for one purpose: Tarantool's chap-sha1
 * AUTH scramble (src/box/auth.c), which hashes a password twice and the
 * session's salt once. Not for anything that needs a secure hash.
 *
 * Written here rather than taken from a library: the project's dependency
 * list (README, "Dependencies") has no hashing library, and forty lines of
 * the standard's own algorithm, checked against its published test
 * vectors (tests/unit/test_sha1.c), are cheaper than a new package.
 */
#ifndef KHARON_BASE_SHA1_H
#define KHARON_BASE_SHA1_H

#include <stddef.h>
#include <stdint.h>

enum { SHA1_DIGEST_SIZE = 20 };

struct sha1 {
	uint32_t h[5];
	/** Bytes hashed so far. */
	uint64_t length;
	/** The block being filled, and how much of it is. */
	uint8_t block[64];
	size_t used;
};

void
sha1_init(struct sha1 *s);

void
sha1_update(struct sha1 *s, const void *data, size_t size);

/** Pad, finish and write the digest; `s` must be re-initialised to reuse. */
void
sha1_final(struct sha1 *s, uint8_t digest[SHA1_DIGEST_SIZE]);

#endif /* KHARON_BASE_SHA1_H */
