/*
 * diag.h — the per-thread error record (Tarantool's "diag").
 *
 * A function that can fail returns -1 (or NULL) and leaves the reason here:
 * an error code, a type name, a message and the source place that set it.
 * The caller reads it with diag_last() on the same thread. Errors never cross
 * threads through this record: a cbus message that carries an error carries
 * its own copy (struct diag is a plain value, copyable with =).
 *
 * Codes are Tarantool's box error codes (src/proto/errcode.h lists the ones
 * kharon uses), so an error can go on the wire unchanged as 0x8000 | code.
 */
#ifndef KHARON_BASE_DIAG_H
#define KHARON_BASE_DIAG_H

#include <stdbool.h>

enum { DIAG_MSG_MAX = 256 };

struct diag {
	/** 0 when empty; otherwise a Tarantool error code. */
	int code;
	/** "ClientError", "OutOfMemory", "SystemError", ... */
	const char *type;
	const char *file;
	int line;
	char msg[DIAG_MSG_MAX];
};

/** The calling thread's record. Never NULL. */
struct diag *
diag_last(void);

/** Clear the calling thread's record. */
void
diag_clear(void);

/**
 * Set the calling thread's error (use the diag_set macro, which fills in
 * the source place). The message is printf-formatted and truncated to
 * DIAG_MSG_MAX - 1 bytes.
 */
void
diag_set_at(const char *file, int line, int code, const char *type,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define diag_set(code, type, ...) \
	diag_set_at(__FILE__, __LINE__, (code), (type), __VA_ARGS__)

/** Shorthand for the most common one: an allocation of `size` failed. */
#define diag_set_oom(size, what) \
	diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory", \
		 "Failed to allocate %zu bytes for %s", (size_t)(size), (what))

/** The calling thread's error message, or "" when none. */
const char *
diag_msg(void);

/** Codes the base layers set themselves (Tarantool's numbers). */
enum {
	DIAG_ER_UNKNOWN = 0,
	DIAG_ER_MEMORY_ISSUE = 2,
	DIAG_ER_SYSTEM = 115,
};

#endif /* KHARON_BASE_DIAG_H */
