/* Unit tests for common/store.c: migrations on ":memory:" and on files
 * (version advances, a failing migration leaves the previous version and
 * data intact, reopening does not re-run them), refusing a newer schema
 * without touching the file, corrupt and locked databases reported in
 * operator terms, transactions, the statement cache, and checkpoints. */
#include "common/store.h"
#include "tests/check.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int which;
	char *p = buf[which++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static const char *const migrations[] = {
	"CREATE TABLE t (x TEXT NOT NULL);"
	"CREATE TABLE runs (version INTEGER);"
	"INSERT INTO runs VALUES (1);",
	"ALTER TABLE t ADD COLUMN y INTEGER DEFAULT 7;"
	"INSERT INTO runs VALUES (2);",
	"CREATE TABLE parent (id INTEGER PRIMARY KEY);"
	"CREATE TABLE child (pid INTEGER REFERENCES parent(id));"
	"INSERT INTO runs VALUES (3);",
};

/* One integer from a query on a raw connection (or -1). */
static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static long long file_query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	long long v;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -2;
	}
	v = query_int(db, sql);
	sqlite3_close(db);
	return v;
}

static bool exec_ok(struct store *st, const char *sql)
{
	char *err = NULL;
	bool ok = store_exec(st, sql, &err);
	if (!ok) {
		printf("# exec '%s': %s\n", sql, err);
		free(err);
	}
	return ok;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_memory(void)
{
	char *err = NULL;
	struct store *st;

	/* Each prefix of the migration list gives that version. */
	for (size_t n = 0; n <= 3; n++) {
		st = store_open(":memory:", migrations, n, 100, &err);
		CHECK(st != NULL, "open :memory: with %zu migrations: %s", n,
		      err ? err : "ok");
		if (!st) {
			free(err);
			continue;
		}
		CHECK_EQ_INT(store_schema_version(st), n,
			     "store_schema_version after %zu migrations", n);
		CHECK_EQ_INT(query_int(store_db(st), "PRAGMA user_version"), n,
			     "PRAGMA user_version after %zu migrations", n);
		CHECK_EQ_INT(query_int(store_db(st),
				       "SELECT count(*) FROM sqlite_master "
				       "WHERE name='runs'"),
			     n > 0, "runs table exists iff migrated (%zu)", n);
		if (n > 0)
			CHECK_EQ_INT(query_int(store_db(st),
					       "SELECT count(*) FROM runs"),
				     n, "each of %zu migrations ran once", n);
		CHECK_EQ_STR(store_path(st), ":memory:", "store_path");
		store_close(st);
	}

	/* Pragmas applied: foreign keys enforced. */
	st = store_open(":memory:", migrations, 3, 100, &err);
	CHECK_EQ_INT(query_int(store_db(st), "PRAGMA foreign_keys"), 1,
		     "foreign_keys on");
	CHECK(!store_exec(st, "INSERT INTO child VALUES (99)", &err) && err,
	      "foreign key violation refused: %s", err ? err : "(accepted)");
	free(err);
	err = NULL;
	CHECK(store_errmsg(st) && strstr(store_errmsg(st), "FOREIGN KEY"),
	      "store_errmsg: %s", store_errmsg(st));
	store_close(st);

	/* A failing migration on :memory: fails the open and says which. */
	{
		const char *const bad[] = {migrations[0], migrations[1],
					   "CREATE TABLE t3 (z);"
					   "INSERT INTO nonexistent VALUES (1);"};
		st = store_open(":memory:", bad, 3, 100, &err);
		CHECK(st == NULL && err && strstr(err, "migration to version 3"),
		      "failing migration reported: %s", err ? err : "(none)");
		free(err);
		err = NULL;
	}
	store_close(NULL);
}

static void test_file_migrations(void)
{
	const char *path = tmp_path("mig.db");
	const char *const bad[] = {migrations[0], migrations[1],
				   "CREATE TABLE t3 (z);"
				   "INSERT INTO nonexistent VALUES (1);"};
	char *err = NULL;
	struct store *st;

	st = store_open(path, migrations, 2, 100, &err);
	CHECK(st != NULL, "create file db at v2: %s", err ? err : "ok");
	if (!st) {
		free(err);
		return;
	}
	CHECK(exec_ok(st, "INSERT INTO t (x) VALUES ('kept')"), "insert");
	store_close(st);
	CHECK_EQ_INT(file_query_int(path, "PRAGMA user_version"), 2,
		     "file at version 2");

	/* Migration 3 fails halfway: version 2 and the data survive, and
	 * the half-done table does not exist. */
	st = store_open(path, bad, 3, 100, &err);
	CHECK(st == NULL && err && strstr(err, "migration to version 3"),
	      "failing migration refused: %s", err ? err : "(opened)");
	free(err);
	err = NULL;
	CHECK_EQ_INT(file_query_int(path, "PRAGMA user_version"), 2,
		     "version still 2 after the failed migration");
	CHECK_EQ_INT(file_query_int(path, "SELECT count(*) FROM sqlite_master "
					  "WHERE name='t3'"),
		     0, "the failed migration's table was rolled back");
	CHECK_EQ_INT(file_query_int(path, "SELECT count(*) FROM t WHERE "
					  "x='kept' AND y=7"),
		     1, "data intact after the failed migration");

	/* Reopen with the full list: only migration 3 runs. */
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st != NULL, "reopen with 3 migrations: %s", err ? err : "ok");
	if (st) {
		CHECK_EQ_INT(store_schema_version(st), 3, "now version 3");
		CHECK_EQ_INT(query_int(store_db(st),
				       "SELECT count(*) FROM runs"),
			     3, "migrations 1, 2, 3 each ran once");
		CHECK_EQ_INT(query_int(store_db(st), "SELECT count(*) FROM t"),
			     1, "data kept");
		store_close(st);
	} else {
		free(err);
		err = NULL;
	}
	/* And again: nothing runs. */
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st && query_int(store_db(st), "SELECT count(*) FROM runs") == 3,
	      "third open re-runs nothing");
	if (st) {
		sqlite3_stmt *s;
		const unsigned char *mode = NULL;
		char modebuf[16] = "";
		if (sqlite3_prepare_v2(store_db(st), "PRAGMA journal_mode", -1,
				       &s, NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW)
				mode = sqlite3_column_text(s, 0);
			snprintf(modebuf, sizeof(modebuf), "%s",
				 mode ? (const char *)mode : "");
			sqlite3_finalize(s);
		}
		CHECK_EQ_STR(modebuf, "wal", "file db in WAL mode");
	}
	store_close(st);
	if (!st)
		free(err);
}

