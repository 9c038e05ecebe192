/* revenue-forward-history: routing per UTC day, from raw forwards and
 * the daily rollups together, so days older than the raw retention are
 * still there. Read only. */
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY 86400
#define MAX_SPAN_DAYS 400
#define MAX_LIMIT 5000
#define DEFAULT_LIMIT 1000
#define DEFAULT_SPAN_DAYS 30

static json_t *day_json(uint64_t day, const struct fwd_day *d, bool channel)
{
	time_t t = (time_t)day;
	struct tm tm;
	char date[16];
	json_t *o;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	o = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:I}", "day", (json_int_t)day,
		      "date", date, "forward_count", (json_int_t)d->out_count,
		      "in_msat", (json_int_t)d->in_msat, "out_msat",
		      (json_int_t)d->out_msat, "fee_msat",
		      (json_int_t)d->fee_msat, "failed_count",
		      (json_int_t)d->failed);
	if (channel) {
		json_object_set_new(o, "entry_count",
				    json_integer((json_int_t)d->in_count));
		json_object_set_new(o, "entry_in_msat",
				    json_integer(d->entry_in_msat));
		json_object_set_new(o, "sourced_fee_msat",
				    json_integer(d->sourced_fee_msat));
	}
	return o;
}

static bool day_aligned(struct command *cmd, const char *name, int64_t v)
{
	if (v >= 0 && v % DAY == 0)
		return true;
	command_fail(cmd, ERR_INVALID_PARAMS,
		     json_pack("{s:s,s:I}", "field", name, "value",
			       (json_int_t)v),
		     "%s: must be a UTC midnight (a multiple of 86400), got "
		     "%lld",
		     name, (long long)v);
	return false;
}

void json_revenue_forward_history(struct command *cmd, const json_t *params)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	int64_t until = (int64_t)(now - now % DAY + DAY), since, limit;
	bool have_since = false, have_until = false, have_limit = false;
	const char *chan = NULL;
	const struct param specs[] = {
	    {"history_since", PARAM_INT, false, &since, &have_since},
	    {"history_until", PARAM_INT, false, &until, &have_until},
	    {"channel_id", PARAM_SCID, false, &chan},
	    {"limit", PARAM_INT, false, &limit, &have_limit},
	    {NULL},
	};
	struct acct_scids scids = {0};
	struct fwd_day *days;
	char cid[65], *err = NULL;
	size_t span, emitted = 0, active = 0;
	json_t *rows;

	if (!command_params(cmd, params, specs))
		return;
	if (!r->db) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return;
	}
	if (!have_since)
		since = until - DEFAULT_SPAN_DAYS * DAY;
	if (!have_limit)
		limit = DEFAULT_LIMIT;
	if (!day_aligned(cmd, "history_since", since) ||
	    !day_aligned(cmd, "history_until", until))
		return;
	if (until <= since || (until - since) / DAY > MAX_SPAN_DAYS) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:I,s:I}", "history_since",
				       (json_int_t)since, "history_until",
				       (json_int_t)until),
			     "history_until must be after history_since, at "
			     "most %d days later",
			     MAX_SPAN_DAYS);
		return;
	}
	if (limit < 1 || limit > MAX_LIMIT) {
		command_fail(cmd, ERR_INVALID_PARAMS,
			     json_pack("{s:I}", "limit", (json_int_t)limit),
			     "limit: must be between 1 and %d", MAX_LIMIT);
		return;
	}
	/* A spliced channel's history is under every scid it has had. */
	if (chan && (!acct_db_channel_of(r->db, chan, cid, &err) ||
		     !acct_db_scids(r->db, cid, chan, &scids, &err))) {
		command_fail(cmd, ERR_DATABASE, NULL, "database: %s", err);
		free(err);
		return;
	}
	span = (size_t)((until - since) / DAY);
	days = xzalloc(sizeof(*days) * span);
	for (int view = 0; view < 2; view++) {
		bool ok = true;
		if (!chan)
			ok = forwards_days_add(r, NULL, view, (uint64_t)since,
					       (uint64_t)until, days, &err);
		for (size_t i = 0; ok && i < scids.n; i++)
			ok = forwards_days_add(r, scids.v[i], view,
					       (uint64_t)since, (uint64_t)until,
					       days, &err);
		if (!ok) {
			command_fail(cmd, ERR_DATABASE, NULL, "database: %s",
				     err);
			free(err);
			free(days);
			free(scids.v);
			return;
		}
	}
	rows = json_array();
	for (size_t i = 0; i < span; i++) {
		const struct fwd_day *d = &days[i];
		if (!d->out_count && !d->in_count && !d->failed)
			continue;
		active++;
		if (emitted < (size_t)limit) {
			json_array_append_new(
			    rows, day_json((uint64_t)since + i * DAY, d,
					   chan != NULL));
			emitted++;
		}
	}
	command_ok(cmd, json_pack("{s:I,s:I,s:s?,s:o,s:I,s:b}",
				  "history_since", (json_int_t)since,
				  "history_until", (json_int_t)until,
				  "channel_id", chan, "days", rows, "count",
				  (json_int_t)emitted, "truncated",
				  active > emitted));
	free(days);
	free(scids.v);
}
