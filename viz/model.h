/*
 * model.h — the viewer's scene state: what the Styx diagram shows after
 * the first N events of a trace. Pure C, no SDL; drawing never changes it.
 *
 * The state is one flat struct with fixed-size tables (no pointers), so a
 * snapshot is a plain copy (history.h keeps one every VIZ_SNAP_EVERY
 * events and replays forward from the nearest: exact step back).
 *
 *   TX "world of the living"        river Styx           iproto "world of the dead"
 *   tasks, obuf[0] obuf[1]   <== boats (cbus msgs) ==>   ibuf[0] ibuf[1], socket
 *   per connection          Kharon: one per connection     per connection  --> clients
 *
 * Every field is set from what an event says (docs/trace.md), nothing is
 * guessed: a boat is a cbus message between its cpipe.push and the
 * cmsg.hop that delivers it (staged in the sender's pipe until cpipe.flush
 * — held there by a what-if cmsg.delay —, sailing until cbus.fetch, docked
 * until the hop runs); Kharon's place comes
 * from kharon.depart / kharon.arrive / kharon.return, the flag from
 * kharon.flag; ibuf positions from ibuf.*; obuf ends from obuf.reserve,
 * port.dump, obuf.patch, push, obuf.rollback, obuf.reset; the network's
 * sent position from net.writev (Tarantool: iproto_connection's p_ibuf /
 * p_obuf pairs, tx_end_push / net_push_msg / kharon's is_push_pending).
 *
 * Limits (stated, not hidden): at most VIZ_MAX_CONNS connections,
 * VIZ_MAX_BOATS boats, VIZ_MAX_TASKS tasks and VIZ_MAX_CORDS cords are
 * tracked at once; what does not fit is counted in `n_untracked` and left
 * out of the picture (a freed connection's slot is reused).
 */
#ifndef KHARON_VIZ_MODEL_H
#define KHARON_VIZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct trace_event;

enum {
	VIZ_MAX_CORDS = 16,
	VIZ_MAX_CONNS = 32,
	VIZ_MAX_BOATS = 512,
	VIZ_MAX_TASKS = 64,
	VIZ_MAX_CLIENTS = 16,
	VIZ_NAME = 24,
	/** msg -> conn memory (a ring indexed by msg id). */
	VIZ_MSG_RING = 256,
};

enum viz_cord_kind {
	VIZ_CORD_TX,
	VIZ_CORD_NET,
	VIZ_CORD_CLIENT,
	VIZ_CORD_OTHER,
};

struct viz_cord {
	char name[VIZ_NAME];
	enum viz_cord_kind kind;
	/** Event index + 1 of the last cpipe.flush that woke it (0: none). */
	uint32_t bell_ev;
	uint32_t n_wakeups;
	uint32_t n_fetches;
};

enum viz_boat_stage {
	/** Pushed into the sender's pipe input, waiting for cpipe.flush. */
	VIZ_BOAT_STAGED,
	/** Flushed onto the receiver's endpoint queue: on the river. */
	VIZ_BOAT_SAILING,
	/** Fetched by the receiving cord; its hop runs next. */
	VIZ_BOAT_DOCKED,
};

struct viz_boat {
	uint32_t msg;
	int8_t from;
	int8_t to;
	uint8_t stage;
	bool is_kharon;
	/** Staged and held back by a what-if delay (cmsg.delay) until its
	 * pipe's next cpipe.flush. */
	bool is_held;
	/** Connection id it belongs to, 0 when unknown. */
	int32_t conn;
	/** Event indices of its cpipe.push and cpipe.flush. */
	uint32_t push_ev;
	uint32_t flush_ev;
	/** The hop function that will run on arrival. */
	char f[VIZ_NAME];
};

enum viz_ibuf_move { VIZ_MOVE_NONE, VIZ_MOVE_COMPACT, VIZ_MOVE_GROW };

/** One input buffer (Tarantool's ibuf: buf, rpos, wpos, end). */
struct viz_ibuf {
	int64_t rpos;
	int64_t wpos;
	int64_t end;
	/**
	 * Bytes of parsed requests still in flight, right after rpos:
	 * [rpos, rpos + in_flight); the rest up to wpos is unparsed.
	 */
	int64_t in_flight;
	uint8_t move;
};

/** One output buffer, in obuf_size() positions since its last reset. */
struct viz_obuf {
	/** What TX has written (obuf_size). */
	int64_t used;
	/** How far the network cord has sent from it. */
	int64_t sent;
	/** A reserved header not yet patched: [svp, svp + reserve_size). */
	bool has_reserve;
	int64_t svp;
	int64_t reserve_size;
	int64_t reserve_sync;
	int32_t chunk;
	/** The last rollback: [rollback_to, rollback_from) taken back. */
	int64_t rollback_to;
	int64_t rollback_from;
	uint32_t rollback_ev;
	uint32_t n_resets;
};

