/*
 * diag.c — the per-thread error record. See diag.h.
 */
#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct diag diag_tls;

struct diag *
diag_last(void)
{
	return &diag_tls;
}

void
diag_clear(void)
{
	diag_tls.code = 0;
	diag_tls.type = NULL;
	diag_tls.file = NULL;
	diag_tls.line = 0;
	diag_tls.msg[0] = '\0';
}

void
diag_set_at(const char *file, int line, int code, const char *type,
	    const char *fmt, ...)
{
	diag_tls.code = code;
	diag_tls.type = type;
	diag_tls.file = file;
	diag_tls.line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(diag_tls.msg, sizeof(diag_tls.msg), fmt, ap);
	va_end(ap);
}

const char *
diag_msg(void)
{
	return diag_tls.msg;
}
