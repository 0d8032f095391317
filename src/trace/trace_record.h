/*
 * trace_record.h — one record of the trace file: framing, checksum and the
 * MsgPack payload that carries events (event <-> bytes).
 *
 * The trace file (trace_file.h) is a header followed by records. This layer
 * knows how one record looks on disk and nothing about files:
 *
 *   +--------+-----------+-----------+-----------+-----------+---------+
 *   | marker | u32 len LE| u32 writer| u32 crc LE| u32 hcrc  | payload |
 *   +--------+-----------+-----------+-----------+-----------+---------+
 *   marker = c1 'K' 'H' 'R' (0xc1 is the one byte MsgPack never uses)
 *   crc    = zlib crc32 over the 4 length bytes, then the payload
 *   hcrc   = crc32 over the first 16 bytes, then the record's own file
 *            offset as a u64 LE (the writer knows it under the file lock)
 *   writer = the id of the process that wrote the record (trace_file.h)
 *
 * The marker and hcrc are what a reader resynchronises on after a record
 * torn by a killed writer (trace_file.h; LevelDB's log has the same need
 * and solves it with fixed blocks instead): a header that passes hcrc at
 * the offset where it lies was written there by a writer, and a record
 * copied into a payload (a string of an event) cannot pass it anywhere
 * but at the offset its maker guessed. Checksumming the length too means
 * a record of zeros never validates (crc32 of "" is 0, crc32 of four zero
 * bytes is not), so a zero-filled tail cannot pass for an empty record.
 *
 * Format version 1 (trace_file.h) framed records with len and crc only
 * (TRACE_RECORD_FRAME_V1 bytes); readers still read it.
 *
 * The payload is a *stream* of MsgPack values (no outer array, so a batch
 * can grow without patching a count):
 *
 *   META    1, {"scenario": str, "seed": uint, "mode": str,
 *               "cords": [str...], "created_by": str}
 *   EVENTS  2, ev, ev, ...      each ev = [seq, t, cord, ev, k1, v1, k2, v2...]
 *                               v = int (any MsgPack int) or str
 *   END     3
 *   WRITER  4, pid, start       a writer joined: its pid and its start
 *                               (CLOCK_REALTIME ns); the frame's writer id
 *                               names it in every record it writes
 *
 *   PACKED  5, item, item, ...  events, packed (format version 3; below)
 *
 * One EVENTS or PACKED record is one *batch*: every event a writer
 * collected between two flushes. Keys and values keep their order, so decoding gives back
 * exactly what was encoded (strings with an embedded NUL are refused: events
 * are C strings).
 *
 * The packed encoding (what the trace pump writes, trace_pump.h): an event
 * site always emits the same name and keys, so a record names each
 * (name, keys, kinds) *shape* once and then refers to it by number; seq and
 * t are deltas from the record's previous event; integers are zigzag
 * LEB128 varints (Protocol Buffers' sint64). A push event takes ~20 bytes
 * instead of ~85 in EVENTS. Every record is self-contained — shapes,
 * cord and deltas start afresh in each — so a reader needs nothing from
 * earlier records (torn records are skipped as before). Items:
 *
 *   varint 0, str ev, varint n, n x (str key, byte kind)  shape (0, 1, ...)
 *                                              kind 0 = int, 1 = str
 *   varint 1, str cord                         the cord of what follows
 *   varint 2 + shape, zz seq delta, zz t delta, n x value
 *                                              value = zz int | str
 *   str = varint length, bytes (no NUL);  zz = zigzag varint of an int64;
 *   the deltas are of the u64 seq and t, wrapping
 *
 * A version 3 file may hold EVENTS records too (kharon's simulator and
 * scenario runs still write them: their cords hand over ready-encoded
 * batches, trace_file.h).
 *
 * The MsgPack code is hand-written for the handful of types used here, so
 * every allocation goes through mem.h and every read is bounds-checked
 * (the bytes come from a file that may be torn or corrupt).
 *
 * Lesson: lessons/en/00-scenarios.md.
 */
#ifndef KHARON_TRACE_TRACE_RECORD_H
#define KHARON_TRACE_TRACE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

