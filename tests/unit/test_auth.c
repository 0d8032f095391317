/*
 * test_auth.c — AUTH as guest (src/box/auth.h): the scramble of the empty
 * password passes for any salt, every other answer is Tarantool's
 * (checked against the real binary by tests/interop/test_auth.lua).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/diag.h"
#include "box/auth.h"
#include "proto/errcode.h"
#include "proto/mp.h"

static const char salt[32] = "0123456789abcdefghijklmnopqrstu";

/* ["chap-sha1", scramble] into buf. */
static const char *
chap(char *buf, const char *scramble, uint32_t len)
{
	char *p = mp_encode_array(buf, 2);
	p = mp_encode_str(p, "chap-sha1", 9);
	mp_encode_str(p, scramble, len);
	return buf;
}

static void
expect_error(const char *user, const char *tuple, int code, const char *msg)
{
	diag_clear();
	cr_assert_eq(auth_check(user, (uint32_t)strlen(user), tuple, salt), -1);
	cr_assert_eq(diag_last()->code, code, "%s", diag_msg());
	cr_assert_str_eq(diag_msg(), msg);
}

Test(auth, guest_with_the_empty_password)
{
	char scr[AUTH_SCRAMBLE_SIZE], buf[64];
	auth_scramble(scr, salt, "", 0);
	cr_assert_eq(auth_check("guest", 5, chap(buf, scr, sizeof(scr)), salt),
		     0, "%s", diag_msg());
	/* As bin, the way some drivers pack it. */
	char *p = mp_encode_array(buf, 2);
	p = mp_encode_str(p, "chap-sha1", 9);
	mp_encode_bin(p, scr, sizeof(scr));
	cr_assert_eq(auth_check("guest", 5, buf, salt), 0);
	/* Another salt, another scramble: the old one no longer passes. */
	char other[32];
	memcpy(other, salt, sizeof(other));
	other[0] ^= 1;
	cr_assert_eq(auth_check("guest", 5, chap(buf, scr, sizeof(scr)),
				other), -1);
	/* Back to guest with no password at all. */
	cr_assert_eq(auth_check("guest", 5, "\x90", salt), 0);
}

Test(auth, wrong_scramble_every_byte)
{
	char scr[AUTH_SCRAMBLE_SIZE], buf[64];
	auth_scramble(scr, salt, "", 0);
	for (int i = 0; i < AUTH_SCRAMBLE_SIZE; i++) {
		scr[i] ^= 0x01;
		expect_error("guest", chap(buf, scr, sizeof(scr)),
			     ER_PASSWORD_MISMATCH,
			     "Incorrect password supplied for user 'guest'");
		scr[i] ^= 0x01;
	}
	auth_scramble(scr, salt, "secret", 6);
	expect_error("guest", chap(buf, scr, sizeof(scr)), ER_PASSWORD_MISMATCH,
		     "Incorrect password supplied for user 'guest'");
}

Test(auth, malformed_and_other_users)
{
	char buf[64];
	expect_error("guest", "\x91\xa9" "chap-sha1", ER_INVALID_MSGPACK,
		     "Invalid MsgPack - authentication request body");
	expect_error("guest", "\x92\xa9" "chap-sha1" "\x05", ER_INVALID_MSGPACK,
		     "Invalid MsgPack - authentication scramble");
	expect_error("guest", chap(buf, "short", 5), ER_INVALID_MSGPACK,
		     "Invalid MsgPack - invalid scramble size");
	expect_error("admin", "\x90", ER_NO_SUCH_USER,
		     "User 'admin' is not found");
	expect_error("gues", "\x90", ER_NO_SUCH_USER, "User 'gues' is not found");
}
