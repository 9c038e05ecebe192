/* SQLite storage with migrations; see store.h. */
#include "common/store.h"
#include "common/util.h"
#include <string.h>

struct cached_stmt {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	int version;
	bool in_tx;
	bool batch;	  /* in_tx is a read batch (store_batch_begin) */
	unsigned nested;  /* savepoints opened inside the batch */
	struct cached_stmt *cache;
	size_t ncache, capcache;
};

static char *sqlite_problem(sqlite3 *db, int rc, const char *path,
			    const char *what)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	switch (rc & 0xFF) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return xfmt("database %s is locked by another process (%s): "
			    "stop whatever holds it, or raise the busy "
			    "timeout",
			    path, what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return xfmt("database %s is corrupt or not a database (%s: "
			    "%s): restore it from a backup or move it aside",
			    path, what, msg);
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_IOERR:
		return xfmt("cannot write database %s (%s: %s): check the "
			    "directory's permissions and free space",
			    path, what, msg);
	default:
		return xfmt("database %s: %s failed: %s", path, what, msg);
	}
}

static bool exec_rc(struct store *st, const char *sql, const char *what,
		    char **err)
{
	char *emsg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &emsg);
	if (rc != SQLITE_OK) {
		*err = sqlite_problem(st->db, rc, st->path, what);
		sqlite3_free(emsg);
		return false;
	}
	return true;
}

bool store_exec(struct store *st, const char *sql, char **err)
{
	return exec_rc(st, sql, "statement", err);
}

static bool read_version(struct store *st, int *version, char **err)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		*err = sqlite_problem(st->db, rc, st->path, "reading schema "
							    "version");
		return false;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		*err = sqlite_problem(st->db, rc, st->path, "reading schema "
							    "version");
		sqlite3_finalize(s);
		return false;
	}
	*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return true;
}

/* Read the version and refuse one newer than the @n migrations we know. */
static bool has_tables(struct store *st)
{
	sqlite3_stmt *s;
	bool any = false;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT 1 FROM sqlite_master WHERE type = 'table' "
			       "AND name NOT LIKE 'sqlite_%' LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return false;
	any = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return any;
}

static bool check_version(struct store *st, size_t n, char **err)
{
	if (!read_version(st, &st->version, err))
		return false;
	if (st->version < 0 || (size_t)st->version > n) {
		*err = xfmt("database %s has schema version %d, newer than "
			    "the %zu this plugin knows: it was written by a "
			    "newer release. Upgrade the plugin (or restore a "
			    "backup); the file was left untouched",
			    st->path, st->version, n);
		return false;
	}
	if (st->version == 0 && has_tables(st)) {
		/* Tables but no version: another program's database (for
		 * instance the reference Python plugin's). Migrating over it
		 * would fail half-way or, worse, mix two schemas. */
		*err = xfmt("database %s already has tables but no schema "
			    "version: it was not created by this plugin (an "
			    "older plugin's database?). Point the db-path "
			    "option to a new file; this one was left "
			    "untouched",
			    st->path);
		return false;
	}
	return true;
}

static bool migrate(struct store *st, const char *const *migrations,
		    size_t n, char **err)
{
	if (!check_version(st, n, err))
		return false;
	while ((size_t)st->version < n) {
		char *set = xfmt("PRAGMA user_version = %d", st->version + 1);
		char *what = xfmt("migration to version %d", st->version + 1);
		bool ok = exec_rc(st, "BEGIN IMMEDIATE", what, err) &&
			  exec_rc(st, migrations[st->version], what, err) &&
			  exec_rc(st, set, what, err) &&
			  exec_rc(st, "COMMIT", what, err);
		free(set);
		free(what);
		if (!ok) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return false;
		}
		st->version++;
	}
	return true;
}

