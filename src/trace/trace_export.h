/*
 * trace_export.h — a trace file as text: JSON Lines (the golden format),
 * aligned text lines, or Chrome's Trace Event Format for Perfetto.
 *
 * `kharon trace dump|export|check` (src/cli/trace.c) and the tests drive
 * this: a trace_reader gives events, a trace_export turns each into output
 * as it comes, so a growing file can be followed to its END record.
 *
 *   FILE --trace_reader--> event --trace_export--> jsonl | text | chrome
 *
 * chrome: every event is a zero-length slice ("ph":"X") on the thread of
 * its cord (thread names as "M" metadata, one tid per cord in order of
 * first sight); a cbus message is an async slice from its first
 * `cpipe.push` to its `cmsg.hop` with last=1; each `cpipe.push` of a
 * message starts a flow (v2: bind_id + flow_out) that the next `cmsg.hop`
 * of that message ends (bind_id + flow_in), so Perfetto draws an arrow from
 * the sending thread to the receiving one. A push never delivered before
 * the trace ends gets a closing "cmsg.undelivered" slice on the receiving
 * cord, so every flow start has its end. ibuf events (wpos - rpos) and
 * events carrying conn + buf + end (obuf ends) also feed counters.
 * Messages and cords are looked up by hash (base/intmap.h): memory follows
 * how many of them the file names, never the value of an id.
 *
 * JSON (jsonl, chrome): a byte of a string that is not part of valid UTF-8
 * is written as \ufffd, so the output is valid JSON whatever the file holds.
 *
 * Lesson: lessons/en/00-scenarios.md; reference of every event: docs/trace.md.
 */
#ifndef KHARON_TRACE_TRACE_EXPORT_H
#define KHARON_TRACE_TRACE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"
#include "trace/trace_file.h"
#include "trace/trace_record.h"

enum trace_format {
	TRACE_FORMAT_JSONL,
	TRACE_FORMAT_TEXT,
	TRACE_FORMAT_CHROME,
};

struct trace_export;

/**
 * Parse "jsonl", "text" or "chrome". Returns 0, or -1 for anything else
 * (diag not set).
 */
int
trace_format_parse(const char *name, enum trace_format *format);

/**
 * An exporter writing `format` to `out` (not owned, not closed).
 * Returns NULL on OOM (diag set).
 */
struct trace_export *
trace_export_new(FILE *out, enum trace_format format);

/**
 * Announce the file header (chrome: a thread name for every cord it lists,
 * so cords that emit nothing still show). Returns 0 or -1 (diag set).
 */
int
trace_export_meta(struct trace_export *x, const struct trace_meta *m);

/**
 * Write one event. Returns 0 or -1 (OOM, write error; diag set).
 * Cost: O(fields); chrome: expected O(1) more (hash lookups of the cord
 * and the message id).
 */
int
trace_export_event(struct trace_export *x, const struct trace_event *e);

/**
 * End the output (chrome: close undelivered flows and open slices, then
 * the JSON). Returns 0 or -1 (write error; diag set).
 */
int
trace_export_finish(struct trace_export *x);

void
trace_export_delete(struct trace_export *x);

/** What trace_export_file() saw. */
struct trace_export_stats {
	/** Records read whole (trace_reader_n_records). */
	uint64_t n_records;
	uint64_t n_events;
	bool has_end;
	/** Records torn by killed writers, skipped (trace_reader_skips). */
	struct trace_reader_skips skips;
	/** Bytes at the end that are no whole record (trace_reader_tail). */
	uint64_t tail;
	/** Where they begin (the last good offset). */
	uint64_t tail_off;
	/** Writer processes seen (format 2). */
	int n_writers;
};

/**
 * Read the trace file `path` and export it to `out` (out NULL: only
 * check). With `follow`, wait (polling every 10 ms) while the file grows
 * until its END record; without, stop at the current end. Returns 0 when
 * the file read cleanly (has_end tells whether it was complete, tail
 * whether it ends in a torn or bad record, skips what torn records of
 * killed writers were passed over), -1 on the first problem (diag set:
 * corruption with its offset, I/O, OOM); stats are filled in both cases.
 */
int
trace_export_file(const char *path, FILE *out, enum trace_format format,
		  bool follow, struct trace_export_stats *stats);

#endif /* KHARON_TRACE_TRACE_EXPORT_H */
