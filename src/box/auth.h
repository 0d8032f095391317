/*
 * auth.h — AUTH in TX: the password check of Tarantool's authenticate()
 * (box/authentication.cc) for the one user kharon has, guest.
 *
 * kharon has no user database: guest is the only user, and its password,
 * as in Tarantool, is empty. Tarantool stores hash2 = sha1(sha1(password))
 * per user; the client proves it knows the password without sending it:
 *
 *   greeting (TX, at connect): salt = 32 random bytes, base64
 *   client:  scramble = sha1(pw) XOR sha1(salt[0..20) ++ sha1(sha1(pw)))
 *   AUTH {USER_NAME: "guest", TUPLE: ["chap-sha1", scramble]}
 *   server (scramble_check): sha1(scramble XOR sha1(salt ++ hash2)) == hash2
 *
 * Answers, in Tarantool 2.6's order (checked against the real binary by
 * tests/interop/test_auth.lua): another user → ER_NO_SUCH_USER; guest with
 * an empty tuple → ok (authenticating back to guest); fewer than 2 parts →
 * ER_INVALID_MSGPACK "authentication request body"; a scramble that is
 * neither str nor bin → "authentication scramble"; not 20 bytes →
 * "invalid scramble size"; a wrong scramble → ER_PASSWORD_MISMATCH
 * "Incorrect password supplied for user 'guest'". The mechanism name is not
 * checked (Tarantool skips it). SHA-1 is base/sha1.c.
 */
#ifndef KHARON_BOX_AUTH_H
#define KHARON_BOX_AUTH_H

#include <stdint.h>

enum { AUTH_SCRAMBLE_SIZE = 20 };

/**
 * Check an AUTH request: `user`/`user_len` its USER_NAME, `tuple` its
 * TUPLE (a valid MsgPack array, as xrow_decode_request leaves it), `salt`
 * the connection's greeting salt (at least 20 bytes). Returns 0 when the
 * session may become `user`, or -1 with diag set to the error Tarantool
 * answers. Thread: TX (any, in fact: no state). Cost: three SHA-1s.
 */
int
auth_check(const char *user, uint32_t user_len, const char *tuple,
	   const char *salt);

/**
 * The chap-sha1 scramble of `password` for `salt` (the client's half,
 * Tarantool's scramble_prepare()): for tests and clients.
 */
void
auth_scramble(char out[AUTH_SCRAMBLE_SIZE], const char *salt,
	      const char *password, uint32_t password_len);

#endif /* KHARON_BOX_AUTH_H */
