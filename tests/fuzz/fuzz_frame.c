/*
 * fuzz_frame — the server's input path over a byte stream that arrives in
 * pieces: iproto_frame() on what has been read so far, then
 * xrow_decode_request() on every complete packet, as net_enqueue_batch()
 * (src/iproto/net_input.c) does.
 *
 *   input: [flags][n][size_1 .. size_n][stream bytes .....................]
 *            │     └─ read sizes, cycled: the "network" delivers the
 *            │        stream in pieces of these sizes (0 counts as 1)
 *            └─ bits 0-1: max_packet = 16 MiB, 64, 1 KiB or 5 bytes
 *
 *   stream ──read(size_i)──► received ──iproto_frame──► OK / NEED_MORE /
 *                                        │              BAD / TOO_BIG
 *                                        └─OK─► xrow_decode_request(packet)
 *
 * Besides "no crash, no out-of-bounds read, no endless loop" (the
 * sanitizers and -timeout), the target checks the framing contract of
 * src/proto/xrow.h: OK never claims more bytes than were read, NEED_MORE
 * always asks for more than were read, and the packets and errors seen
 * when the stream is read in pieces are exactly those seen when it is read
 * whole (chunking invariance, docs/reliability.md §2). Every call gets
 * an exactly-sized copy of the bytes it may read (fuzz.h).
 *
 * Lesson: lessons/en/03-request-life.md.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "proto/mp.h"
#include "proto/xrow.h"

enum { FRAME_LOG_MAX = 4096 };

/** What the parser saw, in order: one entry per packet or framing error. */
struct frame_log {
	size_t n;
	struct frame_entry {
		enum iproto_frame_status status;
		size_t len;
		int rc;
		uint64_t sync;
		uint64_t type;
	} e[FRAME_LOG_MAX];
};

static void
frame_log_add(struct frame_log *log, enum iproto_frame_status st, size_t len,
	      int rc, const struct iproto_request *req)
{
	FUZZ_CHECK(log->n < FRAME_LOG_MAX);
	struct frame_entry *e = &log->e[log->n++];
	e->status = st;
	e->len = len;
	e->rc = rc;
	e->sync = req != NULL ? req->sync : 0;
	e->type = req != NULL && rc == 0 ? req->type : 0;
}

/** Decode one framed packet [p, p + len) like the server; log it. */
static void
frame_decode(struct frame_log *log, const char *p, size_t len)
{
	size_t prefix = mp_uint_len(*p);
	FUZZ_CHECK(prefix >= 1 && prefix <= len);
	char *pkt = fuzz_dup(p + prefix, len - prefix);
	struct iproto_request req;
	memset(&req, 0, sizeof(req));
	int rc = xrow_decode_request(&req, pkt, pkt + (len - prefix));
	FUZZ_CHECK(rc == 0 || rc == -1);
	frame_log_add(log, IPROTO_FRAME_OK, len, rc, &req);
	free(pkt);
}

/**
 * Parse the stream delivered in pieces (sizes cycled; none: all at once).
 * Stops at the first framing error, as the server closes the connection.
 */
static void
frame_run(struct frame_log *log, const char *stream, size_t size,
	  const uint8_t *sizes, size_t n_sizes, size_t max_packet)
{
	size_t received = 0, parsed = 0, turn = 0;
	log->n = 0;
	while (received < size) {
		size_t piece = size - received;
		if (n_sizes > 0) {
			size_t want = sizes[turn++ % n_sizes];
			if (want == 0)
				want = 1;
			if (want < piece)
				piece = want;
		}
		received += piece;
		for (;;) {
			size_t avail = received - parsed;
			if (avail == 0)
				break;
			char *buf = fuzz_dup(stream + parsed, avail);
			size_t len = 12345;
			enum iproto_frame_status st =
				iproto_frame(buf, buf + avail, max_packet, &len);
			if (st == IPROTO_FRAME_NEED_MORE) {
				FUZZ_CHECK(len > avail);
				free(buf);
				break;
			}
			if (st != IPROTO_FRAME_OK) {
				FUZZ_CHECK(st == IPROTO_FRAME_BAD ||
					   st == IPROTO_FRAME_TOO_BIG);
				FUZZ_CHECK(len == 0);
				frame_log_add(log, st, 0, -1, NULL);
				free(buf);
				return;
			}
			FUZZ_CHECK(len > 0 && len <= avail);
			FUZZ_CHECK(len - mp_uint_len(*buf) <= max_packet);
			frame_decode(log, buf, len);
			free(buf);
			parsed += len;
		}
	}
}

static bool
frame_log_equal(const struct frame_log *a, const struct frame_log *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct frame_entry *x = &a->e[i], *y = &b->e[i];
		if (x->status != y->status || x->len != y->len ||
		    x->rc != y->rc || x->sync != y->sync || x->type != y->type)
			return false;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_packets[] = {
		IPROTO_PACKET_MAX_DEFAULT, 64, 1024, 5,
	};
	static struct frame_log whole, pieces;
	if (size < 2)
		return 0;
	size_t max_packet = max_packets[data[0] & 3];
	size_t n_sizes = data[1] % 16;
	if (size < 2 + n_sizes)
		return 0;
	const uint8_t *sizes = data + 2;
	const char *stream = (const char *)data + 2 + n_sizes;
	size_t stream_size = size - 2 - n_sizes;

	frame_run(&whole, stream, stream_size, NULL, 0, max_packet);
	frame_run(&pieces, stream, stream_size, sizes, n_sizes, max_packet);
	FUZZ_CHECK(frame_log_equal(&whole, &pieces));
	return 0;
}
