/*
 * cli_addr.c — HOST:PORT checks for the sub-commands. See cli_addr.h.
 */
#include "cli/cli_addr.h"

#include <stdio.h>
#include <string.h>

/** [s, end) is 1-3 decimal digits, at most 255. */
static bool
cli_addr_is_octet(const char *s, const char *end)
{
	if (end <= s || end - s > 3)
		return false;
	int v = 0;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	return v <= 255;
}

/** [host, end) is a dotted quad. */
static bool
cli_addr_is_ipv4(const char *host, const char *end)
{
	const char *s = host;
	for (int i = 0; i < 4; i++) {
		const char *dot = i < 3 ? memchr(s, '.', (size_t)(end - s)) :
				  end;
		if (dot == NULL || !cli_addr_is_octet(s, dot))
			return false;
		s = dot + 1;
	}
	return true;
}

int
cli_addr_check(const char *addr, bool is_listen, char *err, size_t err_size)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL)
		goto bad;
	bool is_host = cli_addr_is_ipv4(addr, colon) ||
		       ((size_t)(colon - addr) == 9 &&
			memcmp(addr, "localhost", 9) == 0);
	const char *p = colon + 1;
	long port = 0;
	if (*p == '\0' || strlen(p) > 5)
		goto bad;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		port = port * 10 + (*p - '0');
	}
	if (!is_host || port > 65535 || (port == 0 && !is_listen))
		goto bad;
	return 0;
bad:
	snprintf(err, err_size, "bad address '%s': expected HOST:PORT, HOST "
		 "an IPv4 address or localhost, PORT %s..65535", addr,
		 is_listen ? "0" : "1");
	return -1;
}
