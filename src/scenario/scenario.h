/*
 * scenario.h — a scenario file, loaded, validated and defaulted.
 *
 * A scenario is the JSON file a lesson, a test or a student writes to drive
 * the server: which server options, which simulated network, which clients
 * connect when, what each one sends and what it must get back, and what the
 * trace of the run must show (DESIGN.md §9; scenarios/scenario.schema.json
 * documents every field; scenarios/00-example.json uses every one).
 *
 *   NAME.json ──scenario_load──► struct scenario ──► runner (server + clients)
 *      │  text: size cap, UTF-8, no NUL, JSON syntax (line, column)
 *      │  content: keys, types, ranges — the first error, with its path
 *      ▼
 *   "x.json: clients[2].steps[0].call.args: expected array, got string"
 *
 * Everything a runner needs is already converted: times are nanoseconds,
 * call arguments and expected values are MsgPack (src/proto/mp.h), raw
 * bytes are decoded from hex, server and network options are the structs
 * the server and the simulator take, with every default filled in. A loaded
 * scenario never needs the JSON again, and a runner never needs to check a
 * field: if it loaded, it is valid.
 *
 * JSON numbers are doubles: an integral number is taken as an integer (and
 * must be exact: |x| <= 2^53 - 1), one with a fraction as a double. So `2.0`
 * in call arguments is the integer 2 — JSON cannot tell them apart.
 *
 * Lesson: lessons/en/00-scenarios.md.
 */
#ifndef KHARON_SCENARIO_SCENARIO_H
#define KHARON_SCENARIO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iproto/iproto.h"
#include "rt/rt.h"

enum {
	/** Larger files are refused before they are read. */
	SCENARIO_FILE_MAX = 1 << 20,
	/** Deepest nesting of arrays/maps in args, result, push values. */
	SCENARIO_VALUE_DEPTH_MAX = 64,
};

enum scenario_mode {
	SCENARIO_MODE_SIM,
	SCENARIO_MODE_REAL,
};

/** A text in both languages of the lessons (NUL-terminated UTF-8). */
struct scenario_text {
	char *ru;
	char *en;
};

/** How a request's error reply is matched (expect.error). */
enum scenario_error_match {
	/** No error expected... unless a result is: see has_result. */
	SCENARIO_ERROR_NONE,
	/** The error message equals `error`. */
	SCENARIO_ERROR_EXACT,
	/** The error message contains `error`. */
	SCENARIO_ERROR_CONTAINS,
};

/**
 * What one request must get back. Fields not given in the file are
 * "not checked" (has_* false, error_match NONE).
 */
struct scenario_reply_expect {
	bool has_pushes;
	/** Pushes (IPROTO_CHUNK packets with this request's sync). */
	uint32_t n_pushes;
	/**
	 * NULL, or a MsgPack array of n_pushes values: the i-th is compared
	 * with the value the i-th push carries (its IPROTO_DATA element).
	 */
	char *push_values;
	size_t push_values_size;
	bool has_result;
	/** One MsgPack value, compared with the reply's decoded IPROTO_DATA. */
	char *result;
	size_t result_size;
	enum scenario_error_match error_match;
	/** The expected error text (NUL-terminated) unless match is NONE. */
	char *error;
};

enum scenario_request_type {
	SCENARIO_REQUEST_CALL,
	SCENARIO_REQUEST_PING,
	SCENARIO_REQUEST_RAW,
};

/** One request a step sends: a call, a ping or raw bytes. */
struct scenario_request {
	enum scenario_request_type type;
	/** CALL: the procedure name (NUL-terminated, non-empty). */
	char *function;
	uint32_t function_len;
	/** CALL: the arguments, one MsgPack array of n_args values. */
	char *args;
	size_t args_size;
	uint32_t n_args;
	/** CALL: sent as the old CALL_16 (0x06) instead of CALL (0x0a). */
	bool is_call_16;
	/** RAW: the bytes to write, as they are (non-empty). */
	char *raw;
	size_t raw_size;
	struct scenario_reply_expect expect;
};