static void test_foreign_db(void)
{
	const char *path = tmp_path("foreign.db");
	char *err = NULL, *before, *after;
	size_t blen, alen;
	struct store *st;
	sqlite3 *db;

	/* Another program's database: tables, but user_version 0. */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
		      sqlite3_exec(db, "CREATE TABLE forwards (x); "
				       "INSERT INTO forwards VALUES (1);",
				   NULL, NULL, NULL) == SQLITE_OK,
	      "raw foreign create");
	sqlite3_close(db);
	before = read_file(path, &blen);
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st == NULL, "database with tables but no version refused");
	CHECK(err && strstr(err, "not created by this plugin"),
	      "error says why: %s", err ? err : "(none)");
	free(err);
	after = read_file(path, &alen);
	CHECK(before && after && blen == alen && memcmp(before, after, blen) == 0,
	      "foreign file untouched");
	free(before);
	free(after);
}

static void test_newer_schema(void)
{
	const char *path = tmp_path("newer.db");
	char *err = NULL, *before, *after;
	size_t blen, alen;
	struct store *st;
	sqlite3 *db;

	/* A database written by a "newer release", in the default
	 * rollback-journal mode: refusing it must not even switch it to
	 * WAL. */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "raw create");
	CHECK(sqlite3_exec(db, "CREATE TABLE t (x TEXT); "
			       "INSERT INTO t VALUES ('future');"
			       "PRAGMA user_version = 5;",
			   NULL, NULL, NULL) == SQLITE_OK,
	      "raw set user_version 5");
	sqlite3_close(db);
	before = read_file(path, &blen);

	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st == NULL, "newer schema refused");
	CHECK(err && strstr(err, "newer") && strstr(err, "version 5"),
	      "error names a newer schema version: %s", err ? err : "(none)");
	free(err);
	err = NULL;
	after = read_file(path, &alen);
	CHECK(before && after && blen == alen && memcmp(before, after, blen) == 0,
	      "file byte-for-byte untouched (%zu -> %zu bytes)", blen, alen);
	CHECK(!exists(tmp_path("newer.db-wal")), "no -wal file left behind");
	CHECK_EQ_INT(file_query_int(path, "PRAGMA user_version"), 5,
		     "version still 5");
	free(before);
	free(after);

	/* Same for a WAL database a newer release left behind. */
	path = tmp_path("newer-wal.db");
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st != NULL, "create wal db");
	store_close(st);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
		      sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL,
				   NULL) == SQLITE_OK,
	      "raw bump to 9");
	sqlite3_close(db);
	before = read_file(path, &blen);
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st == NULL && err && strstr(err, "newer"),
	      "newer WAL db refused: %s", err ? err : "(opened)");
	free(err);
	after = read_file(path, &alen);
	CHECK(before && after && blen == alen && memcmp(before, after, blen) == 0,
	      "WAL db untouched");
	free(before);
	free(after);
}