enum viz_kharon_place {
	/** At TX, ready to go. */
	VIZ_KHARON_HOME,
	/** On the river towards the network cord (boat of kharon.msg). */
	VIZ_KHARON_OUT,
	/** Arrived: the network cord writes up to the end he carried. */
	VIZ_KHARON_THERE,
	/** On the river back to TX. */
	VIZ_KHARON_BACK,
};

struct viz_kharon {
	uint8_t place;
	/** A push was made while he was away: he goes again on return. */
	bool flag;
	uint32_t msg;
	int32_t carry_buf;
	int64_t carry_end;
	uint32_t n_trips;
	uint32_t n_flags;
};

enum viz_conn_state {
	VIZ_CONN_FREE,
	VIZ_CONN_OPEN,
	/** The socket is closed; TX may still hold its side. */
	VIZ_CONN_CLOSED,
};

struct viz_conn {
	int32_t id;
	uint8_t state;
	/** Index of its network cord in cords[], -1 until known. */
	int8_t cord;
	char peer[VIZ_NAME];
	struct viz_ibuf ibuf[2];
	int8_t ibuf_cur;
	uint32_t n_ibuf_switches;
	bool is_input_stopped;
	char stop_why[16];
	/** Requests parsed and not yet answered (req.parse .. net.reply). */
	int32_t n_requests;
	struct viz_obuf obuf[2];
	/** The obuf TX writes into (obuf.rotate). */
	int8_t obuf_tx;
	/** The obuf the network cord sends from (net.switch_obuf). */
	int8_t obuf_net;
	/** The end of output the network cord knows (wend in wend_buf). */
	int8_t wend_buf;
	int64_t wend;
	struct viz_kharon kharon;
	bool is_tx_gone;
	bool is_obuf_limit;
	uint32_t n_pushes;
	uint32_t n_replies;
	uint32_t n_writev;
	uint64_t bytes_sent;
};

struct viz_task {
	int32_t id;
	uint32_t msg;
	bool is_waiting;
	int32_t conn;
	int64_t sync;
	char proc[16];
};

struct viz_client {
	int32_t id;
	int8_t cord;
	bool is_connected;
	bool is_closed;
	bool is_paused;
	uint32_t n_sent;
	uint32_t n_recv;
	uint32_t n_pushes;
	uint64_t bytes_sent;
	uint64_t bytes_recv;
	/** Event index + 1 of its last send / recv (for the flying arrows). */
	uint32_t send_ev;
	uint32_t recv_ev;
};

/** The figures the timeline plots (one sample per event). */
struct viz_counters {
	uint32_t ibuf_unparsed;
	uint32_t obuf_unsent;
	uint32_t boats;
	uint32_t wakeups;
};

struct viz_msg_conn {
	uint32_t msg;
	int32_t conn;
};

struct viz_state {
	/** Events applied: this is the state after events [0, n_events). */
	uint32_t n_events;
	uint64_t t;
	struct viz_cord cords[VIZ_MAX_CORDS];
	int n_cords;
	struct viz_conn conns[VIZ_MAX_CONNS];
	struct viz_boat boats[VIZ_MAX_BOATS];
	int n_boats;
	struct viz_task tasks[VIZ_MAX_TASKS];
	int n_tasks;
	/** Index in tasks[] of the task that runs now, -1: none. */
	int cur_task;
	int32_t pool_busy;
	struct viz_client clients[VIZ_MAX_CLIENTS];
	int n_clients;
	struct viz_msg_conn msg_conn[VIZ_MSG_RING];
	/** Totals. */
	uint64_t n_msgs;
	uint64_t n_flushes;
	uint64_t n_wakeups;
	uint64_t n_hops;
	uint64_t n_writev;
	uint64_t bytes_sent;
	uint64_t n_pushes;
	uint64_t n_untracked;
	uint32_t n_exhausted;
	bool is_shutdown;
};

/** An empty scene (no event applied). */
void
viz_state_init(struct viz_state *s);

/**
 * Apply event number `s->n_events` (its index in the trace) to the scene.
 * Unknown events and fields leave it unchanged (apart from n_events and t),
 * so a newer trace still replays. Cannot fail. Cost: O(boats) at most.
 */
void
viz_state_apply(struct viz_state *s, const struct trace_event *e);

/** The counters the timeline plots, for this state. */
void
viz_state_counters(const struct viz_state *s, struct viz_counters *c);

/** The connection with id `conn`, or NULL. */
const struct viz_conn *
viz_state_conn(const struct viz_state *s, int32_t conn);

/** The boat of message `msg` on the river, or NULL. */
const struct viz_boat *
viz_state_boat(const struct viz_state *s, uint32_t msg);

/** Index of the cord named `name`, or -1. */
int
viz_state_cord(const struct viz_state *s, const char *name);

/** An event's integer field (`dflt` when absent) / string field (NULL). */
int64_t
viz_ev_int(const struct trace_event *e, const char *key, int64_t dflt);

const char *
viz_ev_str(const struct trace_event *e, const char *key);

#endif /* KHARON_VIZ_MODEL_H */
