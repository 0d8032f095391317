/*
 * test_sha1.c — base/sha1 against FIPS 180's published test vectors, fed
 * whole and byte by byte (the block boundary handled in every place).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/sha1.h"

static void
hex(const uint8_t d[SHA1_DIGEST_SIZE], char out[41])
{
	for (int i = 0; i < SHA1_DIGEST_SIZE; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
check(const char *msg, size_t repeat, const char *expected)
{
	struct sha1 whole, bytes;
	sha1_init(&whole);
	sha1_init(&bytes);
	size_t len = strlen(msg);
	for (size_t r = 0; r < repeat; r++) {
		sha1_update(&whole, msg, len);
		if (repeat <= 1000)
			for (size_t i = 0; i < len; i++)
				sha1_update(&bytes, msg + i, 1);
	}
	uint8_t d[SHA1_DIGEST_SIZE];
	char got[41];
	sha1_final(&whole, d);
	hex(d, got);
	cr_expect_str_eq(got, expected, "sha1 of %zu x \"%s\"", repeat, msg);
	if (repeat <= 1000) {
		sha1_final(&bytes, d);
		hex(d, got);
		cr_expect_str_eq(got, expected, "byte by byte");
	}
}

Test(sha1, fips_180_vectors)
{
	check("", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	      "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	check("a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	/* 55, 56 and 64 bytes: the padding's three cases. */
	check("0123456789012345678901234567890123456789012345678901234", 1,
	      "9f3a4ce7f66b1b74c34da2c5d732c39f81e0f8df");
	check("01234567890123456789012345678901234567890123456789012345", 1,
	      "0a40b8fbdaafb7c29651618ac15d27e772287130");
	check("0123456789012345678901234567890123456789012345678901234567890123",
	      1, "cf0800f7644ace3cb4c3fa33388d3ba0ea3c8b6e");
}
