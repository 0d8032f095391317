/*
 * iproto_constants.h — request types, keys and response codes of the
 * Tarantool 2.6 binary protocol, with names for traces and messages.
 *
 * Numbers are the wire's (docs/protocol.md §2, §3). A
 * reply's REQUEST_TYPE is a response code: IPROTO_OK (final), IPROTO_CHUNK
 * (a box.session.push, non-final, same sync) or IPROTO_TYPE_ERROR | errcode
 * (final). Lesson: lessons/en/03-request-life.md.
 */
#ifndef KHARON_PROTO_IPROTO_CONSTANTS_H
#define KHARON_PROTO_IPROTO_CONSTANTS_H

#include <stdint.h>

/** Header and body keys. */
enum iproto_key {
	/* header */
	IPROTO_REQUEST_TYPE = 0x00,
	IPROTO_SYNC = 0x01,
	IPROTO_REPLICA_ID = 0x02,
	IPROTO_LSN = 0x03,
	IPROTO_TIMESTAMP = 0x04,
	IPROTO_SCHEMA_VERSION = 0x05,
	IPROTO_SERVER_VERSION = 0x06,
	IPROTO_GROUP_ID = 0x07,
	IPROTO_TSN = 0x08,
	IPROTO_FLAGS = 0x09,
	/* body */
	IPROTO_SPACE_ID = 0x10,
	IPROTO_INDEX_ID = 0x11,
	IPROTO_LIMIT = 0x12,
	IPROTO_OFFSET = 0x13,
	IPROTO_ITERATOR = 0x14,
	IPROTO_INDEX_BASE = 0x15,
	IPROTO_KEY = 0x20,
	IPROTO_TUPLE = 0x21,
	IPROTO_FUNCTION_NAME = 0x22,
	IPROTO_USER_NAME = 0x23,
	IPROTO_INSTANCE_UUID = 0x24,
	IPROTO_CLUSTER_UUID = 0x25,
	IPROTO_VCLOCK = 0x26,
	IPROTO_EXPR = 0x27,
	IPROTO_OPS = 0x28,
	IPROTO_BALLOT = 0x29,
	IPROTO_TUPLE_META = 0x2a,
	IPROTO_OPTIONS = 0x2b,
	IPROTO_DATA = 0x30,
	IPROTO_ERROR_24 = 0x31,
	IPROTO_METADATA = 0x32,
	IPROTO_BIND_METADATA = 0x33,
	IPROTO_BIND_COUNT = 0x34,
	IPROTO_SQL_TEXT = 0x40,
	IPROTO_SQL_BIND = 0x41,
	IPROTO_SQL_INFO = 0x42,
	IPROTO_STMT_ID = 0x43,
	IPROTO_REPLICA_ANON = 0x50,
	IPROTO_ID_FILTER = 0x51,
	IPROTO_ERROR = 0x52,
	IPROTO_KEY_MAX = 0x53,
};

/** Keys of one entry of the IPROTO_ERROR (MP_ERROR) stack. */
enum iproto_error_key {
	IPROTO_ERROR_STACK = 0x00,	/* key of the stack in the 0x52 map */
	IPROTO_ERROR_TYPE = 0x00,
	IPROTO_ERROR_FILE = 0x01,
	IPROTO_ERROR_LINE = 0x02,
	IPROTO_ERROR_MESSAGE = 0x03,
	IPROTO_ERROR_ERRNO = 0x04,
	IPROTO_ERROR_CODE = 0x05,
	IPROTO_ERROR_FIELDS = 0x06,
};

/** Request types (client → server) and response codes (server → client). */
enum iproto_type {
	IPROTO_OK = 0,
	IPROTO_SELECT = 1,
	IPROTO_INSERT = 2,
	IPROTO_REPLACE = 3,
	IPROTO_UPDATE = 4,
	IPROTO_DELETE = 5,
	IPROTO_CALL_16 = 6,
	IPROTO_AUTH = 7,
	IPROTO_EVAL = 8,
	IPROTO_UPSERT = 9,
	IPROTO_CALL = 10,
	IPROTO_EXECUTE = 11,
	IPROTO_NOP = 12,
	IPROTO_PREPARE = 13,
	IPROTO_CONFIRM = 40,
	IPROTO_ROLLBACK = 41,
	IPROTO_PING = 64,
	IPROTO_JOIN = 65,
	IPROTO_SUBSCRIBE = 66,
	IPROTO_VOTE_DEPRECATED = 67,
	IPROTO_VOTE = 68,
	IPROTO_FETCH_SNAPSHOT = 69,
	IPROTO_REGISTER = 70,
	/** A push (box.session.push): non-final, carries the request's sync. */
	IPROTO_CHUNK = 0x80,
	/** Error replies are IPROTO_TYPE_ERROR | errcode. */
	IPROTO_TYPE_ERROR = 1 << 15,
};

/** Select iterators used by net.box's schema fetch. */
enum iproto_iterator {
	ITER_EQ = 0,
	ITER_ALL = 2,
};

/**
 * "SELECT", "PING", "OK", "CHUNK", "ERROR" (any 0x8000|code), or "UNKNOWN".
 * Static strings; any thread.
 */
const char *
iproto_type_name(uint64_t type);

/**
 * Tarantool's key names, lowercase as in its messages ("space id", "limit",
 * "function name", ...), or "unknown" for an unused number.
 */
const char *
iproto_key_name(uint64_t key);

#endif /* KHARON_PROTO_IPROTO_CONSTANTS_H */
