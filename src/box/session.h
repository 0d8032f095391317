/*
 * session.h — who is on the other end of a request, as TX sees it.
 *
 * One session per client connection, created in TX when the connection
 * arrives and closed when it goes. Its vtab says how to push to the client
 * (box.session.push): for a binary connection, through Kharon or, in the
 * benchmark's contrast mode, a message per push (src/iproto/kharon.c).
 * Closing swaps in a vtab whose push fails with "Session is closed"
 * (Tarantool gh-3859), so a procedure still running after the client left
 * gets a clean error, and nothing is written.
 */
#ifndef KHARON_BOX_SESSION_H
#define KHARON_BOX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct port;
struct session;

struct session_vtab {
	/**
	 * Write `port` as an IPROTO_CHUNK with `sync` into the client's
	 * output and arrange for it to be sent. Never waits for the client.
	 * 0, or -1 + diag. TX only.
	 */
	int (*push)(struct session *session, uint64_t sync, struct port *port);
	/**
	 * Bytes of output written for this session and not yet reported
	 * sent, as TX last heard (stale by at most one Kharon trip). TX only.
	 */
	size_t (*unsent)(const struct session *session);
};

struct session {
	uint64_t id;
	const struct session_vtab *vtab;
	/** The connection (struct iproto_connection), for the vtab. */
	void *owner;
	bool is_closed;
};

/** Start a session; `vtab` is the live one. TX only. */
void
session_create(struct session *session, uint64_t id,
	       const struct session_vtab *vtab, void *owner);

/** From now on every push fails with ER_SESSION_CLOSED. TX only. */
void
session_close(struct session *session);

/** box.session.push: 0, or -1 + diag. TX only. */
static inline int
session_push(struct session *session, uint64_t sync, struct port *port)
{
	return session->vtab->push(session, sync, port);
}

static inline size_t
session_unsent(const struct session *session)
{
	return session->vtab->unsent(session);
}

#endif /* KHARON_BOX_SESSION_H */
