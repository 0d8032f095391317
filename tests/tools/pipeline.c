/*
 * pipeline — a client that pipelines N `echo` calls on each of C
 * connections, all in one write per connection, then reads every reply.
 *
 * It exists to count what the server does with a batch: Tarantool (and
 * kharon since net_feed_output) writes all the replies that reach the
 * network cord in one loop iteration with ONE writev per connection
 * (docs/tarantool-map.md §2.2). tests/suites/writes_per_batch.sh runs
 * it against `kharon serve` and reads the server's writev counter at
 * shutdown; the same client under `strace -c -e writev` compares Tarantool.
 *
 *   pipeline HOST:PORT N [C]
 *
 * Prints "pipeline: C x N replies in R reads" and exits 0 when every reply
 * came back (each a complete packet, within 10 s); 1 otherwise; 2 on usage.
 * Plain POSIX sockets and kharon's own request encoder (src/proto/xrow.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/mp.h"
#include "proto/xrow.h"

enum { GREETING = 128, MAX_CONNS = 64, DEADLINE_MS = 10000 };

static int
dial(const char *host, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("pipeline: connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/** Read exactly `n` bytes within the deadline; -1 on EOF, error or time. */
static int
read_full(int fd, char *buf, size_t n, int *reads)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, DEADLINE_MS) != 1)
			return -1;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
		(*reads)++;
	}
	return 0;
}

/** One write of N echo calls, syncs 1..N. */
static int
send_batch(int fd, int n)
{
	char args[16];
	char *end = mp_encode_array(args, 1);
	end = mp_encode_uint(end, 7);
	/* The largest sync makes the longest packet. */
	size_t one = xrow_encode_call(NULL, 0, (uint64_t)n, XROW_ENC_NETBOX,
				      "echo", 4, args, end);
	char *buf = malloc(one * (size_t)n);
	if (buf == NULL)
		return -1;
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += xrow_encode_call(buf + len, one, (uint64_t)i + 1,
					XROW_ENC_NETBOX, "echo", 4, args, end);
	ssize_t w = write(fd, buf, len);
	free(buf);
	return w == (ssize_t)len ? 0 : -1;
}

/** Read N reply packets: length prefix, then its bytes. */
static int
read_replies(int fd, int n, int *reads)
{
	char buf[4096];
	for (int i = 0; i < n; i++) {
		if (read_full(fd, buf, 5, reads) != 0 ||
		    (unsigned char)buf[0] != 0xce)
			return -1;
		const char *p = buf;
		uint64_t len = mp_decode_uint(&p);
		if (len > sizeof(buf) || read_full(fd, buf, len, reads) != 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		goto usage;
	char host[64];
	int port = 0, n = atoi(argv[2]), conns = argc == 4 ? atoi(argv[3]) : 1;
	const char *colon = strrchr(argv[1], ':');
	if (colon == NULL || (size_t)(colon - argv[1]) >= sizeof(host) ||
	    (port = atoi(colon + 1)) <= 0 || n <= 0 || n > 100000 ||
	    conns <= 0 || conns > MAX_CONNS)
		goto usage;
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = '\0';

	int fds[MAX_CONNS], reads = 0;
	char greeting[GREETING];
	for (int c = 0; c < conns; c++) {
		fds[c] = dial(host, port);
		if (fds[c] < 0 ||
		    read_full(fds[c], greeting, GREETING, &reads) != 0) {
			fprintf(stderr, "pipeline: no greeting\n");
			return 1;
		}
	}
	for (int c = 0; c < conns; c++) {
		if (send_batch(fds[c], n) != 0) {
			perror("pipeline: write");
			return 1;
		}
	}
	reads = 0;
	for (int c = 0; c < conns; c++) {
		if (read_replies(fds[c], n, &reads) != 0) {
			fprintf(stderr, "pipeline: connection %d: replies "
				"missing or malformed\n", c);
			return 1;
		}
		close(fds[c]);
	}
	printf("pipeline: %d x %d replies in %d reads\n", conns, n, reads);
	return 0;
usage:
	fprintf(stderr, "usage: pipeline HOST:PORT N [CONNECTIONS <= %d]\n",
		MAX_CONNS);
	return 2;
}
