/* The settings' runtime overrides; see config_overrides.h. */
#include "plugins/revenue-ops/store/config_overrides.h"
#include "common/store.h"
#include "common/util.h"

bool config_load_overrides(struct ro_config *c, struct store *db,
			   json_t **warnings, char **err)
{
	sqlite3_stmt *st = store_stmt(
		db, "SELECT key, value FROM config_overrides ORDER BY key", err);

	*warnings = json_array();
	if (!st)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const char *val = (const char *)sqlite3_column_text(st, 1);
		int k = key ? config_key_lookup(key) : -1;
		union cfg_value v;
		char *e;

		if (k < 0) {
			json_array_append_new(
				*warnings,
				json_sprintf("override '%s' matches no known "
					     "key: ignored",
					     key ? key : "(null)"));
			continue;
		}
		if (!(cfg_defs[k].flags & CF_RUNTIME) || !val) {
			json_array_append_new(
				*warnings,
				json_sprintf("override '%s' is not a runtime "
					     "key: ignored",
					     key));
			continue;
		}
		e = config_parse(k, val, &v);
		if (!e)
			e = config_cross_check(c, k, &v);
		if (e) {
			json_array_append_new(
				*warnings,
				json_sprintf("override %s='%s' ignored: %s",
					     key, val, e));
			free(e);
			if (cfg_defs[k].type == CT_STR && v.s)
				free(v.s);
			continue;
		}
		config_set(c, k, v, true);
	}
	store_done(st);
	return true;
}

bool config_store_override(struct store *db, enum cfg_key k, const char *text,
			   uint64_t now, char **err)
{
	sqlite3_stmt *st;

	if (text) {
		st = store_stmt(db,
				"INSERT INTO config_overrides (key, value, "
				"updated_at) VALUES (?1, ?2, ?3) "
				"ON CONFLICT(key) DO UPDATE SET value = ?2, "
				"updated_at = ?3",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, cfg_defs[k].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	} else {
		st = store_stmt(db, "DELETE FROM config_overrides WHERE key = ?1",
				err);
		if (!st)
			return false;
		sqlite3_bind_text(st, 1, cfg_defs[k].key, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		*err = xfmt("storing override %s: %s", cfg_defs[k].key,
			    sqlite3_errmsg(store_db(db)));
		store_done(st);
		return false;
	}
	store_done(st);
	return true;
}
