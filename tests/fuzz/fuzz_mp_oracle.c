/*
 * fuzz_mp_oracle — our MsgPack codec (src/proto/mp.h) against msgpack-c on
 * arbitrary bytes: the same verdict (complete / truncated / invalid), and
 * for a complete value the same length and the same values
 * (tests/fuzz/mp_oracle.h; the unit suite mp_oracle holds the hand-made and
 * generated cases). Then, for a value both call complete, msgpack-c's
 * re-pack of its object (the shortest encodings) is held to the same rule,
 * so non-canonical input gets compared twice.
 *
 *   input ──mp_check_why + decoders──┐
 *         ──msgpack_unpack_next──────┴─► same verdict, length, values
 *              └─ msgpack_pack_object ──► again
 *
 * Inputs with an array/map header announcing more elements than the input
 * has bytes are not given to msgpack-c (it allocates for all of them first).
 *
 * Lesson: lessons/en/03-request-life.md.
 */
#include "fuzz.h"
#include "mp_oracle.h"

static void
oracle_check(const char *p, size_t n)
{
	char why[256];
	const char *diff = mp_oracle_compare(p, n, why, sizeof(why));
	if (diff != NULL)
		fprintf(stderr, "fuzz_mp_oracle: %s\n", diff);
	FUZZ_CHECK(diff == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	oracle_check(buf, size);
	if (!mp_oracle_is_fed(buf, size)) {
		free(buf);
		return 0;
	}
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	if (msgpack_unpack_next(&u, buf, size, &off) ==
	    MSGPACK_UNPACK_SUCCESS) {
		msgpack_sbuffer sb;
		msgpack_sbuffer_init(&sb);
		msgpack_packer pk;
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (msgpack_pack_object(&pk, u.data) == 0) {
			char *again = fuzz_dup(sb.data, sb.size);
			oracle_check(again, sb.size);
			free(again);
		}
		msgpack_sbuffer_destroy(&sb);
	}
	msgpack_unpacked_destroy(&u);
	free(buf);
	return 0;
}
