/* Unit tests of the temporal profiles as the flow cycle computes and
 * stores them (cycle/flow.c, store/flow_state.c) on a :memory: database: the one aggregate
 * counts each settled forward for its incoming and its outgoing channel
 * and nothing else (failed, in flight, before the window, today), the
 * retention bounds what is covered, one channel alone gives the same
 * profile as all, persistence into channel_states.temporal_profile_json
 * (NULL without forwards) and reading it back, also from broken text;
 * the profiles kept in memory for a UTC day and the fee cycle's
 * intensity from them. */
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/flow.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/store/schema.h"
#include "tests/check.h"
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL
#define HOUR 3600ULL
/* 2026-01-21 21:30 UTC; window day d (0..13) starts at WSTART + d days,
 * today is day 14. */
#define D0 1767225600ULL
#define NOW (D0 + 20 * DAY + 21 * HOUR + 1800)
#define WSTART (D0 + 6 * DAY)
#define A "800000x1x0"
#define B "800001x1x0"
#define C "800002x1x0"

static int htlc_id;

static void fwd(struct revenue *r, const char *in, const char *out,
		const char *status, uint64_t t)
{
	char *err = NULL;
	char *sql = xfmt("INSERT INTO forwards (in_channel, in_htlc_id, "
			 "out_channel, in_msat, out_msat, fee_msat, status, "
			 "received_time) VALUES ('%s', %d, '%s', 1001000, "
			 "1000000, 1000, '%s', %llu)",
			 in, htlc_id++, out, status, (unsigned long long)t);
	if (!store_exec(r->db, sql, &err)) {
		CHECK(false, "insert forward: %s", err);
		free(err);
	}
	free(sql);
}

static void chan(struct chan_info *ci, const char *scid, char id)
{
	memset(ci, 0, sizeof(*ci));
	snprintf(ci->scid, sizeof(ci->scid), "%s", scid);
	memset(ci->peer_id, id, 66);
	ci->peer_id[0] = '0';
	ci->peer_id[1] = '2';
	memset(ci->channel_id, id, 64);
	snprintf(ci->state, sizeof(ci->state), "CHANNELD_NORMAL");
	ci->active = true;
	ci->capacity_msat = 1000000000;
	ci->spendable_msat = 500000000;
	ci->max_accepted_htlcs = 483;
}

static const struct flow_chan *find(const struct flow_run *run,
				    const char *scid)
{
	for (size_t i = 0; i < run->n; i++)
		if (!strcmp(run->ch[i].ci->scid, scid))
			return &run->ch[i];
	return NULL;
}