enum scenario_action {
	SCENARIO_ACTION_CALL,
	SCENARIO_ACTION_PING,
	SCENARIO_ACTION_RAW,
	/** Several requests written with one write. */
	SCENARIO_ACTION_PIPELINE,
	/** Stop reading the socket: the client becomes a slow consumer. */
	SCENARIO_ACTION_PAUSE_READING,
	SCENARIO_ACTION_RESUME_READING,
	SCENARIO_ACTION_DISCONNECT,
	/** What-if only (no step): a server cord is busy for a while. */
	SCENARIO_ACTION_HOLD_CORD,
	/** What-if only (no step): a server option changes from now on. */
	SCENARIO_ACTION_SET_OPTION,
	/** What-if only (no step): a cbus message arrives later (cbus_delay.h). */
	SCENARIO_ACTION_DELAY_MESSAGE,
};

/** The server options a what-if `set_option` may change. */
enum scenario_option {
	SCENARIO_OPTION_NET_MSG_MAX,
	SCENARIO_OPTION_READAHEAD,
};

/** When a step starts. */
enum scenario_when {
	/** After the previous step's final reply (or replies); default. */
	SCENARIO_WHEN_AFTER_REPLY,
	/** As soon as the previous step has been written. */
	SCENARIO_WHEN_AFTER_SENT,
	/** At `at_ns` after the client connected. */
	SCENARIO_WHEN_AT,
};

struct scenario_step {
	enum scenario_action action;
	enum scenario_when when;
	/** SCENARIO_WHEN_AT only: ns from the client's connect. */
	uint64_t at_ns;
	/**
	 * CALL, PING, RAW: one request; PIPELINE: n_requests >= 1 written at
	 * once, each with its own expectations. NULL / 0 for the others.
	 */
	struct scenario_request *requests;
	uint32_t n_requests;
	/** DISCONNECT: close with RST (SO_LINGER 0) instead of FIN. */
	bool is_reset;
	/** expect.closed: whether the server has closed the connection. */
	bool has_closed;
	bool closed;
};

struct scenario_client {
	/** "client0", "client1", ... unless given; unique in the scenario. */
	char *name;
	/** When it connects, ns from the start of the run. */
	uint64_t connect_at_ns;
	/** Its network: the scenario's, with the client's "net" on top. */
	struct rt_net_opts net;
	/** Whether the client gave its own "net". */
	bool has_own_net;
	struct scenario_step *steps;
	uint32_t n_steps;
};

/** expect.events: how many times a trace event must occur. */
struct scenario_event_expect {
	/** Dotted trace event name, e.g. "kharon.depart". */
	char *name;
	uint32_t min;
	/** UINT32_MAX when no maximum was given. */
	uint32_t max;
	/**
	 * Checked on the simulator only: the count depends on how real
	 * threads happen to interleave (a race the simulator fixes by seed).
	 */
	bool is_sim_only;
};

/** A field a tour stop's event must carry: an integer or a string. */
struct scenario_tour_field {
	char *key;
	/** NULL: the integer `i`; else the string. */
	char *s;
	int64_t i;
};

/** What a tour stop highlights on the scene (tour[].highlight). */
enum scenario_highlight {
	SCENARIO_HIGHLIGHT_NONE,
	SCENARIO_HIGHLIGHT_KHARON,
	SCENARIO_HIGHLIGHT_BOAT,
	SCENARIO_HIGHLIGHT_OBUF,
	SCENARIO_HIGHLIGHT_IBUF,
	SCENARIO_HIGHLIGHT_CORD,
	SCENARIO_HIGHLIGHT_CLIENT,
};

/**
 * One stop of a guided tour: the viewer plays until the event it names,
 * pauses there and shows its caption (kharon-view --tour). The event is
 * named by its trace name and field values; `nth` picks one occurrence of
 * those. `kharon check` proves each stop matches exactly one event of the
 * simulated run, in order (src/scenario/tour.h).
 */
struct scenario_tour_stop {
	/** Dotted trace event name ("kharon.flag"). */
	char *event;
	struct scenario_tour_field *where;
	uint32_t n_where;
	/** 1..: the nth event matching name and fields; 0: not given. */
	uint32_t nth;
	/** A few sentences; {field} is the event's field (viz/caption.h). */
	struct scenario_text caption;
	enum scenario_highlight highlight;
	/** Connection to put in focus (others fade); 0: the event's conn. */
	int32_t focus;
};

/**
 * A what-if intervention (scenario `interventions`): at a moment of the
 * run (virtual time on the simulator, from the start), one client does
 * something its steps do not say. The simulator is deterministic, so the
 * run is the original one up to that moment and forks after it.
 */
