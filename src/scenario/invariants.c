/*
 * invariants.c — the trace rules of invariants.h, checked in one pass.
 *
 * State is kept in small integer-keyed hash maps: keys pack the ids an
 * event carries (connection, buffer, message, sync), values are counters
 * or positions.
 */
#include "scenario/invariants.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/intmap.h"
#include "base/mem.h"
#include "trace/trace.h"

/* ------------------------------------------------------- the checker */

enum { CORDS_MAX = 64, FIRST_MAX = 200 };

struct invariants {
	uint64_t n_events;
	int counts[INVARIANT_MAX];
	char first[INVARIANT_MAX][FIRST_MAX];
	/** conn -> 1 while Kharon is away. */
	struct intmap kharon_away;
	/** msg id -> pushes - deliveries. */
	struct intmap cmsg_balance;
	/** (client cord, sync) -> 1 once the final reply arrived. */
	struct intmap replied;
	/** (conn, buf, sync) -> svp + 1 of the open reservation. */
	struct intmap reserved;
	/** (conn, buf) -> bytes of requests in flight. */
	struct intmap in_flight;
	/** (conn, obuf) -> the last known end seen by the network cord. */
	struct intmap wend;
	/** Client cord names, to number them. */
	char cords[CORDS_MAX][16];
	int n_cords;
};

static const char *const invariant_names[INVARIANT_MAX] = {
	"kharon_single",
	"cmsg_once",
	"push_before_reply",
	"patch_in_reservation",
	"ibuf_reserve_idle",
	"wend_forward",
};

const char *
invariant_name(enum invariant inv)
{
	return invariant_names[inv];
}

struct invariants *
invariants_new(void)
{
	struct invariants *inv = mem_zalloc(sizeof(*inv));
	if (inv == NULL)
		diag_set_oom(sizeof(*inv), "invariants");
	return inv;
}

void
invariants_delete(struct invariants *inv)
{
	if (inv == NULL)
		return;
	intmap_destroy(&inv->kharon_away);
	intmap_destroy(&inv->cmsg_balance);
	intmap_destroy(&inv->replied);
	intmap_destroy(&inv->reserved);
	intmap_destroy(&inv->in_flight);
	intmap_destroy(&inv->wend);
	mem_free(inv);
}

static void
violate(struct invariants *inv, enum invariant which,
	const struct trace_event *e, const char *what)
{
	if (inv->counts[which]++ == 0)
		snprintf(inv->first[which], FIRST_MAX, "event %llu (%s on %s): %s",
			 (unsigned long long)(e != NULL ? e->seq : 0),
			 e != NULL ? e->ev : "end", e != NULL ? e->cord : "-",
			 what);
}

static int64_t
field(const struct trace_event *e, const char *key)
{
	for (int i = 0; i < e->n_fields; i++)
		if (strcmp(e->fields[i].key, key) == 0)
			return e->fields[i].i;
	return 0;
}

static int
cord_index(struct invariants *inv, const char *cord)
{
	for (int i = 0; i < inv->n_cords; i++)
		if (strcmp(inv->cords[i], cord) == 0)
			return i;
	if (inv->n_cords == CORDS_MAX)
		return CORDS_MAX;
	snprintf(inv->cords[inv->n_cords], sizeof(inv->cords[0]), "%s", cord);
	return inv->n_cords++;
}

/* Keys: 24 bits of connection, 1 of buffer, the rest sync. */
static uint64_t
key_conn_buf(const struct trace_event *e)
{
	return ((uint64_t)field(e, "conn") << 1) | (uint64_t)(field(e, "buf") & 1);
}

static uint64_t
key_conn_buf_sync(const struct trace_event *e)
{
	return (key_conn_buf(e) << 38) ^ (uint64_t)field(e, "sync");
}

