/*
 * sha1.c — SHA-1 as FIPS 180-4 §6.1 describes it. See sha1.h.
 */
#include "base/sha1.h"

#include <string.h>

static uint32_t
rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

/** One 64-byte block into the state (the standard's 80 rounds). */
static void
sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void
sha1_init(struct sha1 *s)
{
	static const uint32_t h0[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
	};
	memcpy(s->h, h0, sizeof(h0));
	s->length = 0;
	s->used = 0;
}

void
sha1_update(struct sha1 *s, const void *data, size_t size)
{
	const uint8_t *p = data;
	s->length += size;
	while (size > 0) {
		size_t n = sizeof(s->block) - s->used;
		if (n > size)
			n = size;
		memcpy(s->block + s->used, p, n);
		s->used += n;
		p += n;
		size -= n;
		if (s->used == sizeof(s->block)) {
			sha1_block(s->h, s->block);
			s->used = 0;
		}
	}
}

void
sha1_final(struct sha1 *s, uint8_t digest[SHA1_DIGEST_SIZE])
{
	uint64_t bits = s->length * 8;
	uint8_t pad = 0x80;
	sha1_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		sha1_update(s, &pad, 1);
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, len, sizeof(len));
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (uint8_t)(s->h[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		digest[4 * i + 3] = (uint8_t)s->h[i];
	}
}
