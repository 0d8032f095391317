/*
 * test_proto_greeting.c — the 128-byte greeting: exact bytes of the
 * captured Tarantool 2.6.0 banner, round trip, and rejection of bad ones.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "proto/errcode.h"
#include "proto/greeting.h"

static const uint8_t capture_uuid[UUID_SIZE] = {
	0x20, 0xb7, 0x2c, 0xba, 0x32, 0x4e, 0x42, 0x18,
	0x87, 0xba, 0xe2, 0x9d, 0x39, 0x2d, 0x07, 0xb5,
};
static const uint8_t capture_salt[GREETING_SALT_SIZE] = {
	0x39, 0xfc, 0x7b, 0x70, 0xfe, 0x5e, 0x42, 0x5b, 0x7a, 0xbd, 0x49,
	0x37, 0x8a, 0x73, 0xd4, 0x03, 0x02, 0xa4, 0x3e, 0x8b, 0xf1, 0xe4,
	0x2d, 0xc4, 0xf0, 0x18, 0x73, 0x89, 0x34, 0x3c, 0xa8, 0x5d,
};

static void
pad_line(char *line, const char *text)
{
	memset(line, ' ', GREETING_LINE_SIZE);
	memcpy(line, text, strlen(text));
	line[GREETING_LINE_SIZE - 1] = '\n';
}

Test(proto_greeting, encode_matches_capture)
{
	char out[GREETING_SIZE];
	greeting_encode(out, greeting_version_id(2, 6, 0), capture_uuid,
			capture_salt);
	char expect[GREETING_SIZE];
	pad_line(expect, "Tarantool 2.6.0 (Binary) "
		 "20b72cba-324e-4218-87ba-e29d392d07b5");
	pad_line(expect + GREETING_LINE_SIZE,
		 "Ofx7cP5eQlt6vUk3inPUAwKkPovx5C3E8BhziTQ8qF0=");
	cr_assert_eq(memcmp(out, expect, GREETING_SIZE), 0);
	cr_assert_eq(out[63], '\n');
	cr_assert_eq(out[127], '\n');
	cr_assert_eq(out[62], ' ');
}

Test(proto_greeting, round_trip)
{
	char out[GREETING_SIZE];
	greeting_encode(out, greeting_version_id(2, 6, 0), capture_uuid,
			capture_salt);
	struct greeting g;
	cr_assert_eq(greeting_decode(&g, out), 0, "%s", diag_msg());
	cr_assert_eq(g.version_id, greeting_version_id(2, 6, 0));
	cr_assert_str_eq(g.protocol, "Binary");
	cr_assert(g.has_uuid);
	cr_assert_eq(memcmp(g.uuid, capture_uuid, UUID_SIZE), 0);
	cr_assert_eq(g.salt_len, GREETING_SALT_SIZE);
	cr_assert_eq(memcmp(g.salt, capture_salt, GREETING_SALT_SIZE), 0);
}

Test(proto_greeting, console_and_old_versions)
{
	char in[GREETING_SIZE];
	pad_line(in, "Tarantool 1.5.3 (Lua console)");
	pad_line(in + GREETING_LINE_SIZE, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	struct greeting g;
	cr_assert_eq(greeting_decode(&g, in), 0, "%s", diag_msg());
	cr_assert_str_eq(g.protocol, "Lua console");
	cr_assert_not(g.has_uuid);
	cr_assert_eq(g.salt_len, 21);
}

static void
expect_bad(const char *line1, const char *line2)
{
	char in[GREETING_SIZE];
	pad_line(in, line1);
	pad_line(in + GREETING_LINE_SIZE, line2);
	struct greeting g;
	diag_clear();
	cr_assert_eq(greeting_decode(&g, in), -1, "accepted %s / %s",
		     line1, line2);
	cr_assert_eq(diag_last()->code, ER_PROTOCOL);
}

Test(proto_greeting, rejects_bad)
{
	const char *salt = "Ofx7cP5eQlt6vUk3inPUAwKkPovx5C3E8BhziTQ8qF0=";
	const char *uuid = "20b72cba-324e-4218-87ba-e29d392d07b5";
	char l1[80];
	snprintf(l1, sizeof(l1), "Tarantul 2.6.0 (Binary) %s", uuid);
	expect_bad(l1, salt);
	snprintf(l1, sizeof(l1), "Tarantool 2.x.0 (Binary) %s", uuid);
	expect_bad(l1, salt);
	snprintf(l1, sizeof(l1), "Tarantool 2.6.0 Binary %s", uuid);
	expect_bad(l1, salt);
	expect_bad("Tarantool 2.6.0 (Binary) 20b72cba-324e-4218-87ba", salt);
	snprintf(l1, sizeof(l1), "Tarantool 2.6.0 (Binary) %s", uuid);
	expect_bad(l1, "Ofx7cP5e");			/* salt too short */
	expect_bad(l1, "Ofx7cP5eQlt6vUk3inPUAwKkPovx5C3E8BhziTQ8qF0");
	expect_bad(l1, "Ofx7cP5eQlt6vUk3inPUAwKkPovx5C3E8BhziTQ8q!0=");
	/* No '\n' at 63. */
	char in[GREETING_SIZE];
	greeting_encode(in, greeting_version_id(2, 6, 0), capture_uuid,
			capture_salt);
	in[63] = ' ';
	struct greeting g;
	cr_assert_eq(greeting_decode(&g, in), -1);
	in[63] = '\n';
	in[127] = 'x';
	cr_assert_eq(greeting_decode(&g, in), -1);
}
