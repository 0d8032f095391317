/*
 * session.c — sessions and the closed-session vtab. See session.h.
 */
#include "box/session.h"

#include "base/diag.h"
#include "proto/errcode.h"
#include "trace/trace.h"

/** Push of a closed session (Tarantool's closed_session_push). */
static int
session_closed_push(struct session *session, uint64_t sync, struct port *port)
{
	(void)port;
	TRACE("push.closed", TI("session", session->id), TI("sync", sync));
	diag_set_client(ER_SESSION_CLOSED);
	return -1;
}

/** Nothing more will be sent; a pusher learns it from its next push. */
static size_t
session_closed_unsent(const struct session *session)
{
	(void)session;
	return 0;
}

static const struct session_vtab session_closed_vtab = {
	.push = session_closed_push,
	.unsent = session_closed_unsent,
};

void
session_create(struct session *session, uint64_t id,
	       const struct session_vtab *vtab, void *owner)
{
	session->id = id;
	session->vtab = vtab;
	session->owner = owner;
	session->is_closed = false;
}

void
session_close(struct session *session)
{
	session->vtab = &session_closed_vtab;
	session->is_closed = true;
}
