/*
 * bad_input — replays the bad-input corpus (tests/bad/NN-name.case) against a
 * running iproto server and checks how it reacts.
 *
 * Each case is a little script (format: tests/bad/README.md): raw bytes to
 * send, then what must come back — an error reply with a given sync, an
 * error packet followed by a close, silence, or a plain reply.  After every
 * case a PING on a NEW connection must be answered: whatever a client sends,
 * the server stays alive.
 *
 *   bad_input ──TCP──► kharon serve / tarantool 2.6
 *     │  connect, read the 128-byte greeting
 *     │  send bytes ........................► parse, reply or close
 *     │  read packets, check code/sync ◄.....
 *     │  new connection: PING ..............► must be answered
 *
 * This is a test tool, not part of src/: it talks to the server through
 * plain POSIX sockets and decodes replies with its own small MsgPack reader
 * (so that a broken reply is reported, never trusted).  Every wait has a
 * deadline: a case cannot hang longer than about two seconds.
 *
 * Usage: bad_input HOST:PORT [--target kharon|tarantool] [-v] CASE_FILE...
 * Prints "PASS name" or "FAIL name: ..." per case, then "N passed, N failed";
 * exits 0 only if every case passed.
 *
 * Lesson: the bad-input corpus is described in tests/bad/README.md; the
 * framing rules it probes are in DESIGN.md §7.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	BAD_GREETING = 128,
	BAD_REPLY_MS = 1000,     /* wait for one expected reply */
	BAD_CLOSE_MS = 1000,     /* wait for EOF after an error packet */
	BAD_CASE_MS = 2500,      /* hard cap on the whole case */
	BAD_MAX_STEPS = 64,
	BAD_MAX_CODES = 8,
	BAD_PING_SYNC = 0x5a5a,  /* sync of the "then ping" PING */
	BAD_RX_MAX = 1 << 20,
};

/* ------------------------------------------------------------------ */
/* Case files                                                           */

enum step_kind {
	STEP_SEND, STEP_PINGS, STEP_FLOOD, STEP_PAUSE, STEP_PING,
	STEP_REPLY, STEP_ERROR, STEP_PONGS, STEP_ERROR_CLOSE,
	STEP_ERRORS_CLOSE, STEP_CLOSE, STEP_SILENCE, STEP_NOTHING,
};

struct step {
	enum step_kind kind;
	int line;
	unsigned char *bytes;    /* STEP_SEND */
	size_t n_bytes;
	uint64_t n;              /* count, ms, or chunk size */
	uint64_t ms;             /* STEP_FLOOD duration */
	uint64_t sync;
	bool any_code;
	int n_codes;
	uint64_t codes[BAD_MAX_CODES];
	char *message;           /* substring of the error message, or NULL */
	bool is_generic;         /* written without a target prefix */
};

struct bad_case {
	char name[256];
	int n_steps;
	struct step steps[BAD_MAX_STEPS];
};

static void
case_free(struct bad_case *c)
{
	for (int i = 0; i < c->n_steps; i++) {
		free(c->steps[i].bytes);
		free(c->steps[i].message);
	}
	c->n_steps = 0;
}

static int
parse_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: %s\n", file, line, what);
	return -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "ce 00 00 00 05" or "ce000000 05" → bytes. */
