/*
 * proc.h — kharon's stored procedures, written in C (docs/procedures.md).
 *
 * A procedure is a resumable step function: it runs, may push to the
 * client (session_push), and either finishes (result or error) or asks to
 * be resumed after a delay — the TX task then keeps the request and the
 * network cord may release its input early (a "long poll"). Because input
 * may be released, a procedure copies any argument it needs across a wait.
 *
 * Lessons: lessons/en/06-kharon.md, lessons/en/08-ports.md.
 */
#ifndef KHARON_BOX_PROC_H
#define KHARON_BOX_PROC_H

#include <stdint.h>

struct proc_call;

enum proc_status {
	/** Finished; call->result holds the values. */
	PROC_DONE,
	/** Failed; diag says why. */
	PROC_ERROR,
	/** Resume after *wait_ns (0: a yield, the next loop iteration). */
	PROC_WAIT,
	/**
	 * Resume when the network cord reports output flushed (Kharon's
	 * return): the session holds more unsent output than the procedure
	 * allows (push_stream's bound, session_unsent).
	 */
	PROC_WAIT_OUTPUT,
};

typedef enum proc_status (*proc_f)(struct proc_call *call, uint64_t *wait_ns);

struct proc {
	const char *name;
	/** First step: validates arguments. */
	proc_f start;
	/** Later steps (after a wait). */
	proc_f resume;
};

/** The procedure called `name`, or NULL. */
const struct proc *
proc_find(const char *name, uint32_t len);

#endif /* KHARON_BOX_PROC_H */