struct scenario_intervention {
	/** When, ns from the start of the run. */
	uint64_t at_ns;
	/**
	 * Index into scenario.clients; UINT32_MAX for HOLD_CORD, SET_OPTION,
	 * DELAY_MESSAGE.
	 */
	uint32_t client;
	/**
	 * PAUSE_READING, RESUME_READING, DISCONNECT, HOLD_CORD, SET_OPTION,
	 * DELAY_MESSAGE.
	 */
	enum scenario_action action;
	/** DISCONNECT: with RST instead of FIN. */
	bool is_reset;
	/** HOLD_CORD: the server cord ("tx", "net0", ...). */
	char cord[16];
	/**
	 * HOLD_CORD: how long the cord is busy, ns (rt_sim_hold_cord);
	 * DELAY_MESSAGE: how much later the message arrives, ns.
	 */
	uint64_t for_ns;
	/**
	 * DELAY_MESSAGE: the message's trace id (cpipe.push `msg`) and the
	 * endpoint it travels to ("tx", "net0", ...; cpipe.push `to`): the
	 * first time a batch holding it is flushed there at or after at_ns,
	 * it is kept back for_ns (src/cbus/cbus_delay.h).
	 */
	uint32_t msg;
	char to[16];
	/** SET_OPTION: which option, and its value from the moment on. */
	enum scenario_option option;
	uint64_t value;
};

struct scenario {
	/** [a-z0-9-]+, at most 64 characters. */
	char *name;
	struct scenario_text title;
	/** Both "" when the file has no summary. */
	struct scenario_text summary;
	enum scenario_mode mode;
	/** 0 .. 2^53 - 1; default 1. */
	uint64_t seed;
	/**
	 * Server options: iproto_opts_default() with the file's on top;
	 * `listen` is left at the default for the runner to set.
	 */
	struct iproto_opts server;
	/**
	 * The simulator's network, every field filled (the simulator's
	 * defaults unless given): latency 50 us, unlimited bandwidth,
	 * sndbuf = rcvbuf = segment = 65536.
	 */
	struct rt_net_opts network;
	struct scenario_client *clients;
	uint32_t n_clients;
	/** Total steps over all clients. */
	uint32_t n_steps;
	struct scenario_event_expect *events;
	uint32_t n_events;
	/** Check the invariants of DESIGN.md §9 on the trace (default). */
	bool check_invariants;
	/**
	 * Why the scenario means something on the simulator only (NULL: it
	 * runs anywhere): `kharon run --mode real` then says so and skips it.
	 */
	char *sim_only;
	/** The guided tour, in order (none: n_tour 0). */
	struct scenario_tour_stop *tour;
	uint32_t n_tour;
	/** What-if interventions, in the file's order. */
	struct scenario_intervention *interventions;
	uint32_t n_interventions;
};

/**
 * Read, validate and convert the scenario file `path` into `scenario`
 * (caller's memory; any previous content is overwritten, not freed).
 * Returns 0, or -1 with diag holding one line:
 * "PATH: clients[0]: unknown key \"stpes\"" — the first error of the file
 * (errors of the text — size, encoding, syntax, reported with line and
 * column — before errors of the content, those in document order). On -1
 * `scenario` holds nothing to destroy. Any thread, one load at a time per
 * thread; memory through mem.h (cJSON's too). Cost O(file size).
 */
int
scenario_load(const char *path, struct scenario *scenario);

/**
 * Same, from `size` bytes in memory; `origin` prefixes error messages
 * (a file name). The bytes need not be NUL-terminated.
 */
int
scenario_load_buf(const char *origin, const char *data, size_t size,
		  struct scenario *scenario);

/** Free everything scenario_load allocated. Safe on a zeroed struct. */
void
scenario_destroy(struct scenario *scenario);

/** Names of the enums, as the file spells them ("sim", "call", ...). */
const char *
scenario_highlight_name(enum scenario_highlight h);

const char *
scenario_mode_name(enum scenario_mode mode);

const char *
scenario_action_name(enum scenario_action action);

/**
 * The keys the loader accepts in each kind of object, for the test that
 * keeps the loader and scenarios/scenario.schema.json in agreement.
 * `path` names the object the way the schema nests it: "" (top level),
 * "server", "clients[]", "clients[].steps[].call", "expect.events.*", ...
 * (`[]`: any element, `*`: any key). The array ends with {NULL, NULL}.
 */
struct scenario_keys {
	const char *path;
	/** NULL-terminated. */
	const char *const *keys;
};

const struct scenario_keys *
scenario_key_tables(void);

#endif /* KHARON_SCENARIO_SCENARIO_H */
