/*
 * trace_file.h — the trace file: an append-only log of event batches, its
 * writer (any number of processes) and its live reader (the viewer,
 * `kharon trace`).
 *
 * Layout (DESIGN.md §8; records are framed and checksummed as described in
 * trace_record.h):
 *
 *   offset 0   "KHARONTR"                 8 bytes of magic
 *   offset 8   u32 LE format version      TRACE_FILE_VERSION (3; 2, 1 are read)
 *   offset 12  record META                scenario, seed, mode, cords, creator
 *              record WRITER              the creator's pid and start time
 *              record EVENTS or PACKED    one batch = one writer's flush
 *              record WRITER              another process joined
 *              record EVENTS ...
 *              record END                 written once, on a clean close
 *
 * Every record's frame names its writer (a random 32-bit id per
 * trace_writer_new), so events of two processes sharing a file — both with
 * cords "tx", "net0" and their own seq — are told apart: the reader numbers
 * writers 1, 2, ... in the order it meets them (trace_event.writer).
 *
 * The header map is itself a checksummed record, so a torn header is seen
 * as "not written yet" and a damaged one as corruption.
 *
 * Several writers, no server (the Durus scheme):
 *
 *   server process --flush--> flock(FILE.lock) write(batch) unlock --+
 *   client process --flush--> flock(FILE.lock) write(batch) unlock --+--> FILE
 *                                                                    |
 *   viewer process <---- pread from its last good offset, no lock ---+
 *
 * A batch goes out in one write() on an O_APPEND descriptor while the
 * writer holds an exclusive lock on a separate file FILE.lock, so batches
 * of different processes never interleave. Readers never lock: they may see
 * half of a write (docs/reliability.md §3, rule 4), which they
 * treat as "not written yet" and read again later.
 *
 * Who ends the file, who starts it afresh: every writer holds a SHARED
 * flock on FILE.writers from open to close (the kernel drops it when the
 * process dies, even by SIGKILL), so "can I take it EXCLUSIVE without
 * waiting?" means "am I the only writer alive?":
 *
 *   open  (under FILE.lock): file missing or empty   -> write the header
 *                            trace, EX on .writers ok -> nobody alive: an
 *                                ended or dead (crashed) run; start afresh
 *                            trace, EX refused       -> join: append
 *                            then hold .writers SHARED
 *   close (under FILE.lock): EX on .writers ok       -> last one: write END
 *                            then drop .writers
 *
 * Both decisions are taken under FILE.lock, so two writers closing at once
 * cannot both see the other alive: the second finds the first gone.
 * Starting afresh never rewrites the old file: the new header is written
 * to FILE.new-XXXXXX and renamed over FILE (a new inode), so a reader still
 * following the old run sees "replaced", never a mix of both.
 *
 * A writer killed in the middle of write() (SIGKILL; the kernel stops
 * copying at a page boundary) leaves a torn record: the first k bytes of
 * it, then — the lock released by its death — whatever the next writer
 * appends. Readers resynchronise past it, as LevelDB's log reader does
 * past a bad block, but on a per-record marker (trace_record.h):
 *
 *   ... | A rec | B rec, cut at k bytes | A rec | A rec | END
 *                 ^ header ok, claims n > k bytes
 *                                       ^ first valid record (marker +
 *                                         hcrc for this offset + crc)
 *                 '---- skipped: one torn record, k bytes, writer B ----'
 *
 * A torn record is recognised, not guessed: the next whole valid record
 * starts inside the span its valid header claims (or its header itself was
 * cut: fewer than 20 bytes that begin like a marker). A writer holds the
 * lock for its whole write, so another writer's record inside that span
 * means the first write stopped there. Anything else that fails is
 * corruption and stops the reader as before. The reader counts what it
 * skipped (trace_reader_skips), and flags a torn record whose writer
 * writes again later — then it did not die, and `kharon trace check`
 * fails. The alternative, writers repairing a torn tail under the lock
 * before appending, needs a surviving writer, rewrites bytes a reader may
 * have cached, and cannot know how long the cut record meant to be; the
 * marker needs nothing but the bytes.
 *
 * Reader rules (the LevelDB log reader's, §3.2):
 *  - a short tail (header or payload past the end) is "not yet", never an
 *    error; a tail of zero bytes is not a record;
 *  - a torn record followed by a whole valid record is skipped (above);
 *  - a record that fails its checksum while a valid record follows where
 *    it claims to end is corruption: reported with its offset, never
 *    returned; the reader stops there (everything after a hole is
 *    untrusted). A bad record with no valid record after it yet is taken
 *    as still being written until more bytes arrive (trace_reader_tail()
 *    says how many bytes wait so);
 *  - after END nothing may follow; bytes after it are an error;
 *  - the file shrinking (any shrink: it only grows when written by the
 *    rules), or the path naming another file (a new run replaced it), is
 *    reported, sticky, and the cached bytes are dropped: no event of the
 *    old file is returned after that (the caller reopens, like `tail -F`).
 *    Events of a record decoded before are still handed out.
 * Format 1 (no marker, no writer) is read with the old rules: no
 * resynchronisation, one unnamed writer. Format 2 is format 3 without
 * PACKED records (the framing is the same), read by the same code.
 * Writers write format 3 only, and refuse to join a file of an older
 * format another (older) writer is still writing.
 * Known limits: damage at the very end of the file, with nothing valid
 * after it, looks like a torn tail and is waited on (`check` reports it as
 * the file ending in a bad record); a file rewritten in place that grows
 * past its old size between two looks is not noticed (kharon's writers
 * never rewrite in place).
 *
 * Lesson: lessons/en/00-scenarios.md.
 */
