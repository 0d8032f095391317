/*
 * greeting.h — the 128-byte banner a Tarantool server sends on accept.
 *
 *   offset 0   "Tarantool 2.6.0 (Binary) <uuid>" padded with spaces, '\n' at 63
 *   offset 64  base64(32 salt bytes)               padded with spaces, '\n' at 127
 *
 * The server (TX, DESIGN.md §7) encodes it with its instance uuid and a
 * fresh random salt — randomness is the caller's, this file is pure. A
 * client decodes it before anything else and keeps the salt for AUTH's
 * scramble (docs/protocol.md §6, §7). Tarantool's greeting_encode and
 * greeting_decode (src/box/xrow.c) do the same.
 * Lesson: lessons/en/03-request-life.md. Any thread, no allocation.
 */
#ifndef KHARON_PROTO_GREETING_H
#define KHARON_PROTO_GREETING_H

#include <stdbool.h>
#include <stdint.h>

enum {
	GREETING_SIZE = 128,
	GREETING_LINE_SIZE = 64,
	/** Salt bytes the server sends (base64: 44 chars). */
	GREETING_SALT_SIZE = 32,
	/** Largest decoded salt accepted (Tarantool: < 64). */
	GREETING_SALT_MAX = 63,
	/** Smallest decoded salt accepted (the scramble uses 20 bytes). */
	GREETING_SALT_MIN = 20,
	GREETING_PROTOCOL_MAX = 32,
	UUID_SIZE = 16,
	UUID_STR_LEN = 36,
};

/** major.minor.patch packed as Tarantool's version_id(). */
static inline uint32_t
greeting_version_id(unsigned major, unsigned minor, unsigned patch)
{
	return (major << 16) | (minor << 8) | patch;
}

struct greeting {
	uint32_t version_id;
	/** "Binary" or "Lua console", NUL-terminated. */
	char protocol[GREETING_PROTOCOL_MAX];
	bool has_uuid;
	uint8_t uuid[UUID_SIZE];
	uint32_t salt_len;
	uint8_t salt[GREETING_SALT_MAX];
};

/**
 * Write the 128-byte greeting for Tarantool `version_id` speaking
 * "Binary", with instance `uuid` and `salt`. Cannot fail.
 */
void
greeting_encode(char out[GREETING_SIZE], uint32_t version_id,
		const uint8_t uuid[UUID_SIZE],
		const uint8_t salt[GREETING_SALT_SIZE]);

/**
 * Parse 128 greeting bytes. Returns 0 and fills `g`, or -1 with diag set
 * (ER_PROTOCOL "Invalid greeting") when the banner does not start with
 * "Tarantool ", has no '\n' at 63/127, has a bad version, protocol, uuid or
 * base64, or a salt outside [20, 63] bytes.
 */
int
greeting_decode(struct greeting *g, const char in[GREETING_SIZE]);

/** Format 16 uuid bytes as 36 chars + NUL (8-4-4-4-12, lowercase hex). */
void
uuid_format(char out[UUID_STR_LEN + 1], const uint8_t uuid[UUID_SIZE]);

/** Parse 36 chars of a uuid; 0 or -1 (no diag). */
int
uuid_parse(uint8_t uuid[UUID_SIZE], const char *s);

#endif /* KHARON_PROTO_GREETING_H */
