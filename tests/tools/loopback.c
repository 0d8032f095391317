/*
 * loopback — the ceiling of a push stream on this machine: how many
 * push-sized packets per second one TCP connection over loopback carries
 * when nothing else runs, neither a server's cords nor a client's loop.
 *
 * A sender thread writes ready-made packets (a `ce` + u32 length prefix,
 * then PACKET - 5 bytes, as a 1 KiB push is framed) in writes of WRITE
 * bytes, the output a streaming procedure leaves between two yields; a
 * reader thread reads READ bytes at a time into a buffer it slides forward
 * and walks the packets by their length prefix, as the benchmarks' push
 * client does. Plain blocking sockets, TCP_NODELAY like every kharon
 * socket: the two copies and the TCP work of loopback, and nothing more.
 * bench/results.md compares `kharon bench push --payload 1024` of both
 * servers with this figure: a server cannot stream faster than this pair.
 *
 *   loopback SECONDS [PACKET [WRITE [READ]]]   (defaults 1068, 131072, 262144)
 *
 * Prints `loopback_packets_per_s N` and `loopback_bytes_per_s N`; exit 0,
 * 1 if a socket call failed, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct loopback {
	int fd_send, fd_recv;
	size_t packet, write_size, read_size;
	atomic_bool is_over;
	uint64_t n_packets;
	uint64_t n_bytes;
	int error;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** Whole packets back to back, as many as fit in `size` bytes. */
static size_t
loopback_fill(char *buf, size_t size, size_t packet)
{
	size_t used = 0;
	while (used + packet <= size) {
		uint32_t len = (uint32_t)(packet - 5);
		buf[used] = (char)0xce;
		buf[used + 1] = (char)(len >> 24);
		buf[used + 2] = (char)(len >> 16);
		buf[used + 3] = (char)(len >> 8);
		buf[used + 4] = (char)len;
		memset(buf + used + 5, 'x', len);
		used += packet;
	}
	return used;
}

static void *
loopback_send_f(void *arg)
{
	struct loopback *lb = arg;
	char *buf = malloc(lb->write_size);
	if (buf == NULL) {
		lb->error = ENOMEM;
		return NULL;
	}
	size_t used = loopback_fill(buf, lb->write_size, lb->packet);
	while (!atomic_load(&lb->is_over)) {
		size_t off = 0;
		while (off < used) {
			ssize_t n = send(lb->fd_send, buf + off, used - off,
					 MSG_NOSIGNAL);
			if (n < 0) {
				if (errno != EINTR)
					goto out;
				continue;
			}
			off += (size_t)n;
		}
	}
out:
	shutdown(lb->fd_send, SHUT_WR);
	free(buf);
	return NULL;
}

static void *
loopback_recv_f(void *arg)
{
	struct loopback *lb = arg;
	size_t cap = 2 * lb->read_size;
	char *buf = malloc(cap);
	if (buf == NULL) {
		lb->error = ENOMEM;
		return NULL;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = recv(lb->fd_recv, buf + len, lb->read_size, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
		lb->n_bytes += (uint64_t)n;
		/* Walk the whole packets by their length prefix. */
		size_t pos = 0;
		while (len - pos >= 5) {
			const unsigned char *p = (const unsigned char *)buf + pos;
			size_t size = 5 + ((size_t)p[1] << 24 | (size_t)p[2] << 16 |
					   (size_t)p[3] << 8 | p[4]);
			if (p[0] != 0xce || len - pos < size)
				break;
			pos += size;
			lb->n_packets++;
		}
		memmove(buf, buf + pos, len - pos);
		len -= pos;
	}
	free(buf);
	return NULL;
}

/** A connected pair over 127.0.0.1; -1 + errno on failure. */
static int
loopback_connect(struct loopback *lb)
{
	int one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &sl) != 0)
		goto fail;
	lb->fd_send = socket(AF_INET, SOCK_STREAM, 0);
	if (lb->fd_send < 0 ||
	    connect(lb->fd_send, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		goto fail;
	lb->fd_recv = accept(l, NULL, NULL);
	if (lb->fd_recv < 0)
		goto fail;
	setsockopt(lb->fd_send, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(lb->fd_recv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
	return 0;
fail:
	close(l);
	return -1;
}

static int
arg_size(const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct loopback lb = { .packet = 1068, .write_size = 128 * 1024,
			       .read_size = 256 * 1024 };
	double seconds;
	char *end;
	if (argc < 2 || argc > 5)
		goto usage;
	seconds = strtod(argv[1], &end);
	if (*end != '\0' || !(seconds > 0) || seconds > 3600)
		goto usage;
	if ((argc > 2 && arg_size(argv[2], 6, 1 << 20, &lb.packet) != 0) ||
	    (argc > 3 && arg_size(argv[3], lb.packet, 64 << 20,
				  &lb.write_size) != 0) ||
	    (argc > 4 && arg_size(argv[4], 1, 64 << 20, &lb.read_size) != 0))
		goto usage;
	if (loopback_connect(&lb) != 0) {
		fprintf(stderr, "loopback: %s\n", strerror(errno));
		return 1;
	}
	pthread_t sender, reader;
	uint64_t t0 = now_ns();
	if (pthread_create(&reader, NULL, loopback_recv_f, &lb) != 0)
		return 1;
	if (pthread_create(&sender, NULL, loopback_send_f, &lb) != 0)
		return 1;
	struct timespec ts = { (time_t)seconds,
			       (long)((seconds - (double)(time_t)seconds) * 1e9) };
	nanosleep(&ts, NULL);
	atomic_store(&lb.is_over, true);
	pthread_join(sender, NULL);
	pthread_join(reader, NULL);
	double dt = (double)(now_ns() - t0) / 1e9;
	close(lb.fd_send);
	close(lb.fd_recv);
	if (lb.error != 0 || lb.n_packets == 0) {
		fprintf(stderr, "loopback: nothing was carried\n");
		return 1;
	}
	printf("loopback_packets_per_s %.0f\n", (double)lb.n_packets / dt);
	printf("loopback_bytes_per_s %.0f\n", (double)lb.n_bytes / dt);
	return 0;
usage:
	fputs("usage: loopback SECONDS [PACKET [WRITE [READ]]]\n", stderr);
	return 2;
}
