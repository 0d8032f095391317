/*
 * soak — mixed load against a running `kharon serve` for a number of
 * seconds, sampling the server's memory and descriptors every second, then
 * one table. `make soak SECONDS=N` runs it (bench/soak.sh starts the server
 * with --trace and an --obuf-limit); tests/suites/soak_smoke.sh runs it for
 * a few seconds in `make test`.
 *
 *   callers (2)    echo calls, one connection each, a short pause between
 *   pushers (2)    push(100, "x") every 20 ms: Kharon's ferry under load
 *   churn          connect, ping, disconnect, again and again
 *   non-reader     push(100000, <65 000 bytes>) and never read: the server
 *                  must close it at --obuf-limit; then again
 *   quitter        push(2000, "x"), read a little, reset the connection
 *                  in the middle of the pushes (SO_LINGER 0: an RST)
 *   bystander      a PING every 50 ms; the slowest one is reported
 *
 * The pauses keep the trace of a 600 s run to a few GiB.
 * Every thread counts what it did and every error it did not expect. The
 * sampler reads /proc/PID/status (VmRSS) and /proc/PID/fd of the server.
 *
 *   soak HOST:PORT SERVER_PID SECONDS [ROLES]
 *
 * ROLES picks the load, one letter a thread (default "ccppxnqb"): c caller,
 * p pusher, x churn, n non-reader, q quitter, b bystander.
 *
 * Exit 0 when nothing unexpected happened, the memory drift after warm-up
 * stayed under 1 MiB per minute of run (at least 8 MiB allowed: allocator
 * noise; judged in runs of 60 s or more) and the descriptors came back to
 * their baseline; 1 otherwise.
 * Timing (the slowest PING) is reported, never judged: machines are noisy.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "client/client_sync.h"
#include "proto/mp.h"
#include "proto/xrow.h"

static const char *addr;
static char host[64];
static int port;
static atomic_bool stop;
static atomic_ullong n_calls, n_pushes, n_churns, n_cut, n_quits, n_pings;
static atomic_ullong n_errors;
static atomic_ullong max_ping_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
unexpected(const char *who, const char *what)
{
	atomic_fetch_add(&n_errors, 1);
	fprintf(stderr, "soak: %s: %s\n", who, what);
}

/** Sleep up to `ms`, waking early when the run stops. */
static void
nap(int ms)
{
	for (int i = 0; i < ms / 10 && !atomic_load(&stop); i++)
		usleep(10000);
}

static struct client_sync *
connect_or_complain(const char *who)
{
	struct client_sync *c = client_sync_connect(addr, NULL);
	if (c == NULL)
		unexpected(who, diag_msg());
	return c;
}

static void
on_push(void *ctx, const char *data, const char *end)
{
	(void)data;
	(void)end;
	(*(uint64_t *)ctx)++;
}

static void *
caller(void *arg)
{
	(void)arg;
	struct client_sync *c = connect_or_complain("caller");
	char args[16];
	char *end = mp_encode_array(args, 1);
	end = mp_encode_uint(end, 42);
	while (c != NULL && !atomic_load(&stop)) {
		struct client_result r;
		if (client_call(c, "echo", args, end, NULL, NULL, &r) != 0) {
			unexpected("caller", diag_msg());
			break;
		}
		client_result_destroy(&r);
		atomic_fetch_add(&n_calls, 1);
		usleep(500);
	}
	client_close(c);
	return NULL;
}

static void *
pusher(void *arg)
{
	(void)arg;
	struct client_sync *c = connect_or_complain("pusher");
	char args[16];
	char *end = mp_encode_array(args, 2);
	end = mp_encode_uint(end, 100);
	end = mp_encode_str(end, "x", 1);
	while (c != NULL && !atomic_load(&stop)) {
		uint64_t got = 0;
		struct client_result r;
		if (client_call(c, "push", args, end, on_push, &got, &r) != 0) {
			unexpected("pusher", diag_msg());
			break;
		}
		client_result_destroy(&r);
		if (got != 100)
			unexpected("pusher", "a push went missing");
		atomic_fetch_add(&n_pushes, got);
		nap(20);
	}
	client_close(c);
	return NULL;
}

