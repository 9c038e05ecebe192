/* revenue-cleanup-closed: archive the closed channels the accounting
 * missed (through its lifecycle queue), then remove every archived
 * channel's operational rows, one channel per transaction. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/accounting.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/acct_report.h"
#include "plugins/revenue-ops/rpc/reports.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

struct cleanup_req {
	struct command *cmd;
	struct acct_live *v;
	size_t tracked;
	size_t jobs;
	json_t *channels, *errors;
	size_t archived;
};

static void cleanup_finish(struct cleanup_req *q)
{
	struct revenue *r = reports_revenue(q->cmd);
	struct acct_closed_row *closed = NULL;
	size_t nclosed = 0, cleaned = 0;
	uint64_t now = q->v->now;
	char *e = NULL;
	const char *msg;
	char *text = NULL;

	if (!acct_db_closed_all(r->db, &closed, &nclosed, &e)) {
		json_array_append_new(q->errors, json_string(e));
		free(e);
		e = NULL;
	}
	for (size_t i = 0; i < nclosed; i++) {
		struct acct_scids s;
		json_t *rows = json_object();
		uint64_t total = 0;
		bool any = false, ok = true;

		if (!acct_db_scids(r->db, closed[i].channel_id, closed[i].scid,
				   &s, &e)) {
			json_array_append_new(q->errors, json_string(e));
			free(e);
			e = NULL;
			json_decref(rows);
			continue;
		}
		for (size_t k = 0; k < s.n && ok; k++) {
			bool has;
			ok = acct_db_has_operational(r->db, s.v[k], &has, &e);
			any |= ok && has;
		}
		if (ok && any) {
			/* One channel, one transaction. */
			ok = store_begin(r->db, &e);
			for (size_t k = 0; k < s.n && ok; k++) {
				uint64_t n;
				ok = acct_db_remove_operational(r->db, s.v[k],
								&n, &e);
				if (ok && n)
					set(rows, s.v[k],
					    json_integer((json_int_t)n));
				total += ok ? n : 0;
			}
			ok = ok && acct_db_closed_mark_cleaned(
				       r->db, closed[i].channel_id, now, &e);
			if (ok)
				ok = store_commit(r->db, &e);
			else if (store_in_transaction(r->db))
				store_rollback(r->db);
		}
		free(s.v);
		if (!ok) {
			json_array_append_new(
			    q->errors,
			    json_sprintf("%s: %s", closed[i].scid, e));
			free(e);
			e = NULL;
			json_decref(rows);
			continue;
		}
		if (!any) {
			json_decref(rows);
			continue;
		}
		cleaned++;
		json_array_append_new(
		    q->channels,
		    json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "channel_id",
			      closed[i].scid, "peer_id", closed[i].peer_id,
			      "action", "cleaned", "close_type",
			      closed[i].close_type, "rows_removed",
			      (json_int_t)total, "rows_by_scid", rows));
	}
	free(closed);
	if (q->tracked == 0 && nclosed == 0)
		msg = "No tracked channels found";
	else if (q->archived == 0 && cleaned == 0)
		msg = "No closed channels found to clean up";
	else
		msg = text = xfmt("Archived %zu and cleaned %zu closed "
				  "channel(s)",
				  q->archived, cleaned);
	command_ok(q->cmd, json_pack("{s:s,s:I,s:I,s:o,s:o}", "message", msg,
				     "archived", (json_int_t)q->archived,
				     "cleaned", (json_int_t)cleaned, "channels",
				     q->channels, "errors", q->errors));
	free(text);
	acct_live_free(q->v);
	free(q);
}

static void cleanup_job_done(struct revenue *r, const char *channel_id,
			     const char *err, void *arg)
{
	struct cleanup_req *q = arg;

	if (channel_id) {
		struct acct_closed_row row;
		char *e = NULL;
		if (err)
			json_array_append_new(
			    q->errors, json_sprintf("%s: %s", channel_id, err));
		else if (acct_db_closed_find(r->db, channel_id, NULL, &row,
					     &e) &&
			 row.found) {
			q->archived++;
			json_array_append_new(
			    q->channels,
			    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "channel_id",
				      row.scid, "peer_id", row.peer_id,
				      "action", "archived", "close_type",
				      row.close_type, "net_pnl_sats",
				      sat_trunc(row.net_pnl_msat),
				      "total_revenue_sats",
				      sat_ceil(row.revenue_msat)));
		}
		free(e);
	}
	if (--q->jobs == 0)
		cleanup_finish(q);
}

static void cleanup_live(struct revenue *r, struct acct_live *v,
			 const char *err, void *arg)
{
	struct command *cmd = arg;
	struct cleanup_req *q;
	struct acct_chan *missed = NULL;
	size_t nmissed = 0, tracked = 0;
	char *e = NULL;

	if (!v) {
		reports_fail_live(cmd, err);
		return;
	}
	if (!acct_unarchived_closures(r, v, &missed, &nmissed, &tracked, &e)) {
		reports_fail_db(cmd, e);
		acct_live_free(v);
		return;
	}
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->v = v;
	q->tracked = tracked;
	q->channels = json_array();
	q->errors = json_array();
	q->jobs = 1 + nmissed;
	for (size_t i = 0; i < nmissed; i++)
		acct_queue_archive(r, &missed[i], cleanup_job_done, q);
	free(missed);
	cleanup_job_done(r, NULL, NULL, q);
}

void json_revenue_cleanup_closed(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none) || !reports_ready(cmd))
		return;
	acct_live_fetch(reports_revenue(cmd), command_id(cmd), ACCT_LIVE_CLOSED,
			cleanup_live, cmd);
}
