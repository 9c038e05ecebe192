/* Small helpers the stores share for their statements. Only for store/:
 * every other layer reads and writes through a store's functions. */
#ifndef HIVE_REVENUE_OPS_SQL_H
#define HIVE_REVENUE_OPS_SQL_H
#include "common/store.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Prepared outside the statement cache: a table that does not exist
 * yields NULL ("no data"), never an error. The caller finalises. */
static inline sqlite3_stmt *sql_try_prepare(struct store *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(store_db(db), sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

/* A column as JSON: text or null; an integer, a real or null. */
static inline json_t *sql_col_json_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? json_string((const char *)s) : json_null();
}

static inline json_t *sql_col_json_num(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, col));
	default:
		return json_null();
	}
}

/* A text column copied into @dst ("" for NULL). */
static inline void sql_col_str(sqlite3_stmt *st, int col, char *dst,
			       size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

/* Bind @s, or NULL when it is NULL or "". */
static inline void sql_bind_text_or_null(sqlite3_stmt *st, int idx,
					 const char *s)
{
	if (s && s[0])
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

static inline int64_t sql_col_i64(sqlite3_stmt *st, int col)
{
	return sqlite3_column_int64(st, col);
}

#endif
