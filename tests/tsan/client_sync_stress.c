/*
 * client_sync_stress.c — the blocking facade under TSan: three user
 * threads, each with its own connection to a real-threads server, make
 * calls that push; a tiny queue cap makes reading pause and resume all the
 * time, so the user-thread/I-O-cord handoff is crossed constantly.
 * Pass: every push in order, every result right, no race report, no leak.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "client/client_sync.h"
#include "iproto/iproto.h"
#include "proto/mp.h"
#include "rt/rt.h"

enum { N_USERS = 3, N_CALLS = 20, N_PUSHES = 300 };

static char addr[64];
static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

struct expect {
	uint64_t next;
	int bad;
};

static void
on_push(void *ctx, const char *data, const char *end)
{
	struct expect *x = ctx;
	(void)end;
	/* [i, "p"] with i = 1, 2, ... */
	const char *p = data;
	if (mp_typeof(*p) != MP_ARRAY || mp_decode_array(&p) != 2 ||
	    mp_decode_uint(&p) != x->next + 1)
		x->bad++;
	x->next++;
}

static void
fail(const char *what)
{
	pthread_mutex_lock(&failures_lock);
	failures++;
	fprintf(stderr, "client_sync_stress: %s\n", what);
	pthread_mutex_unlock(&failures_lock);
}

static void *
user_main(void *arg)
{
	(void)arg;
	struct client_sync_opts opts;
	client_sync_opts_default(&opts);
	opts.max_queued = 512;
	struct client_sync *c = client_sync_connect(addr, &opts);
	if (c == NULL) {
		fail(diag_msg());
		return NULL;
	}
	char args[32];
	char *a = mp_encode_array(args, 2);
	a = mp_encode_uint(a, N_PUSHES);
	a = mp_encode_str(a, "p", 1);
	for (int i = 0; i < N_CALLS; i++) {
		struct expect x = { 0, 0 };
		struct client_result r;
		if (client_call(c, "push", args, a, on_push, &x, &r) != 0) {
			fail(diag_msg());
			break;
		}
		if (x.next != N_PUSHES || x.bad != 0 || r.n_pushes != N_PUSHES)
			fail("pushes missing or out of order");
		client_result_destroy(&r);
	}
	client_close(c);
	return NULL;
}

int
main(void)
{
	struct rt *rt = rt_thread_new();
	struct iproto_opts opts;
	iproto_opts_default(&opts);
	strcpy(opts.listen, "127.0.0.1:0");
	struct iproto_server *server = iproto_server_new(rt, &opts);
	if (server == NULL || iproto_server_start(server) != 0)
		return 1;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	pthread_t users[N_USERS];
	for (int i = 0; i < N_USERS; i++)
		pthread_create(&users[i], NULL, user_main, NULL);
	for (int i = 0; i < N_USERS; i++)
		pthread_join(users[i], NULL);
	iproto_server_shutdown(server, 1000ULL * 1000 * 1000);
	rt_run(rt);
	iproto_server_delete(server);
	rt_delete(rt);
	printf("client_sync_stress: %d users x %d calls x %d pushes, %d "
	       "failures, %lld blocks live\n", N_USERS, N_CALLS, N_PUSHES,
	       failures, (long long)mem_live());
	return failures == 0 && mem_live() == 0 ? 0 : 1;
}
