/*
 * iproto_constants.c — name tables for iproto types and keys. See the .h.
 */
#include "proto/iproto_constants.h"

#include <stddef.h>

const char *
iproto_type_name(uint64_t type)
{
	if (type & IPROTO_TYPE_ERROR && type <= 0xffff)
		return "ERROR";
	switch (type) {
	case IPROTO_OK: return "OK";
	case IPROTO_SELECT: return "SELECT";
	case IPROTO_INSERT: return "INSERT";
	case IPROTO_REPLACE: return "REPLACE";
	case IPROTO_UPDATE: return "UPDATE";
	case IPROTO_DELETE: return "DELETE";
	case IPROTO_CALL_16: return "CALL_16";
	case IPROTO_AUTH: return "AUTH";
	case IPROTO_EVAL: return "EVAL";
	case IPROTO_UPSERT: return "UPSERT";
	case IPROTO_CALL: return "CALL";
	case IPROTO_EXECUTE: return "EXECUTE";
	case IPROTO_NOP: return "NOP";
	case IPROTO_PREPARE: return "PREPARE";
	case IPROTO_CONFIRM: return "CONFIRM";
	case IPROTO_ROLLBACK: return "ROLLBACK";
	case IPROTO_PING: return "PING";
	case IPROTO_JOIN: return "JOIN";
	case IPROTO_SUBSCRIBE: return "SUBSCRIBE";
	case IPROTO_VOTE_DEPRECATED: return "VOTE_DEPRECATED";
	case IPROTO_VOTE: return "VOTE";
	case IPROTO_FETCH_SNAPSHOT: return "FETCH_SNAPSHOT";
	case IPROTO_REGISTER: return "REGISTER";
	case IPROTO_CHUNK: return "CHUNK";
	default: return "UNKNOWN";
	}
}

static const char *const key_names[IPROTO_KEY_MAX] = {
	[IPROTO_REQUEST_TYPE] = "type",
	[IPROTO_SYNC] = "sync",
	[IPROTO_REPLICA_ID] = "replica id",
	[IPROTO_LSN] = "lsn",
	[IPROTO_TIMESTAMP] = "timestamp",
	[IPROTO_SCHEMA_VERSION] = "schema version",
	[IPROTO_SERVER_VERSION] = "server version",
	[IPROTO_GROUP_ID] = "group id",
	[IPROTO_TSN] = "tsn",
	[IPROTO_FLAGS] = "flags",
	[IPROTO_SPACE_ID] = "space id",
	[IPROTO_INDEX_ID] = "index id",
	[IPROTO_LIMIT] = "limit",
	[IPROTO_OFFSET] = "offset",
	[IPROTO_ITERATOR] = "iterator",
	[IPROTO_INDEX_BASE] = "index base",
	[IPROTO_KEY] = "key",
	[IPROTO_TUPLE] = "tuple",
	[IPROTO_FUNCTION_NAME] = "function name",
	[IPROTO_USER_NAME] = "user name",
	[IPROTO_INSTANCE_UUID] = "instance uuid",
	[IPROTO_CLUSTER_UUID] = "cluster uuid",
	[IPROTO_VCLOCK] = "vclock",
	[IPROTO_EXPR] = "expression",
	[IPROTO_OPS] = "operations",
	[IPROTO_BALLOT] = "ballot",
	[IPROTO_TUPLE_META] = "tuple meta",
	[IPROTO_OPTIONS] = "options",
	[IPROTO_DATA] = "data",
	[IPROTO_ERROR_24] = "error",
	[IPROTO_METADATA] = "metadata",
	[IPROTO_BIND_METADATA] = "bind meta",
	[IPROTO_BIND_COUNT] = "bind count",
	[IPROTO_SQL_TEXT] = "SQL text",
	[IPROTO_SQL_BIND] = "SQL bind",
	[IPROTO_SQL_INFO] = "SQL info",
	[IPROTO_STMT_ID] = "stmt id",
	[IPROTO_REPLICA_ANON] = "replica anon",
	[IPROTO_ID_FILTER] = "id filter",
	[IPROTO_ERROR] = "error",
};

const char *
iproto_key_name(uint64_t key)
{
	if (key >= IPROTO_KEY_MAX || key_names[key] == NULL)
		return "unknown";
	return key_names[key];
}