void
invariants_feed(struct invariants *inv, const struct trace_event *e)
{
	inv->n_events++;
	const char *ev = e->ev;
	if (strcmp(ev, "kharon.depart") == 0) {
		uint64_t conn = (uint64_t)field(e, "conn");
		if (intmap_get(&inv->kharon_away, conn) != 0)
			violate(inv, INVARIANT_KHARON_SINGLE, e,
				"Kharon departed while already away");
		intmap_set(&inv->kharon_away, conn, 1);
	} else if (strcmp(ev, "kharon.return") == 0) {
		uint64_t conn = (uint64_t)field(e, "conn");
		if (intmap_get(&inv->kharon_away, conn) == 0)
			violate(inv, INVARIANT_KHARON_SINGLE, e,
				"Kharon returned without having departed");
		intmap_set(&inv->kharon_away, conn, 0);
	} else if (strcmp(ev, "tx.destroy") == 0) {
		/*
		 * Tarantool gh-6520 (fixed in 2.8.3, not in 2.6): Kharon must
		 * be home before the connection is freed, or his return lands
		 * on freed memory.
		 */
		if (intmap_get(&inv->kharon_away, (uint64_t)field(e, "conn")) != 0)
			violate(inv, INVARIANT_KHARON_SINGLE, e,
				"the connection is destroyed while Kharon is "
				"away (gh-6520)");
	} else if (strcmp(ev, "cpipe.push") == 0) {
		intmap_add(&inv->cmsg_balance, (uint64_t)field(e, "msg"), 1);
	} else if (strcmp(ev, "cmsg.hop") == 0) {
		uint64_t msg = (uint64_t)field(e, "msg");
		if (intmap_get(&inv->cmsg_balance, msg) <= 0)
			violate(inv, INVARIANT_CMSG_ONCE, e,
				"a message was delivered more often than sent");
		intmap_add(&inv->cmsg_balance, msg, -1);
	} else if (strcmp(ev, "client.send") == 0) {
		/* A sync may be used again once its request is answered. */
		intmap_set(&inv->replied, ((uint64_t)cord_index(inv, e->cord) << 56) ^
			   (uint64_t)field(e, "sync"), 0);
	} else if (strcmp(ev, "client.recv") == 0) {
		uint64_t key = ((uint64_t)cord_index(inv, e->cord) << 56) ^
			       (uint64_t)field(e, "sync");
		bool is_push = field(e, "code") == 0x80;
		if (intmap_get(&inv->replied, key) != 0 && is_push)
			violate(inv, INVARIANT_PUSH_BEFORE_REPLY, e,
				"a push arrived after its request's final reply");
		if (!is_push)
			intmap_set(&inv->replied, key, 1);
	} else if (strcmp(ev, "obuf.reserve") == 0) {
		intmap_set(&inv->reserved, key_conn_buf_sync(e),
			   field(e, "svp") + 1);
	} else if (strcmp(ev, "obuf.patch") == 0 ||
		   strcmp(ev, "obuf.rollback") == 0) {
		uint64_t key = key_conn_buf_sync(e);
		int64_t svp = strcmp(ev, "obuf.patch") == 0 ? field(e, "svp") :
			      field(e, "to");
		if (intmap_get(&inv->reserved, key) != svp + 1)
			violate(inv, INVARIANT_PATCH_IN_RESERVATION, e,
				"the header was patched where nothing was "
				"reserved");
		intmap_set(&inv->reserved, key, 0);
	} else if (strcmp(ev, "req.parse") == 0) {
		intmap_add(&inv->in_flight, key_conn_buf(e), field(e, "len"));
	} else if (strcmp(ev, "ibuf.release") == 0 ||
		   strcmp(ev, "ibuf.discard") == 0) {
		intmap_add(&inv->in_flight, key_conn_buf(e), -field(e, "len"));
	} else if (strcmp(ev, "ibuf.reserve") == 0) {
		if (intmap_get(&inv->in_flight, key_conn_buf(e)) != 0)
			violate(inv, INVARIANT_IBUF_RESERVE_IDLE, e,
				"an input buffer was reserved in (it may move) "
				"while requests in it were in flight");
	} else if (strcmp(ev, "net.reply") == 0 ||
		   strcmp(ev, "kharon.arrive") == 0 ||
		   strcmp(ev, "push.arrive") == 0) {
		uint64_t key = ((uint64_t)field(e, "conn") << 1) |
			       (uint64_t)(field(e, "wend_buf") & 1);
		int64_t wend = field(e, "wend");
		if (wend < intmap_get(&inv->wend, key))
			violate(inv, INVARIANT_WEND_FORWARD, e,
				"the known end of output moved backwards");
		intmap_set(&inv->wend, key, wend);
	} else if (strcmp(ev, "obuf.reset") == 0) {
		/* The buffer starts over: its positions start over too. */
		intmap_set(&inv->wend, key_conn_buf(e), 0);
	} else if (strcmp(ev, "conn.free") == 0) {
		/* Connection ids are not reused, but keep the maps small. */
		intmap_set(&inv->in_flight, ((uint64_t)field(e, "conn") << 1), 0);
		intmap_set(&inv->in_flight,
			   ((uint64_t)field(e, "conn") << 1) | 1, 0);
	}
}

int
invariants_finish(struct invariants *inv)
{
	struct intmap *m = &inv->cmsg_balance;
	for (size_t i = 0; i < m->capacity; i++) {
		if (m->slots[i].is_used && m->slots[i].value > 0) {
			char what[96];
			snprintf(what, sizeof(what), "message %llu was sent but "
				 "never delivered",
				 (unsigned long long)m->slots[i].key);
			violate(inv, INVARIANT_CMSG_ONCE, NULL, what);
		}
	}
	int total = 0;
	for (int i = 0; i < INVARIANT_MAX; i++)
		total += inv->counts[i];
	return total;
}

int
invariants_count(const struct invariants *inv, enum invariant which)
{
	return inv->counts[which];
}

const char *
invariants_first(const struct invariants *inv, enum invariant which)
{
	return inv->counts[which] != 0 ? inv->first[which] : NULL;
}

uint64_t
invariants_n_events(const struct invariants *inv)
{
	return inv->n_events;
}