static void *
churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct client_sync *c = connect_or_complain("churn");
		if (c == NULL)
			break;
		if (client_ping(c) != 0)
			unexpected("churn", diag_msg());
		client_close(c);
		atomic_fetch_add(&n_churns, 1);
		nap(10);
	}
	return NULL;
}

/** A raw connection (the greeting read): for clients that misbehave. */
static int
raw_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char greeting[128];
	size_t got = 0;
	while (got < sizeof(greeting)) {
		ssize_t n = read(fd, greeting + got, sizeof(greeting) - got);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	return fd;
}

/** Send CALL push(n, payload of `len` bytes) on a raw connection. */
static int
raw_push_call(int fd, uint64_t n, size_t len)
{
	char *payload = malloc(len + 16);
	char *args = malloc(len + 32);
	if (payload == NULL || args == NULL) {
		free(payload);
		free(args);
		return -1;
	}
	memset(payload, 'a', len);
	char *end = mp_encode_array(args, 2);
	end = mp_encode_uint(end, n);
	end = mp_encode_str(end, payload, (uint32_t)len);
	size_t size = xrow_encode_call(NULL, 0, 1, XROW_ENC_NETBOX, "push", 4,
				       args, end);
	char *packet = malloc(size);
	int rc = -1;
	if (packet != NULL) {
		xrow_encode_call(packet, size, 1, XROW_ENC_NETBOX, "push", 4,
				 args, end);
		rc = write(fd, packet, size) == (ssize_t)size ? 0 : -1;
	}
	free(packet);
	free(payload);
	free(args);
	return rc;
}

static void *
non_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = raw_connect();
		if (fd < 0) {
			unexpected("non-reader", "cannot connect");
			break;
		}
		int small = 4096;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		if (raw_push_call(fd, 100000, 65000) != 0)
			unexpected("non-reader", "cannot send");
		/* Never read; the server must close us: wait for its FIN or
		 * RST (seen even with our unread data in the way). */
		bool closed = false;
		for (int i = 0; i < 500 && !closed && !atomic_load(&stop); i++) {
			struct pollfd p = { fd, POLLRDHUP, 0 };
			closed = poll(&p, 1, 20) == 1 &&
				 (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
		}
		if (closed)
			atomic_fetch_add(&n_cut, 1);
		else if (!atomic_load(&stop))
			unexpected("non-reader", "not closed by obuf_limit in 10 s");
		close(fd);
		nap(100);
	}
	return NULL;
}

static void *
quitter(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = raw_connect();
		if (fd < 0) {
			unexpected("quitter", "cannot connect");
			break;
		}
		if (raw_push_call(fd, 2000, 1) != 0)
			unexpected("quitter", "cannot send");
		char buf[4096];
		if (read(fd, buf, sizeof(buf)) <= 0)
			unexpected("quitter", "no pushes came");
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		atomic_fetch_add(&n_quits, 1);
		nap(200);
	}
	return NULL;
}

static void *
bystander(void *arg)
{
	(void)arg;
	struct client_sync *c = connect_or_complain("bystander");
	while (c != NULL && !atomic_load(&stop)) {
		uint64_t t0 = now_ns();
		if (client_ping(c) != 0) {
			unexpected("bystander", diag_msg());
			break;
		}
		uint64_t dt = now_ns() - t0;
		unsigned long long old = atomic_load(&max_ping_ns);
		while (dt > old &&
		       !atomic_compare_exchange_weak(&max_ping_ns, &old, dt))
			;
		atomic_fetch_add(&n_pings, 1);
		nap(50);
	}
	client_close(c);
	return NULL;
}

