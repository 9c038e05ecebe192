/* Every JSON-RPC error code our plugins return, in one place, so operators
 * and scripts can rely on them. The negative ones are JSON-RPC 2.0's own and
 * Core Lightning's generic code; the 1100 range is ours. */
#ifndef HIVE_COMMON_ERRCODE_H
#define HIVE_COMMON_ERRCODE_H

enum errcode {
	ERR_PARSE = -32700,	     /* the request was not JSON */
	ERR_INVALID_REQUEST = -32600, /* JSON, but not a JSON-RPC request */
	ERR_METHOD_NOT_FOUND = -32601,
	ERR_INVALID_PARAMS = -32602,  /* missing, unknown or ill-typed */
	ERR_INTERNAL = -32603,
	ERR_LIGHTNINGD = -1,	      /* Core Lightning's generic failure */

	ERR_NOT_READY = 1100,	  /* plugin not initialised or disabled */
	ERR_NOT_FOUND = 1101,	  /* unknown channel, peer, key, member */
	ERR_OUT_OF_RANGE = 1102,  /* a value outside its allowed range */
	ERR_DATABASE = 1103,	  /* storage failed; nothing was changed */
	ERR_RPC_FAILED = 1104,	  /* lightningd refused a call we made */
	ERR_RATE_LIMITED = 1105,  /* too many changes in a short time */
	ERR_PERMISSION = 1106,	  /* not allowed for this caller/role */
	ERR_UNAVAILABLE = 1107,	  /* a needed plugin (CLBOSS, bookkeeper,
				   * cl-hive) is not running */
	ERR_CONFLICT = 1108,	  /* contradicts existing state */
	ERR_BUDGET = 1109,	  /* would exceed a spending budget */
	ERR_TIMEOUT = 1110,	  /* lightningd did not answer in time */
};

#endif