static void test_corrupt(void)
{
	const char *path = tmp_path("corrupt.db");
	char garbage[8192], *err = NULL, *after;
	size_t alen;
	struct store *st;
	FILE *f;
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	for (size_t i = 0; i < sizeof(garbage); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		garbage[i] = (char)x;
	}
	f = fopen(path, "wb");
	fwrite(garbage, 1, sizeof(garbage), f);
	fclose(f);

	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st == NULL, "garbage file refused");
	CHECK(err && strstr(err, "corrupt") && strstr(err, path),
	      "error says corrupt and names the file: %s",
	      err ? err : "(none)");
	free(err);
	after = read_file(path, &alen);
	CHECK(after && alen == sizeof(garbage) &&
		      memcmp(after, garbage, alen) == 0,
	      "corrupt file left as it was");
	free(after);

	/* A real database with its pages smashed after the header. */
	path = tmp_path("smashed.db");
	st = store_open(path, migrations, 3, 100, &err);
	for (int i = 0; i < 200; i++) {
		char sql[80];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO t (x) VALUES (printf('%%0500d', %d))", i);
		if (!exec_ok(st, sql))
			break;
	}
	store_close(st);
	{
		int fd = open(path, O_WRONLY);
		/* Keep the 100-byte header, smash the rest of page 1 (the
		 * schema) and page 2. */
		if (pwrite(fd, garbage, 8000, 100) != 8000)
			abort();
		close(fd);
	}
	st = store_open(path, migrations, 3, 100, &err);
	CHECK(st == NULL && err && strstr(err, "corrupt"),
	      "smashed database refused as corrupt: %s",
	      err ? err : "(opened)");
	free(err);
	store_close(st);
}

static void test_locked(void)
{
	const char *path = tmp_path("locked.db");
	char *err = NULL;
	struct store *st;
	sqlite3 *other;

	/* Rollback-journal database held under an exclusive lock. */
	CHECK(sqlite3_open(path, &other) == SQLITE_OK &&
		      sqlite3_exec(other, "CREATE TABLE z (a);", NULL, NULL,
				   NULL) == SQLITE_OK,
	      "raw db created");
	CHECK(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
		      SQLITE_OK,
	      "other connection holds BEGIN EXCLUSIVE");
	st = store_open(path, migrations, 3, 50, &err);
	CHECK(st == NULL && err && strstr(err, "locked"),
	      "exclusively locked db refused: %s", err ? err : "(opened)");
	free(err);
	err = NULL;
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);

	/* A WAL database needing a migration while another writer holds
	 * it: the migration cannot start. */
	path = tmp_path("locked-wal.db");
	st = store_open(path, migrations, 2, 50, &err);
	store_close(st);
	CHECK(sqlite3_open(path, &other) == SQLITE_OK &&
		      sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
				   NULL) == SQLITE_OK,
	      "other connection holds the WAL db");
	st = store_open(path, migrations, 3, 50, &err);
	CHECK(st == NULL && err && strstr(err, "locked"),
	      "migration on a locked WAL db refused: %s",
	      err ? err : "(opened)");
	free(err);
	err = NULL;
	CHECK_EQ_INT(query_int(other, "PRAGMA user_version"), 2,
		     "version unchanged");

	/* Already migrated: opening works (readers are not blocked in WAL)
	 * but a write transaction reports the lock. */
	st = store_open(path, migrations, 2, 50, &err);
	CHECK(st != NULL, "open a migrated WAL db while locked: %s",
	      err ? err : "ok");
	if (st) {
		CHECK(!store_begin(st, &err) && err && strstr(err, "locked"),
		      "store_begin reports the lock: %s", err ? err : "(began)");
		free(err);
		err = NULL;
		CHECK(!store_in_transaction(st), "no transaction after failure");
		sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
		CHECK(store_begin(st, &err), "store_begin once released");
		CHECK(store_commit(st, &err), "commit");
		store_close(st);
	} else {
		free(err);
		sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_close(other);

	/* A file that cannot be created. */
	st = store_open(tmp_path("no/such/dir/x.db"), migrations, 3, 50, &err);
	CHECK(st == NULL && err && strstr(err, "cannot write"),
	      "uncreatable path: %s", err ? err : "(opened)");
	free(err);
}

