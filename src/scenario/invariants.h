/*
 * invariants.h — the rules every trace must obey, checked as the events go
 * by (DESIGN.md §9). A run that breaks one is wrong however its client-
 * visible results look:
 *
 *   kharon_single        at most one Kharon in flight per connection
 *                        (kharon.depart / kharon.return alternate), and
 *                        he is home when the connection is destroyed
 *                        (Tarantool gh-6520, fixed in 2.8.3 — not in 2.6;
 *                        docs/tarantool-map.md §2.5);
 *   cmsg_once            every cbus message pushed into a pipe is delivered
 *                        exactly once (cpipe.push / cmsg.hop per message);
 *   push_before_reply    a client never receives a push (IPROTO_CHUNK) for a
 *                        request after that request's final reply (until
 *                        the client sends a request with that sync again);
 *   patch_in_reservation every obuf.patch lands on the savepoint of an
 *                        earlier obuf.reserve of the same connection, buffer
 *                        and sync, not yet patched or rolled back;
 *   ibuf_reserve_idle    an input buffer is never reserved in (so never
 *                        moved) while requests parsed from it are in flight;
 *   wend_forward         the end of output a network cord knows only moves
 *                        forward within an output buffer until TX resets it
 *                        (net.reply, kharon.arrive, push.arrive), so bytes
 *                        leave in the order TX wrote them.
 *
 * Feed events in an order that respects causality across cords: a
 * message's cpipe.push before its cmsg.hop, TX's kharon.depart before
 * tx.destroy. The simulator's order does; on real threads the runner
 * serialises every cord's events through one lock as they are emitted,
 * which does too (a push is emitted before the message can be fetched).
 * Not thread-safe: one checker per reader.
 */
#ifndef KHARON_SCENARIO_INVARIANTS_H
#define KHARON_SCENARIO_INVARIANTS_H

#include <stdint.h>

struct trace_event;
struct invariants;

enum invariant {
	INVARIANT_KHARON_SINGLE,
	INVARIANT_CMSG_ONCE,
	INVARIANT_PUSH_BEFORE_REPLY,
	INVARIANT_PATCH_IN_RESERVATION,
	INVARIANT_IBUF_RESERVE_IDLE,
	INVARIANT_WEND_FORWARD,
	INVARIANT_MAX,
};

/** "kharon_single", ... */
const char *
invariant_name(enum invariant inv);

/** NULL + diag on OOM. */
struct invariants *
invariants_new(void);

void
invariants_delete(struct invariants *inv);

/** Check one event. Cost O(1) amortized. */
void
invariants_feed(struct invariants *inv, const struct trace_event *e);

/**
 * End of the trace: also checks what must have completed (every message
 * delivered). Returns the total number of violations.
 */
int
invariants_finish(struct invariants *inv);

/** Violations of one rule (after finish). */
int
invariants_count(const struct invariants *inv, enum invariant which);

/** The first violation of a rule, as a sentence, or NULL if none. */
const char *
invariants_first(const struct invariants *inv, enum invariant which);

/** Events the checker looked at. */
uint64_t
invariants_n_events(const struct invariants *inv);

#endif /* KHARON_SCENARIO_INVARIANTS_H */
