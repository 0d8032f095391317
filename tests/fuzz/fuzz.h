/*
 * fuzz.h — the few helpers every libFuzzer target in tests/fuzz/ shares.
 *
 * A target is `LLVMFuzzerTestOneInput(data, size)` over project code built
 * with -fsanitize=fuzzer,address,undefined (`make fuzz`, tests/fuzz/README.md).
 * The sanitizers catch the crashes and out-of-bounds reads; these helpers
 * catch the rest: a broken promise of a header contract is reported with
 * FUZZ_CHECK, which prints the condition and aborts, so libFuzzer saves the
 * input as a crash like any other.
 *
 * Bounds: libFuzzer hands us an exactly-sized heap copy, but a decoder
 * that is told "the data ends here" in the middle of it could read past that
 * point unseen. fuzz_dup() gives each call its own exactly-sized block, so
 * ASan reports a read at or after `end` the moment it happens.
 */
#ifndef KHARON_TESTS_FUZZ_FUZZ_H
#define KHARON_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/**
 * A malloc'd copy of [p, p + n) in a block of exactly n bytes (malloc(0)
 * when n is 0: under ASan any read of it is reported). Aborts on OOM: the
 * harness is not the code under test. Free with free().
 */
static inline char *
fuzz_dup(const void *p, size_t n)
{
	char *copy = malloc(n);
	FUZZ_CHECK(copy != NULL || n == 0);
	if (n > 0)
		memcpy(copy, p, n);
	return copy;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* KHARON_TESTS_FUZZ_FUZZ_H */
