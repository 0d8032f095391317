/*
 * bench_server.c — the server a `kharon bench` client measures. See
 * bench_server.h.
 */
#include "cli/bench_server.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "rt/rt.h"

int
bench_server_start(struct bench_server *b, const char *target,
		   const struct iproto_opts *opts)
{
	memset(b, 0, sizeof(*b));
	b->rt = rt_thread_new();
	if (b->rt == NULL)
		return -1;
	if (target != NULL) {
		snprintf(b->addr, sizeof(b->addr), "%s", target);
		return 0;
	}
	struct iproto_opts o = *opts;
	strcpy(o.listen, "127.0.0.1:0");
	b->server = iproto_server_new(b->rt, &o);
	if (b->server == NULL || iproto_server_start(b->server) != 0) {
		bench_server_abort(b);
		return -1;
	}
	snprintf(b->addr, sizeof(b->addr), "127.0.0.1:%d",
		 iproto_server_port(b->server));
	return 0;
}

void
bench_server_finish(struct bench_server *b, bool graceful)
{
	if (b->server != NULL)
		iproto_server_shutdown(b->server, graceful ?
				       1000ULL * 1000 * 1000 : 0);
	rt_run(b->rt);
}

void
bench_server_print_writev(const struct bench_server *b, const char *name,
			  const char *labels, uint64_t per)
{
	if (b->server == NULL || per == 0)
		return;
	struct iproto_stats st;
	iproto_server_stats(b->server, &st);
	printf("%s%s %.6f\n", name, labels, (double)st.n_writev / (double)per);
}

void
bench_server_delete(struct bench_server *b)
{
	if (b->server != NULL)
		iproto_server_delete(b->server);
	b->server = NULL;
	if (b->rt != NULL)
		rt_delete(b->rt);
	b->rt = NULL;
}

void
bench_server_abort(struct bench_server *b)
{
	struct diag err = *diag_last();
	bench_server_finish(b, false);
	bench_server_delete(b);
	*diag_last() = err;
}