static int
parse_hex(const char *s, struct step *st)
{
	size_t cap = strlen(s) / 2 + 1;
	st->bytes = malloc(cap);
	if (st->bytes == NULL)
		return -1;
	st->n_bytes = 0;
	int hi = -1;
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			continue;
		int v = hexval((unsigned char)*s);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
		} else {
			st->bytes[st->n_bytes++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	return hi < 0 && st->n_bytes > 0 ? 0 : -1;
}

static int
parse_u64(const char *s, uint64_t *out)
{
	if (*s == '\0' || *s == '-')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* "20", "69|48", "*" → code list (error codes without the 0x8000 bit). */
static int
parse_codes(char *s, struct step *st)
{
	if (strcmp(s, "*") == 0) {
		st->any_code = true;
		return 0;
	}
	for (char *tok = strtok(s, "|"); tok != NULL; tok = strtok(NULL, "|")) {
		if (st->n_codes == BAD_MAX_CODES ||
		    parse_u64(tok, &st->codes[st->n_codes]) != 0)
			return -1;
		st->n_codes++;
	}
	return st->n_codes > 0 ? 0 : -1;
}

/* Optional tail: message "substring". */
static int
parse_message(char *rest, struct step *st)
{
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest == '\0')
		return 0;
	if (strncmp(rest, "message", 7) != 0)
		return -1;
	char *q1 = strchr(rest, '"');
	char *q2 = q1 != NULL ? strrchr(q1 + 1, '"') : NULL;
	if (q2 == NULL)
		return -1;
	*q2 = '\0';
	st->message = strdup(q1 + 1);
	return st->message != NULL ? 0 : -1;
}

/* Splits off the next blank-separated word; returns NULL at the end. */
static char *
next_word(char **p)
{
	char *s = *p;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return NULL;
	char *w = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return w;
}

/* One step line (target prefix already removed) → *st. */
static int
parse_step(char *text, struct step *st)
{
	char *p = text;
	char *w = next_word(&p);
	char *a, *b;
	if (w == NULL)
		return -1;
	if (strcmp(w, "send") == 0) {
		st->kind = STEP_SEND;
		return parse_hex(p, st);
	}
	if (strcmp(w, "pings") == 0 || strcmp(w, "pause") == 0 ||
	    strcmp(w, "flood") == 0) {
		st->kind = w[1] == 'i' ? STEP_PINGS :
			   w[1] == 'a' ? STEP_PAUSE : STEP_FLOOD;
		if ((a = next_word(&p)) == NULL || parse_u64(a, &st->n) != 0)
			return -1;
		if (st->kind == STEP_PAUSE)
			return next_word(&p) == NULL ? 0 : -1;
		if ((b = next_word(&p)) == NULL)
			return -1;
		if (st->kind == STEP_PINGS)
			return parse_u64(b, &st->sync) == 0 &&
			       next_word(&p) == NULL && st->n > 0 ? 0 : -1;
		/* flood SIZE MS SEED */
		if (parse_u64(b, &st->ms) != 0 ||
		    (a = next_word(&p)) == NULL ||
		    parse_u64(a, &st->sync) != 0 || next_word(&p) != NULL)
			return -1;
		return st->n > 0 && st->n <= 65536 ? 0 : -1;
	}
	if (strcmp(w, "then") == 0) {
		st->kind = STEP_PING;
		w = next_word(&p);
		return w != NULL && strcmp(w, "ping") == 0 &&
		       next_word(&p) == NULL ? 0 : -1;
	}
	if (strcmp(w, "nothing") == 0) {
		st->kind = STEP_NOTHING;
		return next_word(&p) == NULL ? 0 : -1;
	}
	if (strcmp(w, "expect") != 0 || (w = next_word(&p)) == NULL)
		return -1;
	if (strcmp(w, "reply") == 0 || strcmp(w, "error") == 0) {
		/* expect reply|error CODES sync N [message "..."] */
		st->kind = w[0] == 'r' ? STEP_REPLY : STEP_ERROR;
		if ((a = next_word(&p)) == NULL || parse_codes(a, st) != 0)
			return -1;
		if ((b = next_word(&p)) == NULL || strcmp(b, "sync") != 0 ||
		    (b = next_word(&p)) == NULL || parse_u64(b, &st->sync) != 0)
			return -1;
		if (st->kind == STEP_REPLY && st->any_code)
			return -1;
		return parse_message(p, st);
	}
	if (strcmp(w, "pongs") == 0) {
		st->kind = STEP_PONGS;
		if ((a = next_word(&p)) == NULL || parse_u64(a, &st->n) != 0 ||
		    (b = next_word(&p)) == NULL || parse_u64(b, &st->sync) != 0)
			return -1;
		return next_word(&p) == NULL && st->n > 0 ? 0 : -1;
	}
	if (strcmp(w, "error-close") == 0 || strcmp(w, "errors-then-close") == 0) {
		st->kind = w[5] == '-' ? STEP_ERROR_CLOSE : STEP_ERRORS_CLOSE;
		if ((a = next_word(&p)) == NULL || parse_codes(a, st) != 0)
			return -1;
		return parse_message(p, st);
	}
	if (strcmp(w, "close") == 0) {
		st->kind = STEP_CLOSE;
		return next_word(&p) == NULL ? 0 : -1;
	}
	if (strcmp(w, "silence") == 0) {
		st->kind = STEP_SILENCE;
		if ((a = next_word(&p)) == NULL || parse_u64(a, &st->n) != 0)
			return -1;
		return next_word(&p) == NULL && st->n <= 2000 ? 0 : -1;
	}
	return -1;
}

/*
 * Reads a case file for one target.  A line "TARGET: STEP" is used only
 * against TARGET; the first such line after a generic line replaces that
 * generic line, further ones are added after it.
 */
static int
case_load(const char *path, const char *target, struct bad_case *c)
{
	memset(c, 0, sizeof(*c));
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	snprintf(c->name, sizeof(c->name), "%s", base);
	char *dot = strstr(c->name, ".case");
	if (dot != NULL)
		*dot = '\0';

	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	char buf[8192];
	int line = 0, rc = 0;
	bool last_was_generic = false;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		char *s = buf;
		/* "#" starts a comment unless it is inside a quoted message. */
		bool quoted = false;
		for (char *q = s; *q != '\0'; q++) {
			if (*q == '"')
				quoted = !quoted;
			else if ((*q == '#' && !quoted) || *q == '\n')
				*q = '\0';
		}
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			continue;
		bool generic = true, mine = true;
		char *colon = strchr(s, ':');
		char *sp = strpbrk(s, " \t");
		if (colon != NULL && (sp == NULL || colon < sp)) {
			*colon = '\0';
			generic = false;
			mine = strcmp(s, target) == 0;
			if (strcmp(s, "kharon") != 0 && strcmp(s, "tarantool") != 0) {
				rc = parse_fail(path, line, "unknown target prefix");
				break;
			}
			s = colon + 1;
		}
		if (!mine)
			continue;
		struct step st;
		memset(&st, 0, sizeof(st));
		st.line = line;
		st.is_generic = generic;
		if (parse_step(s, &st) != 0) {
			free(st.bytes);
			free(st.message);
			rc = parse_fail(path, line, "cannot parse this line");
			break;
		}
		if (!generic && last_was_generic) {
			struct step *old = &c->steps[c->n_steps - 1];
			free(old->bytes);
			free(old->message);
			*old = st;
		} else if (c->n_steps == BAD_MAX_STEPS) {
			free(st.bytes);
			free(st.message);
			rc = parse_fail(path, line, "too many steps");
			break;
		} else {
			c->steps[c->n_steps++] = st;
		}
		last_was_generic = generic;
	}
	fclose(f);
	if (rc == 0 && c->n_steps == 0)
		rc = parse_fail(path, line, "no steps");
	if (rc != 0)
		case_free(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Time and sockets                                                     */

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct conn {
	int fd;
	unsigned char *rx;       /* bytes received, not yet consumed */
	size_t rx_len;
	bool is_eof;             /* peer closed (FIN or RST) */
	int64_t deadline;        /* end of the whole case */
	char why[512];           /* what happened, for FAIL lines */
};

static const char *g_host;
static const char *g_port;
static bool g_verbose;

static int
conn_open(struct conn *cn, int64_t deadline)
{
	memset(cn, 0, sizeof(*cn));
	cn->fd = -1;
	cn->deadline = deadline;
	cn->rx = malloc(BAD_RX_MAX);
	if (cn->rx == NULL) {
		snprintf(cn->why, sizeof(cn->why), "out of memory");
		return -1;
	}
	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int e = getaddrinfo(g_host, g_port, &hints, &ai);
	if (e != 0) {
		snprintf(cn->why, sizeof(cn->why), "resolve %s: %s", g_host,
			 gai_strerror(e));
		return -1;
	}
	cn->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (cn->fd < 0 || connect(cn->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(cn->why, sizeof(cn->why), "connect: %s", strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(cn->fd, F_SETFL, fcntl(cn->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void
conn_close(struct conn *cn)
{
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
	free(cn->rx);
	cn->rx = NULL;
}

/*
 * Waits up to @ms (never past the case deadline) for more input.
 * Returns 1 if bytes arrived, 0 on timeout, -1 on EOF/reset.
 */
static int
conn_fill(struct conn *cn, int64_t ms)
{
	if (cn->is_eof)
		return -1;
	int64_t until = now_ms() + ms;
	if (until > cn->deadline)
		until = cn->deadline;
	for (;;) {
		ssize_t n = read(cn->fd, cn->rx + cn->rx_len, BAD_RX_MAX - cn->rx_len);
		if (n > 0) {
			cn->rx_len += (size_t)n;
			return 1;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			cn->is_eof = true;
			return -1;
		}
		int64_t left = until - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { cn->fd, POLLIN, 0 };
		poll(&pfd, 1, (int)left);
	}
}

/* Drains whatever is readable now, without waiting. */
static void
conn_drain(struct conn *cn)
{
	while (!cn->is_eof && cn->rx_len < BAD_RX_MAX) {
		ssize_t n = read(cn->fd, cn->rx + cn->rx_len, BAD_RX_MAX - cn->rx_len);
		if (n > 0) {
			cn->rx_len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			cn->is_eof = true;
		return;
	}
}

/* Writes all bytes (draining input meanwhile). 0 ok, -1 peer gone/timeout. */
static int
conn_write(struct conn *cn, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(cn->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(cn->why, sizeof(cn->why), "send: %s", strerror(errno));
			return -1;
		}
		int64_t left = cn->deadline - now_ms();
		if (left <= 0) {
			snprintf(cn->why, sizeof(cn->why), "send timed out");
			return -1;
		}
		conn_drain(cn);
		struct pollfd pfd = { cn->fd, POLLOUT, 0 };
		poll(&pfd, 1, left > 50 ? 50 : (int)left);
	}
	return 0;
}

static int
conn_greeting(struct conn *cn)
{
	while (cn->rx_len < BAD_GREETING) {
		int r = conn_fill(cn, BAD_REPLY_MS);
		if (r <= 0) {
			snprintf(cn->why, sizeof(cn->why), "no 128-byte greeting (%s)",
				 r == 0 ? "timeout" : "closed");
			return -1;
		}
	}
	if (memcmp(cn->rx, "Tarantool ", 10) != 0 || cn->rx[63] != '\n' ||
	    cn->rx[127] != '\n') {
		snprintf(cn->why, sizeof(cn->why), "malformed greeting");
		return -1;
	}
	memmove(cn->rx, cn->rx + BAD_GREETING, cn->rx_len - BAD_GREETING);
	cn->rx_len -= BAD_GREETING;
	return 0;
}

/* ------------------------------------------------------------------ */
/* A small MsgPack reader for replies (bounds-checked, never trusts).   */

struct mp {
	const unsigned char *p, *end;
};

static int
mp_need(struct mp *m, size_t n)
{
	return (size_t)(m->end - m->p) >= n ? 0 : -1;
}

static uint64_t
mp_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads a uint of any width. 0 ok, -1 truncated, -2 not a uint. */
static int
mp_uint(struct mp *m, uint64_t *v)
{
	if (mp_need(m, 1) != 0)
		return -1;
	unsigned c = *m->p;
	int w;
	if (c <= 0x7f) {
		*v = c;
		m->p++;
		return 0;
	}
	switch (c) {
	case 0xcc: w = 1; break;
	case 0xcd: w = 2; break;
	case 0xce: w = 4; break;
	case 0xcf: w = 8; break;
	default: return -2;
	}
	if (mp_need(m, 1 + (size_t)w) != 0)
		return -1;
	*v = mp_be(m->p + 1, w);
	m->p += 1 + w;
	return 0;
}

/* Map header → number of pairs, or -1. */
static int64_t
mp_map(struct mp *m)
{
	if (mp_need(m, 1) != 0)
		return -1;
	unsigned c = *m->p;
	if ((c & 0xf0) == 0x80) {
		m->p++;
		return c & 0x0f;
	}
	int w = c == 0xde ? 2 : c == 0xdf ? 4 : 0;
	if (w == 0 || mp_need(m, 1 + (size_t)w) != 0)
		return -1;
	int64_t n = (int64_t)mp_be(m->p + 1, w);
	m->p += 1 + w;
	return n;
}

/* Reads a str, returns its bytes and length. */
static int
mp_str(struct mp *m, const char **s, size_t *len)
{
	if (mp_need(m, 1) != 0)
		return -1;
	unsigned c = *m->p;
	size_t hdr, n;
	if ((c & 0xe0) == 0xa0) {
		hdr = 1;
		n = c & 0x1f;
	} else if (c >= 0xd9 && c <= 0xdb) {
		int w = 1 << (c - 0xd9);
		if (mp_need(m, 1 + (size_t)w) != 0)
			return -1;
		hdr = 1 + (size_t)w;
		n = (size_t)mp_be(m->p + 1, w);
	} else {
		return -1;
	}
	if (mp_need(m, hdr) != 0 || (size_t)(m->end - m->p) - hdr < n)
		return -1;
	*s = (const char *)m->p + hdr;
	*len = n;
	m->p += hdr + n;
	return 0;
}

/* Skips one value of any type. */
static int
mp_skip(struct mp *m, int depth)
{
	if (depth > 64 || mp_need(m, 1) != 0)
		return -1;
	unsigned c = *m->p;
	uint64_t n = 0;
	size_t skip = 0;
	int w;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
		m->p++;
		return 0;
	}
	if ((c & 0xe0) == 0xa0 || (c >= 0xd9 && c <= 0xdb)) {
		const char *s;
		return mp_str(m, &s, &skip);
	}
	if ((c & 0xf0) == 0x90 || (c & 0xf0) == 0x80) {
		n = c & 0x0f;
		m->p++;
		goto items;
	}
	switch (c) {
	case 0xcc: case 0xd0: skip = 2; break;
	case 0xcd: case 0xd1: skip = 3; break;
	case 0xce: case 0xd2: case 0xca: skip = 5; break;
	case 0xcf: case 0xd3: case 0xcb: skip = 9; break;
	case 0xd4: skip = 3; break;
	case 0xd5: skip = 4; break;
	case 0xd6: skip = 6; break;
	case 0xd7: skip = 10; break;
	case 0xd8: skip = 18; break;
	case 0xc4: case 0xc5: case 0xc6:
	case 0xc7: case 0xc8: case 0xc9:
		w = c <= 0xc6 ? 1 << (c - 0xc4) : 1 << (c - 0xc7);
		if (mp_need(m, 1 + (size_t)w) != 0)
			return -1;
		skip = 1 + (size_t)w + (size_t)mp_be(m->p + 1, w) + (c >= 0xc7);
		break;
	case 0xdc: case 0xdd: case 0xde: case 0xdf:
		w = (c == 0xdc || c == 0xde) ? 2 : 4;
		if (mp_need(m, 1 + (size_t)w) != 0)
			return -1;
		n = mp_be(m->p + 1, w);
		m->p += 1 + w;
		goto items;
	default:
		return -1;  /* 0xc1 */
	}
	if (mp_need(m, skip) != 0)
		return -1;
	m->p += skip;
	return 0;
items:
	if (c >= 0x80 && (c <= 0x8f || c == 0xde || c == 0xdf))
		n *= 2;
	for (uint64_t i = 0; i < n; i++)
		if (mp_skip(m, depth + 1) != 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reply packets                                                        */

struct packet {
	uint64_t code;
	uint64_t sync;
	bool has_sync;
	char message[200];       /* IPROTO_ERROR_24 (0x31), if any */
};

static bool
packet_is_error(const struct packet *pk)
{
	return (pk->code & 0x8000) != 0;
}

static void
packet_describe(const struct packet *pk, char *buf, size_t size)
{
	if (packet_is_error(pk))
		snprintf(buf, size, "error %llu sync %llu \"%s\"",
			 (unsigned long long)(pk->code & 0x7fff),
			 (unsigned long long)pk->sync, pk->message);
	else
		snprintf(buf, size, "reply 0x%llx sync %llu",
			 (unsigned long long)pk->code,
			 (unsigned long long)pk->sync);
}

/* Decodes one complete packet from a buffer. 0 ok, -1 need more, -2 bad. */
static int
packet_decode(const unsigned char *buf, size_t len, struct packet *pk,
	      size_t *used)
{
	struct mp m = { buf, buf + len };
	uint64_t plen;
	int r = mp_uint(&m, &plen);
	if (r != 0)
		return r;
	if (plen > (uint64_t)(m.end - m.p))
		return plen > BAD_RX_MAX ? -2 : -1;
	const unsigned char *pend = m.p + plen;
	m.end = pend;
	memset(pk, 0, sizeof(*pk));
	pk->code = UINT64_MAX;
	int64_t n = mp_map(&m);
	if (n < 0)
		return -2;
	for (int64_t i = 0; i < n; i++) {
		uint64_t key, v;
		if (mp_uint(&m, &key) != 0)
			return -2;
		if (key == 0x00 || key == 0x01) {
			if (mp_uint(&m, &v) != 0)
				return -2;
			if (key == 0x00) {
				pk->code = v;
			} else {
				pk->sync = v;
				pk->has_sync = true;
			}
		} else if (mp_skip(&m, 0) != 0) {
			return -2;
		}
	}
	if (pk->code == UINT64_MAX || !pk->has_sync)
		return -2;
	if (m.p < pend) {
		n = mp_map(&m);
		if (n < 0)
			return -2;
		for (int64_t i = 0; i < n; i++) {
			uint64_t key;
			const char *s;
			size_t slen;
			if (mp_uint(&m, &key) != 0)
				return -2;
			if (key == 0x31 && mp_str(&m, &s, &slen) == 0) {
				if (slen >= sizeof(pk->message))
					slen = sizeof(pk->message) - 1;
				memcpy(pk->message, s, slen);
				pk->message[slen] = '\0';
			} else if (mp_skip(&m, 0) != 0) {
				return -2;
			}
		}
	}
	if (m.p != pend)
		return -2;
	*used = (size_t)(pend - buf);
	return 0;
}

/*
 * Next reply packet within @ms.  Returns 1 packet, 0 timeout, -1 EOF
 * (nothing pending), -2 garbage from the server.
 */
static int
conn_packet(struct conn *cn, int64_t ms, struct packet *pk)
{
	int64_t until = now_ms() + ms;
	for (;;) {
		size_t used;
		int r = packet_decode(cn->rx, cn->rx_len, pk, &used);
		if (r == 0) {
			memmove(cn->rx, cn->rx + used, cn->rx_len - used);
			cn->rx_len -= used;
			if (g_verbose) {
				char d[300];
				packet_describe(pk, d, sizeof(d));
				printf("    < %s\n", d);
			}
			return 1;
		}
		if (r == -2)
			return -2;
		int64_t left = until - now_ms();
		if (left <= 0)
			return 0;
		int f = conn_fill(cn, left);
		if (f < 0)
			return cn->rx_len > 0 ? -2 : -1;
	}
}

/* ------------------------------------------------------------------ */
/* Running a case                                                       */

static size_t
ping_encode(unsigned char *out, uint64_t sync)
{
	/* ce <u32 len> | 82 00 40 01 cf <u64 sync>: PING, no body. */
	unsigned char *p = out;
	*p++ = 0xce;
	p[0] = p[1] = p[2] = 0;
	p[3] = 13;
	p += 4;
	*p++ = 0x82;
	*p++ = 0x00;
	*p++ = 0x40;
	*p++ = 0x01;
	*p++ = 0xcf;
	for (int i = 7; i >= 0; i--)
		*p++ = (unsigned char)(sync >> (8 * i));
	return (size_t)(p - out);
}

static bool
code_matches(const struct step *st, uint64_t code)
{
	if (st->any_code)
		return true;
	for (int i = 0; i < st->n_codes; i++)
		if (st->codes[i] == code)
			return true;
	return false;
}

static void
codes_describe(const struct step *st, char *buf, size_t size)
{
	if (st->any_code) {
		snprintf(buf, size, "*");
		return;
	}
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < st->n_codes && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%llu",
					i ? "|" : "",
					(unsigned long long)st->codes[i]);
}

static const char *
outcome_name(int r)
{
	return r == 0 ? "nothing (timeout)" : r == -1 ? "close" :
	       "undecodable bytes";
}

/* Checks one error packet against the step; fills cn->why on mismatch. */
static int
check_error(struct conn *cn, const struct step *st, const struct packet *pk,
	    uint64_t sync)
{
	char got[300], want[64];
	packet_describe(pk, got, sizeof(got));
	codes_describe(st, want, sizeof(want));
	if (!packet_is_error(pk) || !code_matches(st, pk->code & 0x7fff) ||
	    pk->sync != sync ||
	    (st->message != NULL && strstr(pk->message, st->message) == NULL)) {
		snprintf(cn->why, sizeof(cn->why),
			 "expected error %s sync %llu%s%s%s, got %s", want,
			 (unsigned long long)sync,
			 st->message ? " message \"" : "",
			 st->message ? st->message : "", st->message ? "\"" : "",
			 got);
		return -1;
	}
	return 0;
}

/* Waits for EOF with no more bytes. */
static int
expect_eof(struct conn *cn, int64_t ms, const char *after)
{
	int64_t until = now_ms() + ms;
	for (;;) {
		if (cn->rx_len > 0) {
			struct packet pk;
			size_t used;
			char d[300] = "undecodable bytes";
			if (packet_decode(cn->rx, cn->rx_len, &pk, &used) == 0)
				packet_describe(&pk, d, sizeof(d));
			snprintf(cn->why, sizeof(cn->why),
				 "expected close%s, got %s", after, d);
			return -1;
		}
		int64_t left = until - now_ms();
		if (left <= 0) {
			snprintf(cn->why, sizeof(cn->why),
				 "expected close%s, connection still open", after);
			return -1;
		}
		if (conn_fill(cn, left) < 0)
			return cn->rx_len > 0 ? expect_eof(cn, 0, after) : 0;
	}
}

/* Pseudo-random bytes for "flood" (xorshift64*, seeded by the case). */
static uint64_t
flood_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static int
step_flood(struct conn *cn, const struct step *st)
{
	unsigned char chunk[65536];
	uint64_t seed = st->sync != 0 ? st->sync : 1;
	int64_t until = now_ms() + (int64_t)st->ms;
	if (until > cn->deadline - BAD_CLOSE_MS)
		until = cn->deadline - BAD_CLOSE_MS;
	size_t total = 0;
	while (now_ms() < until && !cn->is_eof) {
		for (size_t i = 0; i < st->n; i++)
			chunk[i] = (unsigned char)(flood_next(&seed) >> 56);
		ssize_t n = send(cn->fd, chunk, st->n, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;    /* the peer closed: that is what floods probe */
		if (n > 0)
			total += (size_t)n;
		conn_drain(cn);
		sleep_ms(2);
	}
	conn_drain(cn);
	if (g_verbose)
		printf("    > flood: %zu bytes written%s\n", total,
		       cn->is_eof ? ", peer closed" : "");
	return 0;
}

static int
run_step(struct conn *cn, const struct step *st)
{
	struct packet pk;
	unsigned char buf[32];
	char d[300], want[64];
	int r;
	codes_describe(st, want, sizeof(want));
	switch (st->kind) {
	case STEP_NOTHING:
		return 0;
	case STEP_SEND:
		return conn_write(cn, st->bytes, st->n_bytes);
	case STEP_PAUSE:
		sleep_ms((int64_t)st->n);
		return 0;
	case STEP_PINGS: {
		unsigned char *all = malloc(st->n * 32);
		size_t len = 0;
		if (all == NULL)
			return -1;
		for (uint64_t i = 0; i < st->n; i++)
			len += ping_encode(all + len, st->sync + i);
		r = conn_write(cn, all, len);
		free(all);
		return r;
	}
	case STEP_FLOOD:
		return step_flood(cn, st);
	case STEP_PING:
		if (conn_write(cn, buf, ping_encode(buf, BAD_PING_SYNC)) != 0)
			return -1;
		r = conn_packet(cn, BAD_REPLY_MS, &pk);
		if (r != 1) {
			snprintf(cn->why, sizeof(cn->why),
				 "PING on the same connection: expected reply 0 "
				 "sync %d, got %s", BAD_PING_SYNC, outcome_name(r));
			return -1;
		}
		if (pk.code != 0 || pk.sync != BAD_PING_SYNC) {
			packet_describe(&pk, d, sizeof(d));
			snprintf(cn->why, sizeof(cn->why),
				 "PING on the same connection: expected reply 0 "
				 "sync %d, got %s", BAD_PING_SYNC, d);
			return -1;
		}
		return 0;
	case STEP_REPLY:
	case STEP_ERROR:
		r = conn_packet(cn, BAD_REPLY_MS, &pk);
		if (r != 1) {
			snprintf(cn->why, sizeof(cn->why),
				 "expected %s %s sync %llu, got %s",
				 st->kind == STEP_REPLY ? "reply" : "error", want,
				 (unsigned long long)st->sync, outcome_name(r));
			return -1;
		}
		if (st->kind == STEP_ERROR)
			return check_error(cn, st, &pk, st->sync);
		if (!code_matches(st, pk.code) || pk.sync != st->sync) {
			packet_describe(&pk, d, sizeof(d));
			snprintf(cn->why, sizeof(cn->why),
				 "expected reply %s sync %llu, got %s", want,
				 (unsigned long long)st->sync, d);
			return -1;
		}
		return 0;
	case STEP_PONGS:
		for (uint64_t i = 0; i < st->n; i++) {
			r = conn_packet(cn, BAD_REPLY_MS, &pk);
			if (r != 1 || pk.code != 0 || pk.sync != st->sync + i) {
				if (r == 1)
					packet_describe(&pk, d, sizeof(d));
				snprintf(cn->why, sizeof(cn->why),
					 "reply #%llu: expected reply 0 sync %llu, "
					 "got %s", (unsigned long long)i + 1,
					 (unsigned long long)(st->sync + i),
					 r == 1 ? d : outcome_name(r));
				return -1;
			}
		}
		return 0;
	case STEP_ERROR_CLOSE:
		r = conn_packet(cn, BAD_REPLY_MS, &pk);
		if (r != 1) {
			snprintf(cn->why, sizeof(cn->why),
				 "expected error %s sync 0 then close, got %s",
				 want, outcome_name(r));
			return -1;
		}
		if (check_error(cn, st, &pk, 0) != 0)
			return -1;
		return expect_eof(cn, BAD_CLOSE_MS, " after the error packet");
	case STEP_ERRORS_CLOSE: {
		/* Any error packets with sync 0, the last one in the codes. */
		struct packet last = { 0 };
		int n = 0;
		for (;;) {
			r = conn_packet(cn, BAD_REPLY_MS + BAD_CLOSE_MS, &pk);
			if (r != 1)
				break;
			if (!packet_is_error(&pk) || pk.sync != 0) {
				packet_describe(&pk, d, sizeof(d));
				snprintf(cn->why, sizeof(cn->why),
					 "expected only error packets with sync 0 "
					 "then close, got %s", d);
				return -1;
			}
			last = pk;
			n++;
		}
		if (r != -1 || n == 0) {
			snprintf(cn->why, sizeof(cn->why),
				 "expected error %s sync 0 then close, got %s%s",
				 want, n ? "some errors then " : "",
				 outcome_name(r));
			return -1;
		}
		if (g_verbose)
			printf("    . %d error packet(s), then close\n", n);
		return check_error(cn, st, &last, 0);
	}
	case STEP_CLOSE:
		return expect_eof(cn, BAD_CLOSE_MS, "");
	case STEP_SILENCE: {
		int64_t until = now_ms() + (int64_t)st->n;
		while (now_ms() < until) {
			r = conn_fill(cn, until - now_ms());
			if (r != 0 || cn->rx_len > 0) {
				d[0] = '\0';
				if (cn->rx_len > 0) {
					size_t used;
					snprintf(d, sizeof(d), "%zu bytes", cn->rx_len);
					if (packet_decode(cn->rx, cn->rx_len, &pk,
							  &used) == 0)
						packet_describe(&pk, d, sizeof(d));
				}
				snprintf(cn->why, sizeof(cn->why),
					 "expected silence for %llu ms, got %s",
					 (unsigned long long)st->n,
					 cn->rx_len > 0 ? d : "close");
				return -1;
			}
			if (now_ms() >= cn->deadline) {
				snprintf(cn->why, sizeof(cn->why),
					 "case deadline reached");
				return -1;
			}
		}
		return 0;
	}
	}
	return -1;
}

/* A PING on a fresh connection: is the server still alive? */
static int
server_alive(char *why, size_t size)
{
	struct conn cn;
	unsigned char buf[32];
	struct packet pk;
	int rc = -1;
	if (conn_open(&cn, now_ms() + 2 * BAD_REPLY_MS) != 0 ||
	    conn_greeting(&cn) != 0 ||
	    conn_write(&cn, buf, ping_encode(buf, 1)) != 0)
		goto out;
	int r = conn_packet(&cn, BAD_REPLY_MS, &pk);
	if (r != 1 || pk.code != 0 || pk.sync != 1) {
		snprintf(cn.why, sizeof(cn.why), "PING got %s",
			 r == 1 ? "a wrong reply" : outcome_name(r));
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		snprintf(why, size, "server not alive after the case: %s", cn.why);
	conn_close(&cn);
	return rc;
}

static const char *
step_name(enum step_kind k)
{
	static const char *names[] = {
		"send", "pings", "flood", "pause", "then ping", "expect reply",
		"expect error", "expect pongs", "expect error-close",
		"expect errors-then-close", "expect close", "expect silence",
		"nothing",
	};
	return names[k];
}

static int
case_run(const struct bad_case *c, char *why, size_t size)
{
	struct conn cn;
	int64_t start = now_ms();
	int rc = 0;
	if (conn_open(&cn, start + BAD_CASE_MS) != 0 || conn_greeting(&cn) != 0) {
		snprintf(why, size, "%s", cn.why);
		conn_close(&cn);
		return -1;
	}
	for (int i = 0; i < c->n_steps; i++) {
		const struct step *st = &c->steps[i];
		if (g_verbose)
			printf("  line %d: %s\n", st->line, step_name(st->kind));
		if (run_step(&cn, st) != 0) {
			snprintf(why, size, "line %d (%s): %s", st->line,
				 step_name(st->kind), cn.why);
			rc = -1;
			break;
		}
	}
	conn_close(&cn);
	if (rc == 0)
		rc = server_alive(why, size);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bad_input HOST:PORT [--target kharon|tarantool] "
		"[-v] CASE_FILE...\n");
}

int
main(int argc, char **argv)
{
	const char *target = "kharon";
	const char *addr = NULL;
	int first_case = 0;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
			target = argv[++i];
		} else if (strcmp(argv[i], "-v") == 0) {
			g_verbose = true;
		} else if (addr == NULL) {
			addr = argv[i];
		} else if (first_case == 0) {
			first_case = i;
			break;
		}
	}
	if (addr == NULL || first_case == 0 ||
	    (strcmp(target, "kharon") != 0 && strcmp(target, "tarantool") != 0)) {
		usage();
		return 2;
	}
	static char hostbuf[256];
	snprintf(hostbuf, sizeof(hostbuf), "%s", addr);
	char *colon = strrchr(hostbuf, ':');
	if (colon == NULL) {
		usage();
		return 2;
	}
	*colon = '\0';
	g_host = hostbuf;
	g_port = colon + 1;

	int passed = 0, failed = 0;
	static struct bad_case c;
	for (int i = first_case; i < argc; i++) {
		char why[700];
		if (strcmp(argv[i], "-v") == 0) {
			g_verbose = true;
			continue;
		}
		if (case_load(argv[i], target, &c) != 0) {
			printf("FAIL %s: cannot load the case file\n", argv[i]);
			failed++;
			continue;
		}
		if (g_verbose)
			printf("%s\n", c.name);
		if (case_run(&c, why, sizeof(why)) == 0) {
			printf("PASS %s\n", c.name);
			passed++;
		} else {
			printf("FAIL %s: %s\n", c.name, why);
			failed++;
		}
		fflush(stdout);
		case_free(&c);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