static void test_compute_and_store(void)
{
	struct revenue r = {0};
	struct chan_info chans[3];
	struct node_view v = {.chans = chans, .nchans = 3,
			      .blockheight = 900000};
	struct flow_run run, one;
	const struct flow_chan *a, *b, *c;
	struct temporal_profile back;
	union cfg_value val;
	sqlite3_stmt *st;
	char *err = NULL;
	int nulls = 0;

	config_init_defaults(&r.cfg);
	r.db = revenue_db_open(":memory:", &err);
	CHECK(r.db != NULL, "open :memory: (%s)", err ? err : "");
	if (!r.db) {
		free(err);
		config_free(&r.cfg);
		return;
	}
	chan(&chans[0], A, 'a');
	chan(&chans[1], B, 'b');
	chan(&chans[2], C, 'c');
	/* Days 5..13: 10 settled forwards A -> B at 21:xx each (A counts
	 * them in, B out), plus what must not count: a failed and an
	 * in-flight one, one today, one the day before the window. */
	for (unsigned d = 5; d < 14; d++)
		for (unsigned k = 0; k < 10; k++)
			fwd(&r, A, B, "settled",
			    WSTART + d * DAY + 21 * HOUR + k * 60);
	fwd(&r, A, B, "local_failed", WSTART + 13 * DAY + 3 * HOUR);
	fwd(&r, A, B, "offered", WSTART + 13 * DAY + 4 * HOUR);
	fwd(&r, B, A, "settled", NOW - 60);
	fwd(&r, B, A, "settled", WSTART - 60);

	if (!flow_compute(&r, &v, NOW, NULL, &run, &err)) {
		CHECK(false, "flow_compute: %s", err);
		free(err);
		goto out;
	}
	a = find(&run, A);
	b = find(&run, B);
	c = find(&run, C);
	CHECK(a && b && c && a->ok && b->ok && c->ok,
	      "three channels analysed");
	if (!a || !b || !c)
		goto free_run;
	CHECK(a->temporal.days == 9 && a->temporal.forwards_per_day == 10 &&
		  a->temporal.graduated &&
		  fabs(a->temporal.hourly[21] - 10) < 1e-9 &&
		  a->temporal.hourly[3] == 0 && a->temporal.hourly[4] == 0,
	      "incoming side: 9 days of 10 at 21:00, nothing else counted "
	      "(days %u, %f a day)",
	      a->temporal.days, a->temporal.forwards_per_day);
	CHECK(b->temporal.days == 9 && b->temporal.forwards_per_day == 10 &&
		  b->temporal.n_peak == 1 && b->temporal.peak_hours[0] == 21,
	      "outgoing side counted the same: peak hour 21");
	CHECK(c->temporal.days == 0 && !c->temporal.graduated,
	      "a channel without forwards has an empty profile");

	/* One channel alone: its own query, the same profile. */
	if (flow_compute(&r, &v, NOW, B, &one, &err)) {
		CHECK(one.n == 1 && memcmp(&one.ch[0].temporal, &b->temporal,
					   sizeof(b->temporal)) == 0,
		      "one channel's profile equals its profile among all");
		flow_run_free(&one);
	} else {
		CHECK(false, "flow_compute one: %s", err);
		free(err);
		err = NULL;
	}

	/* Stored, and read back as the fee cycle does. */
	CHECK(store_begin(r.db, &err) && flow_persist(&r, &run, NOW, &err) &&
		  store_commit(r.db, &err),
	      "persist (%s)", err ? err : "");
	free(err);
	err = NULL;
	st = store_stmt(r.db,
			"SELECT channel_id, temporal_profile_json FROM "
			"channel_states ORDER BY channel_id",
			&err);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *j = (const char *)sqlite3_column_text(st, 1);
		if (!j) {
			nulls += !strcmp(id, C);
			continue;
		}
		if (!strcmp(id, A))
			CHECK(flow_temporal_parse(j, &back) &&
				  back.graduated && back.days == 9 &&
				  fabs(back.forwards_per_day - 10) < 1e-6 &&
				  fabs(back.hourly[21] - 10) < 1e-6 &&
				  back.n_peak == 1 &&
				  back.peak_hours[0] == 21 &&
				  back.n_quiet == 6 &&
				  fabs(temporal_intensity_at(&back, NOW) - 1) <
				      1e-9 &&
				  strstr(j, "\"computed_at\":") != NULL,
			      "stored profile reads back (%s)", j);
	}
	if (st)
		store_done(st);
	CHECK(nulls == 1, "no profile stored for the channel without forwards");
	free(err);
	err = NULL;

	/* Hours are kept for the retention only: with 8 days they are
	 * known from day 6 21:30, so day 7 is the first whole day covered
	 * (the rows of days 5 and 6, not pruned yet here, are ignored). */
	val.i = 8;
	config_set(&r.cfg, CFG_FORWARD_RETENTION_DAYS, val, false);
	flow_run_free(&run);
	if (!flow_compute(&r, &v, NOW, A, &run, &err)) {
		CHECK(false, "flow_compute: %s", err);
		free(err);
		goto out;
	}
	CHECK(run.n == 1 && run.ch[0].temporal.days == 7 &&
		  run.ch[0].temporal.graduated,
	      "retention 8 days: 7 whole days covered (got %u)",
	      run.n ? run.ch[0].temporal.days : 0);
free_run:
	flow_run_free(&run);
out:
	store_close(r.db);
	config_free(&r.cfg);
}

static void test_parse(void)
{
	struct temporal_profile p, q;
	json_t *o;
	char *text;
	static const char *const bad[] = {
	    "not json",
	    "[]",
	    "{\"graduated\": true}",
	    "{\"graduated\": 1, \"hourly\": [1,2,3,4,5,6,7,8,9,10,11,12,13,"
	    "14,15,16,17,18,19,20,21,22,23,24]}",
	    "{\"graduated\": true, \"hourly\": [1,2,3]}",
	    "{\"graduated\": true, \"hourly\": [1,2,3,4,5,6,7,8,9,10,11,12,13,"
	    "14,15,16,17,18,19,20,21,22,23,\"x\"]}",
	};

	CHECK(!flow_temporal_parse(NULL, &p) && !p.graduated,
	      "no stored profile: none");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&p, 0xff, sizeof(p));
		CHECK(!flow_temporal_parse(bad[i], &p) && !p.graduated &&
			  p.days == 0,
		      "refused and zeroed: %s", bad[i]);
	}

	memset(&p, 0, sizeof(p));
	p.graduated = true;
	p.days = 12;
	p.forwards_per_day = 33.5;
	for (unsigned h = 0; h < TEMPORAL_HOURS; h++)
		p.hourly[h] = h * 0.25;
	p.n_peak = 2;
	p.peak_hours[0] = 23;
	p.peak_hours[1] = 22;
	p.n_quiet = 1;
	p.quiet_hours[0] = 0;
	p.burstiness = 0.5;
	p.diurnal_strength = 0.75;
	o = flow_temporal_json(&p);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	CHECK(text && flow_temporal_parse(text, &q) &&
		  memcmp(&p, &q, sizeof(p)) == 0,
	      "a profile survives JSON and back");
	free(text);
}