#ifndef KHARON_TRACE_TRACE_FILE_H
#define KHARON_TRACE_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"
#include "trace/trace_record.h"

enum {
	/**
	 * 2: records carry a marker, the writer and a header checksum.
	 * 3: PACKED event records may appear (trace_record.h).
	 */
	TRACE_FILE_VERSION = 3,
	/** Magic (8) + version (4): where the META record starts. */
	TRACE_FILE_PREFIX = 12,
	/** A batch is flushed once its record reaches this many bytes. */
	TRACE_WRITER_FLUSH_SIZE = 64 * 1024,
};

extern const char trace_file_magic[8];

/* ------------------------------------------------------------- writer */

struct trace_writer;

/**
 * Open `path` for appending events. A missing or empty file gets the
 * header made from `meta` (NULL: empty scenario, seed 0, mode "real",
 * created_by "kharon"). An existing trace that no other writer is alive
 * for — it ended, or its writers died without END — is started afresh
 * with that header, by renaming a new file over it. A trace other writers
 * are appending to must have a whole header (its meta is kept, `meta` is
 * ignored) and is joined. A file that is not a trace is never touched.
 * Creates `path`.lock and `path`.writers (kept: other writers use them),
 * and holds `path`.writers shared until trace_writer_close().
 * Returns the writer or NULL (I/O error, not a trace file, torn header
 * while writers are alive, OOM; diag set).
 * Thread: any. Cost: a few syscalls under the file lock.
 */
struct trace_writer *
trace_writer_new(const char *path, const struct trace_meta *meta);

/**
 * Encode `e` (copied) into the in-memory batch; flushes when the batch
 * reaches the flush size. Returns 0, or -1 (OOM, a flush failed; diag set).
 * Thread: any (a mutex guards the batch). Cost: O(size of e), plus a
 * write() when the batch is full.
 */
int
trace_writer_add(struct trace_writer *w, const struct trace_event *e);

/**
 * From now on events go into PACKED records (trace_record.h): what the
 * trace pump asks for (trace_pump.h). Events added before are written
 * first, as an EVENTS record (an error doing so is kept for
 * trace_writer_close). Thread: any.
 */
void
trace_writer_set_packed(struct trace_writer *w);

/** Take / release the writer's mutex (for a run of the call below). */
void
trace_writer_lock(struct trace_writer *w);

void
trace_writer_unlock(struct trace_writer *w);

/**
 * trace_writer_add() under trace_writer_lock(). With `is_static` (a
 * packed writer only) the caller guarantees that the event's name, keys
 * and cord are strings that never change at their address (they are
 * compared by pointer; the trace pump's case). Flushes when the batch is
 * full. Returns 0 or -1 (diag set). Cost: O(size of e), no strlen of the
 * name or keys once their shape is in the record.
 */