enum {
	/** Marker, length, writer, crc, hcrc in front of every payload. */
	TRACE_RECORD_FRAME = 20,
	/** Length + crc: the frame of format version 1. */
	TRACE_RECORD_FRAME_V1 = 8,
	/** Largest payload accepted by the writer and the reader. */
	TRACE_RECORD_MAX = 64 << 20,
};

enum trace_record_type {
	TRACE_RECORD_META = 1,
	TRACE_RECORD_EVENTS = 2,
	TRACE_RECORD_END = 3,
	TRACE_RECORD_WRITER = 4,
	/** Events in the packed encoding (format version 3). */
	TRACE_RECORD_PACKED = 5,
};

/** The 4 bytes every record starts with (format version 2). */
extern const char trace_record_marker[4];

/** The file header's contents (scenario, seed, mode, cords, creator). */
struct trace_meta {
	const char *scenario;
	uint64_t seed;
	/** "sim" or "real". */
	const char *mode;
	const char *const *cords;
	int n_cords;
	const char *created_by;
};

/**
 * A growing buffer holding one framed record being built. Embedded by the
 * writer; create/destroy in the caller's memory.
 */
struct trace_record_buf {
	char *data;
	size_t used;
	size_t cap;
};

void
trace_record_buf_create(struct trace_record_buf *b);

void
trace_record_buf_destroy(struct trace_record_buf *b);

/**
 * Start a record of `type` in `b`, dropping whatever `b` held: the frame is
 * reserved and the type tag written. Returns 0, or -1 on OOM (diag set).
 */
int
trace_record_begin(struct trace_record_buf *b, enum trace_record_type type);

/**
 * Append one event to an EVENTS record begun in `b`. The event is copied.
 * Returns 0, or -1 (OOM, or a field without a key; diag set) with `b`
 * unchanged. Cost: O(size of the event).
 */
int
trace_record_add_event(struct trace_record_buf *b, const struct trace_event *e);

/**
 * The dictionary of a PACKED record being built: its shapes (in a small
 * hash table keyed by the name and key pointers), the current cord and the
 * previous event's seq and t. create/destroy in the caller's memory;
 * reset whenever a new PACKED record is begun.
 */
struct trace_record_packer {
	struct trace_packer_slot *slots;
	uint32_t n_slots;
	uint32_t n_shapes;
	/** Bumped by reset: a slot of an older generation is empty. */
	uint32_t gen;
	/** Copies of shape names and keys (for by-content comparison). */
	char *strs;
	size_t strs_used, strs_cap;
	/** Key pointers and kinds of every shape, by slot's `at`. */
	const char **keys;
	unsigned char *kinds;
	size_t keys_used, keys_cap;
	char cord[32];
	/** Where the cord's name was (compared alone with is_static). */
	const char *cord_ptr;
	bool has_cord;
	uint64_t prev_seq, prev_t;
};

void
trace_record_packer_create(struct trace_record_packer *p);

void
trace_record_packer_destroy(struct trace_record_packer *p);

/** Forget the record's shapes, cord and deltas. O(1). */
void
trace_record_packer_reset(struct trace_record_packer *p);

/**
 * Append one event to a PACKED record begun in `b` whose dictionary is
 * `p`. With `is_static` the event's name, keys and cord are taken to be
 * strings that never change at their address (literals; the trace pump's
 * interned cord names): a shape and the cord are recognised by pointers
 * alone; otherwise by pointers and contents (any caller).
 * Returns 0, or -1 (OOM, a field without a key; diag set) with `b` and
 * `p` unchanged. Cost: O(size of the event), plus the shape's names the
 * first time it appears in the record.
 */
int
trace_record_add_packed(struct trace_record_buf *b,
			struct trace_record_packer *p,
			const struct trace_event *e, bool is_static);

/**
 * trace_record_add_packed() with is_static for an event whose values are
 * already in the PACKED encoding: `len` bytes at `values`, one value per
 * key of `keys[n]` (kinds[i]: 0 an int, 1 a string), made by a trusted
 * encoder (the trace pump's emitting side). `ev`, the keys and `cord` are
 * compared by address. The values are copied as they are.
 */
int
trace_record_add_packed_values(struct trace_record_buf *b,
			       struct trace_record_packer *p, uint64_t seq,
			       uint64_t t, const char *cord, const char *ev,
			       uint32_t n, const char *const *keys,
			       const unsigned char *kinds, const char *values,
			       size_t len);

