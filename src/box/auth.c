/*
 * auth.c — AUTH for guest, with Tarantool's chap-sha1 check. See auth.h.
 */
#include "box/auth.h"

#include <stdio.h>
#include <string.h>

#include "base/sha1.h"
#include "proto/errcode.h"
#include "proto/mp.h"

static void
sha1_of(uint8_t out[SHA1_DIGEST_SIZE], const void *a, size_t a_len,
	const void *b, size_t b_len)
{
	struct sha1 ctx;
	sha1_init(&ctx);
	sha1_update(&ctx, a, a_len);
	if (b_len > 0)
		sha1_update(&ctx, b, b_len);
	sha1_final(&ctx, out);
}

/* guest's hash2: sha1(sha1("")), its password being empty. */
static void
guest_hash2(uint8_t out[SHA1_DIGEST_SIZE])
{
	uint8_t hash1[SHA1_DIGEST_SIZE];
	sha1_of(hash1, "", 0, NULL, 0);
	sha1_of(out, hash1, sizeof(hash1), NULL, 0);
}

void
auth_scramble(char out[AUTH_SCRAMBLE_SIZE], const char *salt,
	      const char *password, uint32_t password_len)
{
	uint8_t hash1[SHA1_DIGEST_SIZE], hash2[SHA1_DIGEST_SIZE];
	uint8_t mask[SHA1_DIGEST_SIZE];
	sha1_of(hash1, password, password_len, NULL, 0);
	sha1_of(hash2, hash1, sizeof(hash1), NULL, 0);
	sha1_of(mask, salt, AUTH_SCRAMBLE_SIZE, hash2, sizeof(hash2));
	for (int i = 0; i < AUTH_SCRAMBLE_SIZE; i++)
		out[i] = (char)(hash1[i] ^ mask[i]);
}

/* Tarantool's scramble_check(): 0 when `scramble` proves `hash2`. */
static int
scramble_check(const char *scramble, const char *salt, const uint8_t *hash2)
{
	uint8_t mask[SHA1_DIGEST_SIZE], hash1[SHA1_DIGEST_SIZE];
	uint8_t candidate[SHA1_DIGEST_SIZE];
	sha1_of(mask, salt, AUTH_SCRAMBLE_SIZE, hash2, SHA1_DIGEST_SIZE);
	for (int i = 0; i < AUTH_SCRAMBLE_SIZE; i++)
		hash1[i] = (uint8_t)scramble[i] ^ mask[i];
	sha1_of(candidate, hash1, sizeof(hash1), NULL, 0);
	return memcmp(candidate, hash2, SHA1_DIGEST_SIZE) == 0 ? 0 : -1;
}

int
auth_check(const char *user, uint32_t user_len, const char *tuple,
	   const char *salt)
{
	if (user_len != 5 || memcmp(user, "guest", 5) != 0) {
		char name[64];
		snprintf(name, sizeof(name), "%.*s",
			 (int)(user_len < 63 ? user_len : 63), user);
		diag_set_client(ER_NO_SUCH_USER, name);
		return -1;
	}
	const char *p = tuple;
	uint32_t n = mp_decode_array(&p);
	/* Back to guest without a password: its password is empty. */
	if (n == 0)
		return 0;
	if (n < 2) {
		diag_set_client(ER_INVALID_MSGPACK,
				"authentication request body");
		return -1;
	}
	mp_next(&p);	/* the mechanism, not checked (nor by Tarantool) */
	const char *scramble;
	uint32_t len;
	if (mp_typeof(*p) == MP_STR) {
		scramble = mp_decode_str(&p, &len);
	} else if (mp_typeof(*p) == MP_BIN) {
		scramble = mp_decode_bin(&p, &len);
	} else {
		diag_set_client(ER_INVALID_MSGPACK, "authentication scramble");
		return -1;
	}
	if (len != AUTH_SCRAMBLE_SIZE) {
		diag_set_client(ER_INVALID_MSGPACK, "invalid scramble size");
		return -1;
	}
	uint8_t hash2[SHA1_DIGEST_SIZE];
	guest_hash2(hash2);
	if (scramble_check(scramble, salt, hash2) != 0) {
		diag_set_client(ER_PASSWORD_MISMATCH, "guest");
		return -1;
	}
	return 0;
}