/* Profiles are aggregated once per UTC day (and when a channel appears)
 * and kept in memory; the fee cycle reads its intensity from there. */
static void test_day_cache(void)
{
	struct revenue r = {0};
	struct pipeline pipe = {0};
	struct chan_info chans[2];
	struct node_view v = {.chans = chans, .nchans = 1,
			      .blockheight = 900000};
	struct flow_run run;
	char *err = NULL;

	config_init_defaults(&r.cfg);
	r.db = revenue_db_open(":memory:", &err);
	CHECK(r.db != NULL, "open :memory: (%s)", err ? err : "");
	if (!r.db) {
		free(err);
		config_free(&r.cfg);
		return;
	}
	r.pipe = &pipe;
	chan(&chans[0], A, 'a');
	chan(&chans[1], B, 'b');
	for (unsigned d = 5; d < 14; d++)
		for (unsigned k = 0; k < 10; k++)
			fwd(&r, A, B, "settled",
			    WSTART + d * DAY + 21 * HOUR + k * 60);
	CHECK(flow_time_intensity(&r, A, NOW) == -1,
	      "before a flow run: no intensity");
	CHECK(flow_compute(&r, &v, NOW, NULL, &run, &err),
	      "first run (%s)", err ? err : "");
	flow_run_free(&run);
	CHECK(flow_time_intensity(&r, A, NOW) == 1 &&
		  flow_time_intensity(&r, A, NOW - 12 * HOUR) == 0,
	      "the fee cycle's intensity: 1 at 21:30, 0 at 09:30");
	CHECK(flow_time_intensity(&r, B, NOW) == -1,
	      "a channel the run did not see: none");

	/* Yesterday gains forwards at 03:00 (late settlements, say): the
	 * same day's runs keep the profile of the day's first run. */
	for (unsigned k = 0; k < 50; k++)
		fwd(&r, A, B, "settled", WSTART + 13 * DAY + 3 * HOUR + k);
	CHECK(flow_compute(&r, &v, NOW + HOUR, NULL, &run, &err),
	      "second run the same day");
	CHECK(run.n == 1 && run.ch[0].temporal.hourly[3] == 0,
	      "the same UTC day: the kept profile (hour 3: %g)",
	      run.n ? run.ch[0].temporal.hourly[3] : -1);
	flow_run_free(&run);

	/* A new channel: aggregated again, for all. */
	v.nchans = 2;
	CHECK(flow_compute(&r, &v, NOW + HOUR, NULL, &run, &err),
	      "run with a new channel");
	CHECK(run.n == 2 && run.ch[0].temporal.hourly[3] > 0 &&
		  flow_time_intensity(&r, B, NOW) > 0,
	      "a new channel: every profile aggregated again (B at 21:30: "
	      "%g)",
	      flow_time_intensity(&r, B, NOW));
	flow_run_free(&run);

	/* The next day: aggregated again. */
	v.nchans = 1;
	for (unsigned k = 0; k < 10; k++)
		fwd(&r, A, B, "settled", NOW + 1000 + k);
	CHECK(flow_compute(&r, &v, NOW + DAY, NULL, &run, &err),
	      "next day's run");
	CHECK(run.n == 1 && run.ch[0].temporal.days == 10,
	      "the next UTC day: aggregated again (%u days)",
	      run.n ? run.ch[0].temporal.days : 0);
	flow_run_free(&run);

	flow_temporal_cache_free(pipe.temporal);
	store_close(r.db);
	config_free(&r.cfg);
}

int main(void)
{
	test_compute_and_store();
	test_parse();
	test_day_cache();
	return check_done();
}
