/* Which peers CLBOSS leaves to us; see store/clboss.h. */
#include "plugins/revenue-ops/store/clboss.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <stdio.h>
#include <string.h>

bool clboss_record(struct revenue *r, const char *peer_id, const char *tags,
		   uint64_t now, char **err)
{
	char *copy = xstrdup(tags), *save = NULL;
	bool ok = true;

	for (char *t = strtok_r(copy, ",", &save); t && ok;
	     t = strtok_r(NULL, ",", &save)) {
		sqlite3_stmt *st = store_stmt(
		    r->db,
		    "INSERT OR REPLACE INTO clboss_unmanaged (peer_id, tag, "
		    "unmanaged_at) VALUES (?1, ?2, ?3)",
		    err);
		if (!st) {
			ok = false;
			break;
		}
		sqlite3_bind_text(st, 1, peer_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		ok = store_step_done(r->db, st, "clboss_unmanaged", err);
	}
	free(copy);
	return ok;
}

bool clboss_forget(struct revenue *r, const char *peer, const char *tag,
		   char **err)
{
	sqlite3_stmt *st = store_stmt(r->db,
				      "DELETE FROM clboss_unmanaged WHERE "
				      "peer_id = ?1 AND tag = ?2",
				      err);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_TRANSIENT);
	return store_step_done(r->db, st, "clboss_unmanaged", err);
}

json_t *clboss_unmanaged_json(struct revenue *r, const char *peer)
{
	char *err = NULL;
	json_t *arr = json_array();
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT peer_id, tag, unmanaged_at FROM clboss_unmanaged WHERE "
	    "?1 IS NULL OR peer_id = ?1 ORDER BY peer_id, tag",
	    &err);
	if (!st) {
		free(err);
		return arr;
	}
	if (peer)
		sqlite3_bind_text(st, 1, peer, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:I}", "peer_id",
				   sqlite3_column_text(st, 0), "tag",
				   sqlite3_column_text(st, 1), "unmanaged_at",
				   (json_int_t)sqlite3_column_int64(st, 2)));
	store_done(st);
	return arr;
}

bool clboss_unmanaged_all(struct revenue *r, char (**peers)[67],
			  char (**tags)[16], size_t *n, char **err)
{
	sqlite3_stmt *st =
	    store_stmt(r->db, "SELECT peer_id, tag FROM clboss_unmanaged", err);
	size_t cap = 0, cap2 = 0;

	if (!st)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		xgrow(peers, &cap, *n + 1, sizeof(**peers));
		xgrow(tags, &cap2, *n + 1, sizeof(**tags));
		snprintf((*peers)[*n], sizeof((*peers)[0]), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf((*tags)[*n], sizeof((*tags)[0]), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		(*n)++;
	}
	store_done(st);
	return true;
}