static void test_transactions(void)
{
	char *err = NULL;
	struct store *st = store_open(":memory:", migrations, 3, 100, &err);

	CHECK(!store_in_transaction(st), "no transaction at first");
	CHECK(!store_commit(st, &err) && err, "commit without begin: %s",
	      err ? err : "(ok)");
	free(err);
	err = NULL;
	CHECK(store_begin(st, &err), "begin");
	CHECK(store_in_transaction(st), "in transaction");
	CHECK(!store_begin(st, &err) && err, "nested begin refused: %s",
	      err ? err : "(ok)");
	free(err);
	err = NULL;
	CHECK(store_in_transaction(st), "still in the first transaction");
	CHECK(exec_ok(st, "INSERT INTO t (x) VALUES ('rolled back')"),
	      "insert in tx");
	store_rollback(st);
	CHECK(!store_in_transaction(st), "rollback ends it");
	CHECK_EQ_INT(query_int(store_db(st), "SELECT count(*) FROM t"), 0,
		     "rolled-back row gone");
	store_rollback(st); /* harmless without a transaction */

	CHECK(store_begin(st, &err), "begin again");
	CHECK(exec_ok(st, "INSERT INTO t (x) VALUES ('a');"
			  "INSERT INTO t (x) VALUES ('b')"),
	      "two statements in one exec");
	CHECK(store_commit(st, &err), "commit");
	CHECK(!store_in_transaction(st), "commit ends it");
	CHECK_EQ_INT(query_int(store_db(st), "SELECT count(*) FROM t"), 2,
		     "committed rows present");

	/* A failing statement inside a transaction leaves it open for the
	 * caller to roll back. */
	CHECK(store_begin(st, &err), "begin a third time");
	CHECK(exec_ok(st, "INSERT INTO t (x) VALUES ('c')"), "insert c");
	CHECK(!store_exec(st, "INSERT INTO t (x) VALUES (NULL)", &err) && err,
	      "NOT NULL violation: %s", err ? err : "(ok)");
	free(err);
	err = NULL;
	store_rollback(st);
	CHECK_EQ_INT(query_int(store_db(st), "SELECT count(*) FROM t"), 2,
		     "nothing from the failed transaction kept");

	/* Closing with a transaction open rolls it back. */
	CHECK(store_begin(st, &err), "begin before close");
	store_close(st);
}

static void test_stmt_cache(void)
{
	static const char sql_insert[] = "INSERT INTO t (x, y) VALUES (?, ?)";
	static const char sql_count[] = "SELECT count(*), sum(y) FROM t";
	char copy[sizeof(sql_count)];
	char *err = NULL;
	struct store *st = store_open(":memory:", migrations, 3, 100, &err);
	sqlite3_stmt *s1, *s2, *s3;

	s1 = store_stmt(st, sql_insert, &err);
	CHECK(s1 != NULL, "prepare insert");
	sqlite3_bind_text(s1, 1, "one", -1, SQLITE_STATIC);
	sqlite3_bind_int(s1, 2, 10);
	CHECK_EQ_INT(sqlite3_step(s1), SQLITE_DONE, "step insert");
	store_done(s1);
	s2 = store_stmt(st, sql_insert, &err);
	CHECK(s2 == s1, "same SQL pointer, same cached statement");
	/* Bindings were cleared: x NULL violates NOT NULL. */
	CHECK_EQ_INT(sqlite3_step(s2) & 0xFF, SQLITE_CONSTRAINT,
		     "bindings cleared on reuse");
	store_done(s2);
	sqlite3_bind_text(s2, 1, "two", -1, SQLITE_STATIC);
	sqlite3_bind_int(s2, 2, 5);
	CHECK_EQ_INT(sqlite3_step(s2), SQLITE_DONE, "second insert");
	store_done(s2);

	s3 = store_stmt(st, sql_count, &err);
	CHECK(s3 != NULL && s3 != s1, "another SQL, another statement");
	CHECK(sqlite3_step(s3) == SQLITE_ROW &&
		      sqlite3_column_int(s3, 0) == 2 &&
		      sqlite3_column_int(s3, 1) == 15,
	      "both rows inserted through the cached statement");
	/* Not reset by the caller: store_stmt resets it on reuse. */
	s2 = store_stmt(st, sql_count, &err);
	CHECK(s2 == s3 && sqlite3_step(s2) == SQLITE_ROW &&
		      sqlite3_column_int(s2, 0) == 2,
	      "reuse resets a statement left mid-iteration");
	store_done(s2);

	/* The cache is keyed by pointer: equal text elsewhere is a new
	 * entry. */
	memcpy(copy, sql_count, sizeof(copy));
	s2 = store_stmt(st, copy, &err);
	CHECK(s2 != NULL && s2 != s3, "equal text at another address");
	store_done(s2);

	/* store_step_done: finished, or the error with its context; the
	 * statement is reset either way. */
	s2 = store_stmt(st, sql_insert, &err);
	sqlite3_bind_text(s2, 1, "three", -1, SQLITE_STATIC);
	sqlite3_bind_int(s2, 2, 1);
	CHECK(store_step_done(st, s2, "t", &err) && !err,
	      "store_step_done: an insert finishes");
	s2 = store_stmt(st, sql_insert, &err);
	CHECK(!store_step_done(st, s2, "inserting into t", &err) && err &&
		      strstr(err, "inserting into t: ") == err &&
		      strstr(err, "NOT NULL"),
	      "store_step_done: a refused insert says what and why: %s",
	      err ? err : "(none)");
	free(err);
	err = NULL;
	CHECK(sqlite3_stmt_busy(s2) == 0, "and the statement is reset");

	s2 = store_stmt(st, "SELECT nope FROM nowhere", &err);
	CHECK(s2 == NULL && err && strstr(err, "nowhere"),
	      "bad SQL: NULL with an error: %s", err ? err : "(none)");
	free(err);
	store_done(NULL);
	store_close(st);
}

