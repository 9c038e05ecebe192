/* Unit tests of the operator's fee anchors (anchor.c): action names, the
 * checks of `set` (every limit on both sides), the JSON, the engine's
 * view, and storage on :memory: (migration 5, upsert, expiry on read,
 * the splice fallback and re-key, delete, clear-all counts, purge, and
 * revenue-cleanup-closed's table list). */
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include "plugins/revenue-ops/store/anchor.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/schema.h"
#include "tests/check.h"
#include <math.h>
#include <string.h>

#define NOW 1700000000ULL
#define CID_A "aa00000000000000000000000000000000000000000000000000000000000000"
#define CID_B "bb00000000000000000000000000000000000000000000000000000000000000"
#define PEER                                                                   \
	"02aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_actions(void)
{
	static const struct {
		const char *s;
		bool ok;
		enum fee_anchor_action want;
	} c[] = {
	    {"set", true, FEE_ANCHOR_SET},
	    {"list", true, FEE_ANCHOR_LIST},
	    {"get", true, FEE_ANCHOR_GET},
	    {"clear", true, FEE_ANCHOR_CLEAR},
	    {"clear-all", true, FEE_ANCHOR_CLEAR_ALL},
	    {" CLEAR-ALL ", true, FEE_ANCHOR_CLEAR_ALL},
	    {"Set", true, FEE_ANCHOR_SET},
	    {"clear_all", false, 0},
	    {"delete", false, 0},
	    {"", false, 0},
	    {"set-and-a-very-long-tail", false, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		enum fee_anchor_action a = FEE_ANCHOR_LIST;
		bool ok = fee_anchor_action_parse(c[i].s, &a);
		CHECK(ok == c[i].ok && (!ok || a == c[i].want),
		      "action '%s': %s", c[i].s, ok ? "accepted" : "refused");
	}
	CHECK(!fee_anchor_action_parse(NULL, &(enum fee_anchor_action){0}),
	      "action NULL refused");
}

static void test_check(void)
{
	static const struct {
		const char *name;
		int64_t target;
		double conf, bw, ttl_h;
		const char *reason;
		const char *field; /* NULL: valid */
		uint64_t ttl_sec;
	} c[] = {
	    {"defaults", 500, 1.0, 0.7, 24, "", NULL, 86400},
	    {"target 0", 0, 1, 0.7, 24, "", NULL, 86400},
	    {"target 100000", 100000, 1, 0.7, 24, "", NULL, 86400},
	    {"target -1", -1, 1, 0.7, 24, "", "target_fee_ppm", 0},
	    {"target 100001", 100001, 1, 0.7, 24, "", "target_fee_ppm", 0},
	    {"confidence 0", 5, 0, 0.7, 24, "", NULL, 86400},
	    {"confidence 1.5", 5, 1.5, 0.7, 24, "", "confidence", 0},
	    {"confidence -0.1", 5, -0.1, 0.7, 24, "", "confidence", 0},
	    {"confidence NaN", 5, NAN, 0.7, 24, "", "confidence", 0},
	    {"base weight 1", 5, 1, 1, 24, "", NULL, 86400},
	    {"base weight 1.01", 5, 1, 1.01, 24, "", "base_weight", 0},
	    {"base weight -1", 5, 1, -1, 24, "", "base_weight", 0},
	    {"ttl 0", 5, 1, 0.7, 0, "", "ttl_hours", 0},
	    {"ttl negative", 5, 1, 0.7, -1, "", "ttl_hours", 0},
	    {"ttl 1 s", 5, 1, 0.7, 1.0 / 3600, "", NULL, 1},
	    {"ttl half a second", 5, 1, 0.7, 0.5 / 3600, "", "ttl_hours", 0},
	    {"ttl 1.5 h", 5, 1, 0.7, 1.5, "", NULL, 5400},
	    {"ttl 7 days", 5, 1, 0.7, 168, "", NULL, 604800},
	    {"ttl 7 days + 4 s", 5, 1, 0.7, 168.001, "", "ttl_hours", 0},
	    {"ttl infinite", 5, 1, 0.7, INFINITY, "", "ttl_hours", 0},
	    {"ttl NaN", 5, 1, 0.7, NAN, "", "ttl_hours", 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		const char *field = "unset";
		uint64_t ttl = 0;
		char *msg = fee_anchor_check(c[i].target, c[i].conf, c[i].bw,
					     c[i].ttl_h, c[i].reason, &ttl,
					     &field);
		if (!c[i].field)
			CHECK(!msg && ttl == c[i].ttl_sec,
			      "%s: valid, ttl %llu s (%s)", c[i].name,
			      (unsigned long long)ttl, msg ? msg : "");
		else
			CHECK(msg && field && !strcmp(field, c[i].field),
			      "%s: refused naming %s (%s: %s)", c[i].name,
			      c[i].field, field ? field : "(null)",
			      msg ? msg : "no message");
		free(msg);
	}
	{
		char long_reason[FEE_ANCHOR_MAX_REASON + 2];
		const char *field = NULL;
		uint64_t ttl;
		char *msg;
		memset(long_reason, 'x', sizeof(long_reason) - 1);
		long_reason[sizeof(long_reason) - 1] = '\0';
		msg = fee_anchor_check(5, 1, 0.7, 24, long_reason, &ttl, &field);
		CHECK(msg && !strcmp(field, "reason"),
		      "a reason over %d bytes refused", FEE_ANCHOR_MAX_REASON);
		free(msg);
		long_reason[FEE_ANCHOR_MAX_REASON] = '\0';
		msg = fee_anchor_check(5, 1, 0.7, 24, long_reason, &ttl, &field);
		CHECK(!msg, "a reason of %d bytes accepted",
		      FEE_ANCHOR_MAX_REASON);
		free(msg);
	}
}

static struct fee_anchor make(const char *scid, const char *cid,
			      int64_t target, uint64_t expires)
{
	struct fee_anchor a = {0};

	snprintf(a.scid, sizeof(a.scid), "%s", scid);
	snprintf(a.channel_id, sizeof(a.channel_id), "%s", cid);
	snprintf(a.peer_id, sizeof(a.peer_id), "%s", PEER);
	a.target_fee_ppm = target;
	a.confidence = 0.8;
	a.base_weight = 0.5;
	a.created_at = NOW - 100;
	a.expires_at = expires;
	snprintf(a.reason, sizeof(a.reason), "market %lld", (long long)target);
	return a;
}

static void test_json_and_obs(void)
{
	struct fee_anchor a = make("800000x1x0", CID_A, 700, NOW + 3600);
	struct fee_ctl_obs o;
	json_t *j = fee_anchor_json(&a, NOW);

	CHECK(!strcmp(json_string_value(json_object_get(j, "channel_id")),
		      "800000x1x0") &&
		  json_integer_value(json_object_get(j, "target_fee_ppm")) ==
		      700 &&
		  json_real_value(json_object_get(j, "confidence")) == 0.8 &&
		  json_real_value(json_object_get(j, "base_weight")) == 0.5 &&
		  json_real_value(json_object_get(j, "effective_weight")) ==
		      0.4 &&
		  json_integer_value(json_object_get(j, "created_at")) ==
		      (json_int_t)(NOW - 100) &&
		  json_integer_value(json_object_get(j, "expires_at")) ==
		      (json_int_t)(NOW + 3600) &&
		  json_integer_value(
		      json_object_get(j, "ttl_seconds_remaining")) == 3600 &&
		  !strcmp(json_string_value(json_object_get(j, "reason")),
			  "market 700"),
	      "anchor JSON: every field");
	json_decref(j);
	j = fee_anchor_json(&a, NOW + 7200);
	CHECK_EQ_INT(json_integer_value(
			 json_object_get(j, "ttl_seconds_remaining")),
		     0, "remaining ttl never negative");
	json_decref(j);
	CHECK(fee_anchor_active(&a, NOW) && !fee_anchor_active(&a, NOW + 3600),
	      "active until expires_at (exclusive)");

	fee_ctl_obs_init(&o);
	CHECK_EQ_INT(o.anchor_target_ppm, -1, "obs_init: no anchor");
	fee_anchor_to_obs(&a, &o);
	CHECK(o.anchor_target_ppm == 700 && o.anchor_confidence == 0.8 &&
		  o.anchor_base_weight == 0.5 &&
		  o.anchor_expires_sec == NOW + 3600,
	      "anchor handed to the engine");
	fee_anchor_to_obs(NULL, &o);
	CHECK_EQ_INT(o.anchor_target_ppm, -1, "no anchor handed as none");
}

static uint64_t count_rows(struct store *db)
{
	sqlite3_stmt *st;
	uint64_t n = 0;

	if (sqlite3_prepare_v2(store_db(db), "SELECT COUNT(*) FROM fee_anchors",
			       -1, &st, NULL) != SQLITE_OK)
		return UINT64_MAX;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_storage(void)
{
	struct revenue r = {0};
	struct fee_anchor a, b, got, *arr = NULL;
	char *err = NULL;
	bool found, has;
	size_t n;
	uint64_t k;

	r.db = revenue_db_open(":memory:", &err);
	CHECK(r.db != NULL, "open :memory: (%s)", err ? err : "");
	if (!r.db)
		return;
	CHECK_EQ_INT(store_schema_version(r.db), 6, "schema at migration 6");

	a = make("800000x1x0", CID_A, 700, NOW + 3600);
	b = make("800001x2x1", CID_B, 50, NOW - 1); /* already expired */
	CHECK(store_begin(r.db, &err) && fee_anchor_put(r.db, &a, &err) &&
		  fee_anchor_put(r.db, &b, &err) && store_commit(r.db, &err),
	      "put two anchors");
	CHECK(fee_anchor_get(r.db, "800000x1x0", NULL, NOW, &got, &found,
			     &err) &&
		  found && got.target_fee_ppm == 700 &&
		  got.confidence == 0.8 && got.base_weight == 0.5 &&
		  got.created_at == NOW - 100 &&
		  got.expires_at == NOW + 3600 &&
		  !strcmp(got.channel_id, CID_A) &&
		  !strcmp(got.peer_id, PEER) &&
		  !strcmp(got.reason, "market 700"),
	      "get by scid: every field back");
	CHECK(fee_anchor_get(r.db, "800001x2x1", CID_B, NOW, &got, &found,
			     &err) &&
		  !found,
	      "an expired anchor is not returned");
	CHECK(fee_anchor_list(r.db, NOW, &arr, &n, &err) && n == 1 &&
		  !strcmp(arr[0].scid, "800000x1x0"),
	      "list: the active one only");
	free(arr);
	CHECK_EQ_INT(count_rows(r.db), 2, "reads deleted nothing");

	/* A splice: the channel id finds the row under the old scid. */
	CHECK(fee_anchor_get(r.db, "900000x5x0", CID_A, NOW, &got, &found,
			     &err) &&
		  found && !strcmp(got.scid, "800000x1x0"),
	      "found by channel id under the old scid");
	/* Setting it under the new scid replaces the old row. */
	a = make("900000x5x0", CID_A, 900, NOW + 7200);
	CHECK(store_begin(r.db, &err) && fee_anchor_put(r.db, &a, &err) &&
		  store_commit(r.db, &err),
	      "upsert under the new scid");
	CHECK(fee_anchor_get(r.db, "800000x1x0", NULL, NOW, &got, &found,
			     &err) &&
		  !found,
	      "the old scid's row was replaced, not duplicated");
	CHECK(fee_anchor_get(r.db, "900000x5x0", NULL, NOW, &got, &found,
			     &err) &&
		  found && got.target_fee_ppm == 900,
	      "the new value is in force");

	/* fee_state_rekey moves the anchor with the rest. */
	CHECK(fee_state_rekey(&r, "900000x5x0", "910000x1x1", &err),
	      "rekey (%s)", err ? err : "");
	CHECK(fee_anchor_get(r.db, "910000x1x1", NULL, NOW, &got, &found,
			     &err) &&
		  found && got.target_fee_ppm == 900,
	      "rekey moved the anchor to the new scid");
	CHECK(fee_anchor_get(r.db, "900000x5x0", NULL, NOW, &got, &found,
			     &err) &&
		  !found,
	      "nothing left under the old scid");

	/* The CHECK constraints hold even against a direct write. */
	CHECK(!store_exec(r.db,
			  "INSERT INTO fee_anchors (channel_id, "
			  "target_fee_ppm, confidence, base_weight, "
			  "created_at, expires_at) VALUES ('1x1x1', 10, 1.5, "
			  "0.5, 1, 2)",
			  &err),
	      "the table refuses confidence 1.5");
	free(err);
	err = NULL;

	/* Purge deletes the expired row only. */
	CHECK(store_begin(r.db, &err) &&
		  fee_anchor_purge(r.db, NOW, &k, &err) &&
		  store_commit(r.db, &err) && k == 1 &&
		  count_rows(r.db) == 1,
	      "purge: the expired anchor deleted, the active kept");

	/* revenue-cleanup-closed's list names the table. */
	{
		bool listed = false;
		for (unsigned i = 0; i < revenue_num_channel_tables; i++)
			listed |= !strcmp(revenue_channel_tables[i].table,
					  "fee_anchors") &&
				  !strcmp(revenue_channel_tables[i].column,
					  "channel_id");
		CHECK(listed, "fee_anchors is an operational channel table");
	}
	CHECK(acct_db_has_operational(r.db, "910000x1x1", &has, &err) && has,
	      "cleanup sees the anchor as operational state");
	CHECK(store_begin(r.db, &err) &&
		  acct_db_remove_operational(r.db, "910000x1x1", &k, &err) &&
		  store_commit(r.db, &err) && k == 1 && count_rows(r.db) == 0,
	      "cleanup of a closed channel removes its anchor");

	/* Delete by channel id; clear-all counts the active ones only. */
	a = make("800000x1x0", CID_A, 700, NOW + 3600);
	b = make("800001x2x1", CID_B, 50, NOW - 1);
	CHECK(store_begin(r.db, &err) && fee_anchor_put(r.db, &a, &err) &&
		  fee_anchor_put(r.db, &b, &err) &&
		  fee_anchor_delete(r.db, "no-such", CID_A, &k, &err) &&
		  store_commit(r.db, &err) && k == 1 && count_rows(r.db) == 1,
	      "delete by channel id");
	CHECK(store_begin(r.db, &err) && fee_anchor_delete(r.db, "800000x1x0",
							    NULL, &k, &err) &&
		  store_commit(r.db, &err) && k == 0,
	      "deleting what is not there deletes nothing");
	a = make("800002x3x0", "", 10, NOW + 10);
	CHECK(store_begin(r.db, &err) && fee_anchor_put(r.db, &a, &err) &&
		  fee_anchor_delete_all(r.db, NOW, &k, &err) &&
		  store_commit(r.db, &err) && k == 1 && count_rows(r.db) == 0,
	      "clear-all: every row gone, 1 active counted");
	free(err);
	store_close(r.db);
}

int main(void)
{
	test_actions();
	test_check();
	test_json_and_obs();
	test_storage();
	return check_done();
}
