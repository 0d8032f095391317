/*
 * cli_addr.h — the command line's check of a HOST:PORT argument, done
 * before anything starts, so that a typo is a usage error (exit 2, "bad
 * address") and not a runtime failure (exit 1) found after cords run.
 *
 * It accepts what the real-threads runtime can use (src/rt/rt_thread.c):
 * an IPv4 literal or "localhost", a colon, a decimal port. Lesson:
 * lessons/en/03-request-life.md.
 */
#ifndef KHARON_CLI_CLI_ADDR_H
#define KHARON_CLI_CLI_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Check "host:port". `is_listen` allows port 0 (any free port); a
 * connect needs 1..65535. 0 if good; -1 with a one-line message
 * ("bad address 'x': ...") in [err, err + err_size). Any thread.
 */
int
cli_addr_check(const char *addr, bool is_listen, char *err, size_t err_size);

#endif /* KHARON_CLI_CLI_ADDR_H */
