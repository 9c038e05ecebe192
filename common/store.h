/* SQLite storage: one file per plugin, WAL, busy_timeout, foreign keys,
 * append-only migrations keyed by PRAGMA user_version, short transactions.
 *
 * Migrations are an array of SQL scripts; script i brings the schema from
 * version i to i+1 and runs in its own transaction together with the
 * version bump, so a crash mid-migration leaves the previous version
 * intact. A database whose version is newer than the array is refused
 * untouched (an older plugin must not scribble on a newer schema). */
#ifndef HIVE_COMMON_STORE_H
#define HIVE_COMMON_STORE_H
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* Open (creating if needed) and migrate. @path may be ":memory:". On
 * failure returns NULL and sets *err (caller frees) to a sentence fit for
 * an operator: locked, unwritable, corrupt, or newer schema. */
struct store *store_open(const char *path, const char *const *migrations,
			 size_t num_migrations, int busy_timeout_ms,
			 char **err);
/* Checkpoints the WAL and closes. Accepts NULL. */
void store_close(struct store *st);

sqlite3 *store_db(struct store *st);
int store_schema_version(struct store *st);
const char *store_path(const struct store *st);

/* Begin/commit one write transaction (BEGIN IMMEDIATE, so lock waits
 * happen up front, not at commit). Nested begins are an error. */
bool store_begin(struct store *st, char **err) __attribute__((warn_unused_result));
bool store_commit(struct store *st, char **err) __attribute__((warn_unused_result));
void store_rollback(struct store *st);
bool store_in_transaction(const struct store *st);

/* A read batch: many queries under one (deferred) transaction, so a cycle
 * that reads per channel takes the database's locks once, not once per
 * statement. Call it only around synchronous work (never across an RPC
 * wait: a batch must not hold the database while the loop runs). Inside
 * it, store_begin/commit/rollback become a savepoint; writes upgrade the
 * batch to a write transaction, committed by store_batch_end. */
bool store_batch_begin(struct store *st, char **err)
	__attribute__((warn_unused_result));
bool store_batch_end(struct store *st, char **err)
	__attribute__((warn_unused_result));

/* Run SQL without results (may hold several statements). */
bool store_exec(struct store *st, const char *sql, char **err)
	__attribute__((warn_unused_result));

/* A prepared statement for @sql, cached by the store (keyed by the @sql
 * pointer, so pass string literals), already reset and with bindings
 * cleared. Owned by the store: do not finalize. NULL on error with *err.
 * Reset it (store_done) after use so no read transaction stays open. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql, char **err);
void store_done(sqlite3_stmt *stmt);
/* Run @stmt (an INSERT, UPDATE or DELETE) to completion and reset it.
 * False with *err "<what>: <SQLite's message>" unless it finished. */
bool store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what,
		     char **err) __attribute__((warn_unused_result));

/* Copy the WAL into the main file so a file-level backup taken now is
 * complete (the "backup-safe" mode calls it after every cycle). */
bool store_checkpoint(struct store *st, char **err);

/* The last SQLite error as text. */
const char *store_errmsg(struct store *st);

#endif