static long
server_rss_kb(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

static int
server_fds(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		goto usage;
	const char *role_letters = argc == 5 ? argv[4] : "ccppxnqb";
	addr = argv[1];
	int pid = atoi(argv[2]), seconds = atoi(argv[3]);
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
	    (port = atoi(colon + 1)) <= 0 || pid <= 0 || seconds <= 0)
		goto usage;
	memcpy(host, addr, (size_t)(colon - addr));
	int fds_before = server_fds(pid);
	enum { N_ROLES_MAX = 32 };
	pthread_t threads[N_ROLES_MAX];
	int n_roles = 0;
	for (const char *r = role_letters; *r != '\0'; r++) {
		const char *letters = "cpxnqb";
		void *(*const fs[])(void *) = { caller, pusher, churn,
			non_reader, quitter, bystander };
		const char *at = strchr(letters, *r);
		if (at == NULL || n_roles == N_ROLES_MAX)
			goto usage;
		pthread_create(&threads[n_roles++], NULL, fs[at - letters],
			       NULL);
	}
	int warm = seconds >= 20 ? seconds / 10 : 1;
	long rss_warm = -1, rss_max = 0, rss_end = -1;
	for (int s = 1; s <= seconds; s++) {
		sleep(1);
		long rss = server_rss_kb(pid);
		if (rss < 0) {
			unexpected("sampler", "the server is gone");
			break;
		}
		if (s == warm)
			rss_warm = rss;
		if (rss > rss_max)
			rss_max = rss;
		rss_end = rss;
		if (isatty(2))
			fprintf(stderr, "\rsoak: %d/%d s, rss %ld kB, fds %d, "
				"errors %llu   ", s, seconds, rss,
				server_fds(pid), atomic_load(&n_errors));
	}
	atomic_store(&stop, true);
	for (int i = 0; i < n_roles; i++)
		pthread_join(threads[i], NULL);
	if (isatty(2))
		fputc('\n', stderr);
	/* Closed connections are freed after a round trip: give it a moment. */
	int fds_after = -1;
	for (int i = 0; i < 50; i++) {
		fds_after = server_fds(pid);
		if (fds_after <= fds_before)
			break;
		usleep(100000);
	}
	long drift = rss_end - rss_warm;
	long allowed = 8 * 1024 > seconds * 1024 / 60 ? 8 * 1024 :
		       seconds * 1024 / 60;
	printf("| measure | value |\n| --- | --- |\n");
	printf("| seconds | %d |\n", seconds);
	printf("| echo calls | %llu |\n", atomic_load(&n_calls));
	printf("| pushes received | %llu |\n", atomic_load(&n_pushes));
	printf("| connect-ping-close rounds | %llu |\n", atomic_load(&n_churns));
	printf("| non-readers closed by obuf_limit | %llu |\n",
	       atomic_load(&n_cut));
	printf("| resets in the middle of pushes | %llu |\n",
	       atomic_load(&n_quits));
	printf("| bystander PINGs | %llu, slowest %.1f ms |\n",
	       atomic_load(&n_pings), atomic_load(&max_ping_ns) / 1e6);
	printf("| server RSS after warm-up (%d s) / peak / end | %ld / %ld / "
	       "%ld kB (drift %+ld kB) |\n", warm, rss_warm, rss_max, rss_end,
	       drift);
	printf("| server descriptors before / after | %d / %d |\n",
	       fds_before, fds_after);
	printf("| unexpected errors | %llu |\n", atomic_load(&n_errors));
	/* A drift means something only past a real warm-up (and not under
	 * ASan, whose quarantine holds freed memory: make soak runs default). */
	bool drift_judged = seconds >= 60;
	if (!drift_judged)
		printf("| memory drift | not judged in a run under 60 s |\n");
	bool ok = atomic_load(&n_errors) == 0 &&
		  (!drift_judged || drift < allowed) &&
		  fds_after <= fds_before && atomic_load(&n_calls) > 0 &&
		  atomic_load(&n_pushes) > 0 && atomic_load(&n_pings) > 0;
	printf("soak: %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
usage:
	fprintf(stderr, "usage: soak HOST:PORT SERVER_PID SECONDS [ROLES "
		"of cpxnqb]\n");
	return 2;
}