struct store *store_open(const char *path, const char *const *migrations,
			 size_t num_migrations, int busy_timeout_ms,
			 char **err)
{
	struct store *st = xzalloc(sizeof(*st));
	int rc;

	*err = NULL;
	st->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		*err = sqlite_problem(st->db, rc, path, "open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, busy_timeout_ms);
	sqlite3_extended_result_codes(st->db, 1);
	/* Refuse a newer schema before changing anything: switching to WAL
	 * rewrites the file header, and "left untouched" must hold. This
	 * first read also reports "not a database" and "locked" early. */
	if (!check_version(st, num_migrations, err))
		goto fail;
	/* journal_mode=WAL must run outside a transaction. */
	if (strcmp(path, ":memory:") != 0 &&
	    !exec_rc(st, "PRAGMA journal_mode=WAL", "enabling WAL", err))
		goto fail;
	if (!exec_rc(st,
		     "PRAGMA foreign_keys=ON;"
		     "PRAGMA synchronous=NORMAL;"
		     /* A 16 MB page cache and in-memory temporaries: bulk
		      * loads (a million forwards) otherwise spend most of
		      * their time re-reading index pages through syscalls. */
		     "PRAGMA cache_size=-16384;"
		     "PRAGMA temp_store=MEMORY;"
		     /* Checkpoint the WAL every ~16 MB rather than 4 MB:
		      * fewer syncs and copies under bulk writes, still a
		      * bounded WAL. */
		     "PRAGMA wal_autocheckpoint=4000;",
		     "setting pragmas", err))
		goto fail;
	if (!migrate(st, migrations, num_migrations, err))
		goto fail;
	return st;
fail:
	sqlite3_close(st->db);
	free(st->path);
	free(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_tx)
		store_rollback(st);
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	free(st->cache);
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
				  NULL, NULL);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

int store_schema_version(struct store *st)
{
	return st->version;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

bool store_begin(struct store *st, char **err)
{
	if (st->in_tx) {
		/* Inside a read batch a write transaction is a savepoint, so
		 * it can still be rolled back alone. */
		if (!st->batch) {
			*err = xstrdup("transaction already open");
			return false;
		}
		if (!exec_rc(st, "SAVEPOINT nested", "begin", err))
			return false;
		st->nested++;
		return true;
	}
	if (!exec_rc(st, "BEGIN IMMEDIATE", "begin", err))
		return false;
	st->in_tx = true;
	return true;
}

bool store_commit(struct store *st, char **err)
{
	if (!st->in_tx) {
		*err = xstrdup("no transaction open");
		return false;
	}
	if (st->nested) {
		if (!exec_rc(st, "RELEASE nested", "commit", err)) {
			store_rollback(st);
			return false;
		}
		st->nested--;
		return true;
	}
	if (!exec_rc(st, "COMMIT", "commit", err)) {
		store_rollback(st);
		return false;
	}
	st->in_tx = false;
	return true;
}

void store_rollback(struct store *st)
{
	if (!st->in_tx)
		return;
	if (st->nested) {
		sqlite3_exec(st->db, "ROLLBACK TO nested; RELEASE nested", NULL,
			     NULL, NULL);
		st->nested--;
		return;
	}
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
	st->batch = false;
}

bool store_batch_begin(struct store *st, char **err)
{
	if (st->in_tx) {
		*err = xstrdup("transaction already open");
		return false;
	}
	if (!exec_rc(st, "BEGIN DEFERRED", "begin", err))
		return false;
	st->in_tx = st->batch = true;
	return true;
}

bool store_batch_end(struct store *st, char **err)
{
	if (!st->batch) {
		*err = xstrdup("no batch open");
		return false;
	}
	while (st->nested)
		store_rollback(st);
	st->batch = false;
	return store_commit(st, err);
}

bool store_in_transaction(const struct store *st)
{
	return st->in_tx;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql, char **err)
{
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		*err = sqlite_problem(st->db, rc, st->path, "prepare");
		return NULL;
	}
	xgrow(&st->cache, &st->capcache, st->ncache + 1, sizeof(*st->cache));
	st->cache[st->ncache++] = (struct cached_stmt){.sql = sql, .stmt = s};
	return s;
}

void store_done(sqlite3_stmt *stmt)
{
	if (stmt)
		sqlite3_reset(stmt);
}

bool store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what,
		     char **err)
{
	bool ok = sqlite3_step(stmt) == SQLITE_DONE;

	if (!ok)
		*err = xfmt("%s: %s", what, store_errmsg(st));
	sqlite3_reset(stmt);
	return ok;
}

bool store_checkpoint(struct store *st, char **err)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL,
					   SQLITE_CHECKPOINT_PASSIVE, NULL,
					   NULL);
	if (rc != SQLITE_OK) {
		*err = sqlite_problem(st->db, rc, st->path, "checkpoint");
		return false;
	}
	return true;
}

const char *store_errmsg(struct store *st)
{
	return sqlite3_errmsg(st->db);
}