int
trace_writer_add_locked(struct trace_writer *w, const struct trace_event *e,
			bool is_static);

/**
 * The same, static, for an event whose values are already PACKED-encoded
 * (trace_record_add_packed_values: the trace pump). Packed writers only.
 */
int
trace_writer_add_values_locked(struct trace_writer *w, uint64_t seq,
			       uint64_t t, const char *cord, const char *ev,
			       uint32_t n, const char *const *keys,
			       const unsigned char *kinds, const char *values,
			       size_t len);/**
 * Append the batch (if any) to the file as one record, with one write()
 * under the exclusive lock on `path`.lock. After a failed write the file is
 * truncated back to where the batch began and the batch is dropped.
 * Returns 0 or -1 (diag set). Thread: any. Blocks while another writer
 * holds the lock.
 */
int
trace_writer_flush(struct trace_writer *w);

/**
 * Flush, then with `end` append the END record if this is the last writer
 * alive on the file (no other process or writer holds it open: data after
 * END is an error for readers, so only the last one ends it); close and
 * free `w`. `end` false leaves the file without END (a run that failed:
 * the next writer starts it afresh). Returns 0, or -1 when a flush, the
 * END record or an earlier trace_writer_sink() call failed (diag set to
 * that error). `w` is freed in both cases.
 */
int
trace_writer_close(struct trace_writer *w, bool end);

/**
 * A trace_sink_f: trace_set_sink(trace_writer_sink, w). Adds the event;
 * a sink cannot fail, so the first error is kept and reported by
 * trace_writer_close(). Thread-safe: every emitting cord may call it (they
 * serialize on the writer's mutex, one lock per event: prefer the per-cord
 * sink below).
 */
void
trace_writer_sink(void *arg, const struct trace_event *e);

/**
 * The per-cord sink: each emitting thread fills its own buffer (one per
 * running cord) with no lock; the buffer goes to the writer's batch, under
 * the writer's mutex, when it reaches 16 KiB, when its first event is
 * 50 ms old (by the cord's clock), when the thread leaves the cord
 * (trace_writer_cord_leave) and on close. Install both with
 * trace_writer_install(). Thread-safe. Cost: O(size of e), plus a memcpy
 * of the buffer under the mutex per batch.
 *
 * (Real-thread servers use the trace pump instead, trace_pump.h: no
 * encoding on the emitting cords, events merged by t.)
 *
 * Order: within one cord events stay in order; batches of different cords
 * interleave in the file in the order they are handed over. On the
 * simulator a cord hands its batch over at the end of every loop iteration
 * and all cords run on one thread, so the file holds events in seq order
 * and the same seed gives the same bytes. On real threads a reader sorts
 * by seq if it needs the global order.
 * Known limit: a real-thread cord that goes idle keeps its last events
 * (under 50 ms of them) until it emits again, ends or the writer closes.
 */
void
trace_writer_cord_sink(void *arg, const struct trace_event *e);

/** A trace_leave_f: hand the calling thread's cord batch to the writer. */
void
trace_writer_cord_leave(void *arg);

/**
 * The idle hook (trace.h): hand the cord batch over and write the
 * writer's batch to the file now — the cord is about to wait, and a live
 * reader should not wait with it. Thread-safe.
 */
void
trace_writer_cord_idle(void *arg);

/**
 * trace_set_batch_sink(trace_writer_cord_sink, trace_writer_cord_leave, w)
 * and trace_set_idle_hook(trace_writer_cord_idle).
 * Call while no cord runs; uninstall (trace_set_sink(NULL, NULL)) before
 * trace_writer_close(), after every cord has stopped.
 */
void
trace_writer_install(struct trace_writer *w);

/** Flush when a batch reaches `size` bytes (1: every event). */
void
trace_writer_set_flush_size(struct trace_writer *w, size_t size);

/**
 * Test hook: the next flush writes its record in two write() calls (first
 * half, `between(arg)`, the rest), both under the lock, so a reader can be
 * caught looking at half a record. One-shot.
 */
