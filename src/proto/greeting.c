/*
 * greeting.c — encode and decode the 128-byte greeting. See greeting.h.
 */
#include "proto/greeting.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "proto/errcode.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 of n bytes into out (4 * ceil(n / 3) chars, '=' padded). */
static size_t
base64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	return o;
}

static int
base64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;
	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/**
 * Decode base64 chars [in, in + n) (no whitespace; '=' only at the end).
 * Returns the byte count or -1; writes at most `cap` bytes.
 */
static int
base64_decode(uint8_t *out, size_t cap, const char *in, size_t n)
{
	if (n % 4 != 0)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int pad = 0;
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			char c = in[i + k];
			int d;
			if (c == '=' && i + 4 == n && k >= 2) {
				pad++;
				d = 0;
			} else if (pad > 0 || (d = base64_value(c)) < 0) {
				return -1;
			}
			v = (v << 6) | (uint32_t)d;
		}
		int bytes = 3 - pad;
		if (o + (size_t)bytes > cap)
			return -1;
		for (int k = 0; k < bytes; k++)
			out[o++] = (uint8_t)(v >> (16 - 8 * k));
	}
	return (int)o;
}

void
uuid_format(char out[UUID_STR_LEN + 1], const uint8_t uuid[UUID_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < UUID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
uuid_parse(uint8_t uuid[UUID_SIZE], const char *s)
{
	int b = 0;
	for (int i = 0; i < UUID_STR_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		uuid[b++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

void
greeting_encode(char out[GREETING_SIZE], uint32_t version_id,
		const uint8_t uuid[UUID_SIZE],
		const uint8_t salt[GREETING_SALT_SIZE])
{
	memset(out, ' ', GREETING_SIZE);
	char text[UUID_STR_LEN + 1];
	uuid_format(text, uuid);
	char line[GREETING_LINE_SIZE];
	int n = snprintf(line, sizeof(line), "Tarantool %u.%u.%u (Binary) %s",
			 (unsigned)(version_id >> 16),
			 (unsigned)((version_id >> 8) & 0xff),
			 (unsigned)(version_id & 0xff), text);
	/* At most 10 + 3*3 + 2 + 10 + 36 = 67 chars for absurd versions. */
	if (n > GREETING_LINE_SIZE - 1)
		n = GREETING_LINE_SIZE - 1;
	memcpy(out, line, (size_t)n);
	out[GREETING_LINE_SIZE - 1] = '\n';
	base64_encode(out + GREETING_LINE_SIZE, salt, GREETING_SALT_SIZE);
	out[GREETING_SIZE - 1] = '\n';
}

static int
greeting_bad(const char *why)
{
	diag_set_client(ER_PROTOCOL, why);
	return -1;
}

/** Parse a decimal number of at most 3 digits at *p, advance. */
static int
parse_small(const char **p, const char *end, unsigned *v)
{
	const char *s = *p;
	unsigned n = 0;
	int digits = 0;
	while (s < end && *s >= '0' && *s <= '9' && digits < 3) {
		n = n * 10 + (unsigned)(*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || n > 255)
		return -1;
	*v = n;
	*p = s;
	return 0;
}

int
greeting_decode(struct greeting *g, const char in[GREETING_SIZE])
{
	memset(g, 0, sizeof(*g));
	const char *line = in;
	const char *end = in + GREETING_LINE_SIZE - 1;
	if (in[GREETING_LINE_SIZE - 1] != '\n' || in[GREETING_SIZE - 1] != '\n')
		return greeting_bad("Invalid greeting: no line ends at 63/127");
	if (memcmp(line, "Tarantool ", 10) != 0)
		return greeting_bad("Invalid greeting: not a Tarantool server");
	const char *p = line + 10;
	unsigned major, minor, patch;
	if (parse_small(&p, end, &major) != 0 || p >= end || *p++ != '.' ||
	    parse_small(&p, end, &minor) != 0 || p >= end || *p++ != '.' ||
	    parse_small(&p, end, &patch) != 0)
		return greeting_bad("Invalid greeting: bad version");
	g->version_id = greeting_version_id(major, minor, patch);
	/* A version may carry a suffix like "-123-gabcdef": skip to ' '. */
	while (p < end && *p != ' ')
		p++;
	if (end - p < 3 || p[0] != ' ' || p[1] != '(')
		return greeting_bad("Invalid greeting: no protocol");
	p += 2;
	const char *close = memchr(p, ')', (size_t)(end - p));
	if (close == NULL || close == p ||
	    close - p >= GREETING_PROTOCOL_MAX)
		return greeting_bad("Invalid greeting: bad protocol");
	memcpy(g->protocol, p, (size_t)(close - p));
	p = close + 1;
	if (g->version_id >= greeting_version_id(1, 6, 7)) {
		if (end - p < 1 + UUID_STR_LEN || *p != ' ' ||
		    uuid_parse(g->uuid, p + 1) != 0)
			return greeting_bad("Invalid greeting: bad uuid");
		g->has_uuid = true;
		p += 1 + UUID_STR_LEN;
	}
	for (; p < end; p++) {
		if (*p != ' ')
			return greeting_bad("Invalid greeting: junk in line 1");
	}
	/* Line 2: base64 salt, then spaces up to the '\n'. */
	const char *salt = in + GREETING_LINE_SIZE;
	const char *salt_end = salt;
	const char *line2_end = in + GREETING_SIZE - 1;
	while (salt_end < line2_end && *salt_end != ' ')
		salt_end++;
	for (const char *s = salt_end; s < line2_end; s++) {
		if (*s != ' ')
			return greeting_bad("Invalid greeting: junk in line 2");
	}
	int n = base64_decode(g->salt, sizeof(g->salt), salt,
			      (size_t)(salt_end - salt));
	if (n < GREETING_SALT_MIN)
		return greeting_bad("Invalid greeting: bad salt");
	g->salt_len = (uint32_t)n;
	return 0;
}