static void test_checkpoint(void)
{
	const char *path = tmp_path("ckpt.db"), *copy = tmp_path("copy.db");
	char *err = NULL, *bytes;
	size_t len;
	struct store *st = store_open(path, migrations, 3, 100, &err);
	struct stat wal;
	FILE *f;

	CHECK(st != NULL, "open file db");
	if (!st) {
		free(err);
		return;
	}
	CHECK(exec_ok(st, "INSERT INTO t (x) VALUES ('in the wal')"),
	      "insert");
	CHECK(stat(tmp_path("ckpt.db-wal"), &wal) == 0 && wal.st_size > 0,
	      "the write sits in the WAL (%lld bytes)",
	      (long long)wal.st_size);

	/* Before a checkpoint, the main file alone lacks the row. */
	bytes = read_file(path, &len);
	f = fopen(copy, "wb");
	fwrite(bytes, 1, len, f);
	fclose(f);
	free(bytes);
	CHECK(file_query_int(copy, "SELECT count(*) FROM t") <= 0,
	      "main file alone lacks the row before a checkpoint");
	unlink(copy);

	CHECK(store_checkpoint(st, &err), "checkpoint: %s", err ? err : "ok");
	bytes = read_file(path, &len);
	f = fopen(copy, "wb");
	fwrite(bytes, 1, len, f);
	fclose(f);
	free(bytes);
	CHECK_EQ_INT(file_query_int(copy, "SELECT count(*) FROM t"), 1,
		     "a copy of the main file alone has the row after "
		     "store_checkpoint");
	unlink(copy);

	/* :memory: has no WAL: checkpoint is a no-op success. */
	{
		struct store *mem = store_open(":memory:", migrations, 1, 100,
					       &err);
		CHECK(store_checkpoint(mem, &err), "checkpoint on :memory:");
		store_close(mem);
	}

	store_close(st);
	CHECK(!exists(tmp_path("ckpt.db-wal")) ||
		      (stat(tmp_path("ckpt.db-wal"), &wal) == 0 &&
		       wal.st_size == 0),
	      "close checkpoints and truncates the WAL");
}

static void remove_tree(void)
{
	static const char *const names[] = {
		"mig.db", "newer.db", "newer-wal.db", "corrupt.db",
		"smashed.db", "locked.db", "locked-wal.db", "ckpt.db",
		"copy.db"};
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < 4; j++) {
			char p[300];
			snprintf(p, sizeof(p), "%s/%s%s", tmpdir, names[i],
				 sfx[j]);
			unlink(p);
		}
	rmdir(tmpdir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	strcpy(tmpdir, "/tmp/hive-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_memory();
	test_file_migrations();
	test_newer_schema();
	test_foreign_db();
	test_corrupt();
	test_locked();
	test_transactions();
	test_stmt_cache();
	test_checkpoint();
	remove_tree();
	return check_done();
}