void
trace_writer_split_next(struct trace_writer *w, void (*between)(void *arg),
			void *arg);

/* ------------------------------------------------------------- reader */

struct trace_reader;

/** trace_reader_next() results. */
enum {
	TRACE_READ_ERROR = -1,
	TRACE_READ_AGAIN = 0,
	TRACE_READ_EVENT = 1,
	TRACE_READ_END = 2,
};

/**
 * Open `path` for reading. The file may still be empty or growing: the
 * header is read by the first trace_reader_next() that finds it complete.
 * Returns the reader or NULL (cannot open, OOM; diag set).
 */
struct trace_reader *
trace_reader_new(const char *path);

void
trace_reader_delete(struct trace_reader *r);

/**
 * Read the next event into `*out`. Its strings and fields belong to the
 * reader and stay valid until the next call or delete (copy with
 * trace_event_dup() to keep it).
 * Returns TRACE_READ_EVENT (got one); TRACE_READ_AGAIN (no complete record
 * yet: poll again later, reading resumes from the last good offset);
 * TRACE_READ_END (the END record was read; returned again on every later
 * call); TRACE_READ_ERROR (diag set: corruption with its byte offset, data
 * after END, not a trace file, the file truncated below the offset or
 * replaced, I/O error; checked on every call that reads the file, even
 * after END). Corruption, truncation and replacement are sticky:
 * every later call fails the same way; reopen to start over. OOM and I/O
 * errors are not: the offset stays and the next call tries again.
 * Records torn by killed writers are skipped on the way (counted in
 * trace_reader_skips()); `out->writer` says which writer the event is of.
 * Thread: the reader's owner only. Cost: amortized O(record); a pread of
 * at least 64 KiB when the buffered window runs out; while a bad record
 * waits for what follows it, a scan of the bytes after it per call.
 */
int
trace_reader_next(struct trace_reader *r, struct trace_event *out);

/**
 * Records fully read so far, the header's META and the END included (what
 * `kharon trace check` counts). A header not yet complete counts 0.
 */
uint64_t
trace_reader_n_records(const struct trace_reader *r);

/** What the reader skipped: records torn by writers killed mid-write(). */
struct trace_reader_skips {
	/** Torn records skipped, and their bytes. */
	uint64_t n_torn;
	uint64_t torn_bytes;
	/**
	 * Of those, records whose writer wrote again after them: that writer
	 * did not die in write(), so something else cut its record.
	 */
	uint64_t n_torn_alive;
	/** Where the last torn record skipped began. */
	uint64_t last_off;
};

/** The reader's skip counters (owned by `r`, updated by every call). */
const struct trace_reader_skips *
trace_reader_skips(const struct trace_reader *r);

/**
 * Bytes between the last good offset and the end of the file at the last
 * look that are no whole record: 0 when the file ended on a record
 * boundary. At the end of a finished file, non-zero means it ends in a
 * torn or bad record.
 */
uint64_t
trace_reader_tail(const struct trace_reader *r);

/** Writers met so far (format 2; 0 for format 1: one writer, unnamed). */
int
trace_reader_n_writers(const struct trace_reader *r);

/**
 * The pid and start time (CLOCK_REALTIME ns) of writer number `n` (1...),
 * both 0 while its WRITER record has not been read. Returns 0, or -1 when
 * there is no such writer.
 */
int
trace_reader_writer(const struct trace_reader *r, int n, uint32_t *pid,
		    uint64_t *start);

/** The file's header, or NULL until it has been read. Owned by `r`. */
const struct trace_meta *
trace_reader_meta(const struct trace_reader *r);

/**
 * The last good offset: the byte after the last record fully read (events
 * of that record may still be pending in the reader).
 */
uint64_t
trace_reader_offset(const struct trace_reader *r);

/**
 * Pin the current end of the file: until trace_reader_continue(), nothing
 * past it is read (a consistent view while the file keeps growing).
 * Returns 0 or -1 (fstat failed; diag set).
 */
int
trace_reader_pause(struct trace_reader *r);

/** Drop the pin: read whatever the file holds again. */
void
trace_reader_continue(struct trace_reader *r);

#endif /* KHARON_TRACE_TRACE_FILE_H */
