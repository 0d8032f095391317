/*
 * errcode.c — names and templates of box error codes. See errcode.h.
 */
#include "proto/errcode.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/diag.h"

struct errcode_record {
	int code;
	const char *name;
	const char *tmpl;
};

#define ERRCODE_RECORD(name, num, fmt) {num, #name, fmt},
static const struct errcode_record errcode_records[] = {
	ERRCODE_LIST(ERRCODE_RECORD)
};
#undef ERRCODE_RECORD

static const struct errcode_record *
errcode_find(int code)
{
	size_t n = sizeof(errcode_records) / sizeof(errcode_records[0]);
	for (size_t i = 0; i < n; i++) {
		if (errcode_records[i].code == code)
			return &errcode_records[i];
	}
	return NULL;
}

const char *
errcode_name(int code)
{
	const struct errcode_record *r = errcode_find(code);
	return r != NULL ? r->name : "ER_UNKNOWN";
}

const char *
errcode_template(int code)
{
	const struct errcode_record *r = errcode_find(code);
	return r != NULL ? r->tmpl : "%s";
}

void
errcode_diag_set_at(const char *file, int line, int code, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, code);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vsnprintf(msg, sizeof(msg), errcode_template(code), ap);
#pragma GCC diagnostic pop
	va_end(ap);
	diag_set_at(file, line, code, "ClientError", "%s", msg);
}
