/*
 * errcode.h — the Tarantool 2.6 box error codes kharon uses, with their
 * numbers, names and message templates (from src/box/errcode.h of 2.6).
 *
 * An error travels as a struct diag (base/diag.h) whose `code` is one of
 * these; on the wire it becomes response code 0x8000 | code, the message
 * goes to IPROTO_ERROR_24 and the name/type/file/line to the IPROTO_ERROR
 * stack (proto/xrow.h). Lesson: lessons/en/03-request-life.md.
 */
#ifndef KHARON_PROTO_ERRCODE_H
#define KHARON_PROTO_ERRCODE_H

/* _(name, number, message template) — numbers verified against 2.6. */
#define ERRCODE_LIST(_) \
	_(ER_UNKNOWN, 0, "Unknown error") \
	_(ER_ILLEGAL_PARAMS, 1, "Illegal parameters, %s") \
	_(ER_MEMORY_ISSUE, 2, "Failed to allocate %u bytes in %s for %s") \
	_(ER_UNSUPPORTED, 5, "%s does not support %s") \
	_(ER_INVALID_MSGPACK, 20, "Invalid MsgPack - %s") \
	_(ER_TUPLE_NOT_ARRAY, 22, "Tuple/Key must be MsgPack array") \
	_(ER_PROC_LUA, 32, "%s") \
	_(ER_NO_SUCH_PROC, 33, "Procedure '%.*s' is not defined") \
	_(ER_NO_SUCH_INDEX_ID, 35, "No index #%u is defined in space '%s'") \
	_(ER_NO_SUCH_SPACE, 36, "Space '%s' does not exist") \
	_(ER_ACCESS_DENIED, 42, "%s access to %s '%s' is denied for user '%s'") \
	_(ER_NO_SUCH_USER, 45, "User '%s' is not found") \
	_(ER_PASSWORD_MISMATCH, 47, "Incorrect password supplied for user '%s'") \
	_(ER_UNKNOWN_REQUEST_TYPE, 48, "Unknown request type %u") \
	_(ER_NO_SUCH_FUNCTION, 51, "Function '%s' does not exist") \
	_(ER_MISSING_REQUEST_FIELD, 69, "Missing mandatory field '%s' in request") \
	_(ER_NO_CONNECTION, 77, "Connection is not established") \
	_(ER_TIMEOUT, 78, "Timeout exceeded") \
	_(ER_SESSION_CLOSED, 86, "Session is closed") \
	_(ER_PROC_C, 102, "%s") \
	_(ER_PROTOCOL, 104, "%s") \
	_(ER_WRONG_SCHEMA_VERSION, 109, "Wrong schema version, current: %d, in request: %u") \
	_(ER_SYSTEM, 115, "%s")

#define ERRCODE_ENUM_MEMBER(name, num, fmt) name = num,
enum errcode {
	ERRCODE_LIST(ERRCODE_ENUM_MEMBER)
};
#undef ERRCODE_ENUM_MEMBER

/** "ER_INVALID_MSGPACK" for 20; "ER_UNKNOWN" for a code not listed. */
const char *
errcode_name(int code);

/** The printf template of `code` ("Invalid MsgPack - %s"), or "%s". */
const char *
errcode_template(int code);

/**
 * Set the calling thread's diag to a "ClientError" with `code` and the
 * message formatted from the code's template and the arguments (use the
 * diag_set_client macro). The caller must pass arguments matching the
 * template: the compiler cannot check a template chosen at run time.
 */
void
errcode_diag_set_at(const char *file, int line, int code, ...);

#define diag_set_client(...) \
	errcode_diag_set_at(__FILE__, __LINE__, __VA_ARGS__)

#endif /* KHARON_PROTO_ERRCODE_H */