/**
 * Append the map of a META record begun in `b`. NULL strings encode as "".
 * Returns 0 or -1 (OOM; diag set) with `b` unchanged.
 */
int
trace_record_add_meta(struct trace_record_buf *b, const struct trace_meta *m);

/**
 * Append the pid and start time of a WRITER record begun in `b`.
 * Returns 0 or -1 (OOM; diag set) with `b` unchanged.
 */
int
trace_record_add_writer(struct trace_record_buf *b, uint32_t pid,
			uint64_t start);

/**
 * Decode a WRITER payload [p, end) (after the tag). Returns 0, or -1 when
 * the bytes are not one (diag set).
 */
int
trace_record_writer_decode(const char *p, const char *end, uint32_t *pid,
			   uint64_t *start);

/**
 * Fill the marker, length and crc of the record in `b`. The writer id and
 * hcrc are sealed by trace_record_seal() once the offset is known.
 * Returns 0, or -1 when the payload exceeds TRACE_RECORD_MAX (diag set).
 * Cost: O(size) for the checksum.
 */
int
trace_record_finish(struct trace_record_buf *b);

/**
 * Put `writer` into the finished record at `frame` and seal its header
 * for the file offset `offset` where it is about to be written. O(1).
 */
void
trace_record_seal(char *frame, uint32_t writer, uint64_t offset);

/**
 * The hcrc a frame (its first 16 bytes at `frame`) must carry when it
 * lies at `offset`. O(1).
 */
uint32_t
trace_record_head_crc(const char *frame, uint64_t offset);

/**
 * The checksum a frame must carry for `len` payload bytes at `payload`.
 * Cost: O(len).
 */
uint32_t
trace_record_crc(uint32_t len, const char *payload);

/** Read a little-endian u32 / write one (4 bytes). */
uint32_t
trace_record_load_u32(const char *p);

void
trace_record_store_u32(char *p, uint32_t v);

/**
 * Read the type tag at the start of a payload. On success *rest points past
 * it. Returns 0, or -1 when the payload starts with no known tag (diag set).
 */
int
trace_record_type(const char *payload, const char *end,
		  enum trace_record_type *type, const char **rest);

/**
 * Events decoded from one EVENTS record. Every pointer inside `events`
 * (cord, ev, fields, keys, strings) points into this batch's own memory,
 * valid until the next decode into the same batch or its destroy.
 * create/destroy in the caller's memory; the arrays are reused.
 */
struct trace_record_batch {
	/* Shapes of a PACKED record being decoded: field count, first. */
	uint32_t *shape_n;
	uint32_t *shape_at;
	size_t cap_shapes;
	unsigned char *kinds;
	const char **names;
	size_t cap_kinds;
	struct trace_event *events;
	int n_events;
	int cap_events;
	struct trace_field *fields;
	size_t cap_fields;
	char *strs;
	size_t cap_strs;
};

void
trace_record_batch_create(struct trace_record_batch *b);

void
trace_record_batch_destroy(struct trace_record_batch *b);

/**
 * Decode the events of an EVENTS payload [p, end) (after the tag) into
 * `batch`, replacing its contents. Returns 0, or -1 when the bytes are not
 * a valid event stream or on OOM (diag set; batch then holds no events).
 * Cost: O(end - p), two passes (validate and count, then fill).
 */
int
trace_record_batch_decode(struct trace_record_batch *batch, const char *p,
			  const char *end);

/**
 * The same for a PACKED payload [p, end) (after the tag). Field keys and
 * names point into the batch (shared by events of one shape).
 */
int
trace_record_batch_decode_packed(struct trace_record_batch *batch,
				 const char *p, const char *end);

/**
 * Decode a META payload's map [p, end) (after the tag). Returns one
 * allocated block owning every string (free it with mem_free), or NULL
 * (bad bytes or OOM; diag set).
 */
struct trace_meta *
trace_meta_decode(const char *p, const char *end);

/**
 * Copy `e` into one allocated block that owns its strings and fields (for
 * a caller that keeps events, e.g. the viewer's timeline). Free it with
 * mem_free. Returns NULL on OOM (diag set). Cost: O(size of the event).
 */
struct trace_event *
trace_event_dup(const struct trace_event *e);

#endif /* KHARON_TRACE_TRACE_RECORD_H */
