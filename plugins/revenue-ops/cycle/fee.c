/* The fee cycle: decide every channel, act, persist; see fee.h. */
#include "plugins/revenue-ops/cycle/fee.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/u64map.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/clboss.h"
#include "plugins/revenue-ops/cycle/fee_obs.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/cycle/gather.h"
#include "plugins/revenue-ops/cycle/neighbours.h"
#include "plugins/revenue-ops/cycle/params.h"
#include "plugins/revenue-ops/cycle/pipeline.h"
#include "plugins/revenue-ops/cycle/publish.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/anchor.h"
#include "plugins/revenue-ops/store/clboss.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/store/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY 86400ULL
/* setchannel calls in flight at once: enough to finish a big node's
 * cycle quickly without flooding lightningd. */
#define SETCHANNEL_PARALLEL 8

struct fee_item {
	const struct chan_info *ci;
	bool decided; /* fee_ctl_step ran without error */
	double *blob; /* state to persist, or NULL */
	size_t blob_len;
	enum fee_ctl_action action;
	enum fee_ctl_class cls;
	enum fee_ctl_step_id decided_by;
	const char *reason, *skip_reason, *outcome;
	int64_t old_fee, new_fee, old_base, new_base, floor, ceiling;
	bool send;	     /* setchannel wanted */
	bool clboss_blocked; /* could not unmanage: left alone */
	bool sent_ok;
	int64_t actual_fee; /* from setchannel's reply; -1 unknown */
	double time_intensity; /* the THOMPSON step's; NaN: not reached */
	char *error;
};

struct fee_job {
	struct fee_inputs in;
	struct cycle *c;
	struct fee_item *items;
	size_t n;
	size_t next_send, inflight;
	bool live;
	bool in_send, send_again, finished;
	const char *block; /* why nothing is sent, or NULL */
	char **unmanage;   /* distinct peers to unmanage */
	size_t nunmanage;
	bool *unmanaged_ok;
};

static void job_free(struct fee_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->items[i].blob);
		free(j->items[i].error);
	}
	free(j->items);
	for (size_t i = 0; i < j->nunmanage; i++)
		free(j->unmanage[i]);
	free(j->unmanage);
	free(j->unmanaged_ok);
	fee_inputs_release(&j->in);
	free(j);
}

/* ---- the cycle: act and persist ---- */

static void cycle_finish(struct fee_job *j, const char *error);

static const char *source_of(enum fee_ctl_class cls)
{
	return cls == FEE_CLASS_POLICY ? "policy" : "controller";
}

/* A dry-run (or unauthorised) proposal is recorded once, not every
 * cycle: while the live fee stays the same, a channel gets a new row only
 * for a different proposal made at least 6 hours after the last one (a
 * sampled fee differs a little every cycle; the live decision is always
 * in revenue-fee-debug). */
static bool already_proposed(struct fee_job *j, const struct fee_item *it,
			     char **err)
{
	struct fee_change_latest last;

	if (!fee_change_latest(j->in.r, it->ci->scid, &last, err))
		return false;
	return last.found && last.old_fee_ppm == it->old_fee &&
	       last.applied == 0 &&
	       (last.new_fee_ppm == it->new_fee ||
		last.timestamp + 6 * 3600 > j->in.now);
}

static bool persist_item(struct fee_job *j, struct fee_item *it, char **err)
{
	struct revenue *r = j->in.r;
	const struct chan_info *ci = it->ci;
	char *reason;
	bool ok = true;

	if (!it->decided)
		return true;
	if (!j->live) {
		if (it->action != FEE_CTL_SET)
			return true;
		if (already_proposed(j, it, err))
			return true;
		if (*err)
			return false;
		reason = xfmt("not applied (%s): %s", j->block,
			      fee_ctl_step_name(it->decided_by));
		ok = fee_change_record(
		    r, ci->scid, ci->peer_id, it->old_fee, it->new_fee,
		    it->old_base, it->new_base, reason,
		    it->reason ? it->reason : "", source_of(it->cls), false,
		    !strcmp(j->block, "dry_run"), false, j->in.now, err);
		free(it->blob);
		it->blob = NULL;
		free(reason);
		return ok;
	}
	if (it->action == FEE_CTL_SET && !it->sent_ok)
		return true; /* keep the old state: nothing changed */
	if (it->blob) {
		/* lightningd may have adjusted what we asked for: remember
		 * what is really on the channel, so the next cycle does not
		 * mistake it for someone else's change. */
		if (it->action == FEE_CTL_SET && it->actual_fee >= 0 &&
		    it->actual_fee != it->new_fee) {
			struct fee_ctl_state *st = xmalloc(sizeof(*st));
			if (!fee_ctl_state_deserialise(st, it->blob,
						       it->blob_len)) {
				st->last_set_fee_ppm = it->actual_fee;
				free(it->blob);
				it->blob =
				    fee_state_serialise(st, &it->blob_len);
			}
			free(st);
			it->new_fee = it->actual_fee;
		}
		if (!fee_state_save_blob(r, ci->scid, ci->channel_id,
					 ci->peer_id, it->blob, it->blob_len,
					 j->in.now, err))
			return false;
	}
	if (it->action == FEE_CTL_SET) {
		reason = xfmt("%s: %s (floor %lld, ceiling %lld)",
			      fee_ctl_step_name(it->decided_by),
			      it->reason ? it->reason : "",
			      (long long)it->floor, (long long)it->ceiling);
		ok = fee_change_record(r, ci->scid, ci->peer_id, it->old_fee,
				       it->new_fee, it->old_base, it->new_base,
				       reason, it->reason ? it->reason : "",
				       source_of(it->cls), false, false, true,
				       j->in.now, err);
		free(reason);
	} else if (it->action == FEE_CTL_ADOPT_EXTERNAL) {
		ok = fee_change_record(
		    r, ci->scid, ci->peer_id, it->old_fee, it->new_fee,
		    it->old_base, it->new_base,
		    "fee changed outside the controller (operator or "
		    "CLBOSS): adopted and held, not fought",
		    "external_fee_adopted", "external", false, false, true,
		    j->in.now, err);
	}
	return ok;
}

static void persist_all(struct fee_job *j)
{
	struct revenue *r = j->in.r;
	uint64_t now = j->in.now;
	char *err = NULL;

	if (!store_begin(r->db, &err))
		goto fail;
	for (size_t i = 0; i < j->n; i++)
		if (!persist_item(j, &j->items[i], &err))
			goto rollback;
	for (size_t i = 0; i < j->nunmanage; i++)
		if (j->unmanaged_ok && j->unmanaged_ok[i] &&
		    !clboss_record(r, j->unmanage[i], CLBOSS_FEE_TAGS,
				   j->in.now, &err))
			goto rollback;
	if (j->in.have_sample &&
	    !mempool_sample_record(r, now, j->in.satvb,
				   now > 2 * DAY ? now - 2 * DAY : 0, &err))
		goto rollback;
	/* Anchors are read as of now; an expired one is deleted here, on
	 * the cycle's write, never by a read. */
	{
		uint64_t purged;
		if (!fee_anchor_purge(r->db, j->in.now, &purged, &err))
			goto rollback;
	}
	if (store_commit(r->db, &err)) {
		cycle_finish(j, NULL);
		return;
	}
rollback:
	store_rollback(r->db);
fail:
	/* Nothing of this cycle is stored: the next one decides again from
	 * the last good state (a fee that was set is then adopted). */
	{
		char *e = xfmt("storing the fee cycle: %s", err);
		free(err);
		cycle_finish(j, e);
		free(e);
	}
}

static void send_more(struct fee_job *j);

struct send_ctx {
	struct fee_job *j;
	size_t idx;
};

static void setchannel_reply(struct rpc *rpc, const struct rpc_reply *reply,
			     void *arg)
{
	struct send_ctx *s = arg;
	struct fee_job *j = s->j;
	struct fee_item *it = &j->items[s->idx];

	free(s);
	j->inflight--;
	if (reply->error) {
		it->error = rpc_reply_errtext(reply);
		it->outcome = "setchannel_failed";
		plugin_log(j->in.r->plugin, PLOG_WARN,
			   "fees: %s: %s: channel skipped, its state kept",
			   it->ci->scid, it->error);
	} else {
		const json_t *ch = json_array_get(
		    json_object_get(reply->result, "channels"), 0);
		int64_t v;
		it->sent_ok = true;
		it->outcome = "applied";
		it->actual_fee = -1;
		if (json_get_i64(ch, "fee_proportional_millionths", &v)) {
			it->actual_fee = v;
			if (v != it->new_fee)
				plugin_log(j->in.r->plugin, PLOG_WARN,
					   "fees: %s: asked for %lld ppm, "
					   "lightningd set %lld",
					   it->ci->scid, (long long)it->new_fee,
					   (long long)v);
		}
		plugin_log(j->in.r->plugin, PLOG_INFO,
			   "fees: %s %lld -> %lld ppm (%s: %s)", it->ci->scid,
			   (long long)it->old_fee,
			   (long long)(it->actual_fee >= 0 ? it->actual_fee
							   : it->new_fee),
			   fee_ctl_step_name(it->decided_by),
			   it->reason ? it->reason : "");
	}
	send_more(j);
	(void)rpc;
}

static void send_more(struct fee_job *j)
{
	struct rpc *rpc = plugin_rpc(j->in.r->plugin);

	/* A reply completed synchronously (lightningd gone, shutting down)
	 * calls back in here from inside rpc_call: let the outer loop carry
	 * on instead of recursing (and finishing the job under it). */
	if (j->in_send) {
		j->send_again = true;
		return;
	}
	j->in_send = true;
	do {
		j->send_again = false;
		while (j->inflight < SETCHANNEL_PARALLEL &&
		       j->next_send < j->n) {
			struct fee_item *it = &j->items[j->next_send];
			struct send_ctx *s;
			if (!it->send || it->clboss_blocked) {
				j->next_send++;
				continue;
			}
			s = xzalloc(sizeof(*s));
			s->j = j;
			s->idx = j->next_send++;
			j->inflight++;
			rpc_call(rpc, NULL, "setchannel",
				 json_pack("{s:s,s:I,s:I}", "id", it->ci->scid,
					   "feebase", (json_int_t)it->new_base,
					   "feeppm", (json_int_t)it->new_fee),
				 setchannel_reply, s);
		}
	} while (j->send_again);
	j->in_send = false;
	if (j->inflight == 0 && j->next_send >= j->n && !j->finished) {
		j->finished = true;
		persist_all(j);
	}
}

static void unmanaged(struct revenue *r, const bool *ok, void *arg)
{
	struct fee_job *j = arg;

	j->unmanaged_ok = xzalloc(sizeof(bool) * (j->nunmanage + 1));
	memcpy(j->unmanaged_ok, ok, sizeof(bool) * j->nunmanage);
	for (size_t i = 0; i < j->n; i++) {
		struct fee_item *it = &j->items[i];
		if (!it->send)
			continue;
		for (size_t k = 0; k < j->nunmanage; k++)
			if (!strcmp(j->unmanage[k], it->ci->peer_id) &&
			    !ok[k]) {
				it->clboss_blocked = true;
				it->outcome = "clboss_unmanage_failed";
			}
	}
	send_more(j);
	(void)r;
}

static void clboss_detected(struct revenue *r, bool present, void *arg)
{
	struct fee_job *j = arg;
	size_t cap = 0;

	if (!present) {
		send_more(j);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		bool dup = false;
		if (!j->items[i].send)
			continue;
		for (size_t k = 0; k < j->nunmanage && !dup; k++)
			dup = !strcmp(j->unmanage[k], j->items[i].ci->peer_id);
		if (dup)
			continue;
		xgrow(&j->unmanage, &cap, j->nunmanage + 1,
		      sizeof(*j->unmanage));
		j->unmanage[j->nunmanage++] = xstrdup(j->items[i].ci->peer_id);
	}
	clboss_unmanage_peers(r, NULL, j->unmanage, j->nunmanage, unmanaged, j);
}

static void record_last(struct fee_job *j, const struct fee_item *it)
{
	struct fee_last l = {0};

	l.time_sec = j->in.now;
	snprintf(l.scid, sizeof(l.scid), "%s", it->ci->scid);
	snprintf(l.peer_id, sizeof(l.peer_id), "%s", it->ci->peer_id);
	l.action = it->action;
	l.cls = it->cls;
	l.decided_by = it->decided_by;
	l.reason = it->reason;
	l.skip_reason = it->skip_reason;
	l.outcome = it->outcome;
	l.old_fee_ppm = it->old_fee;
	l.new_fee_ppm = it->new_fee;
	l.floor_ppm = it->floor;
	l.ceiling_ppm = it->ceiling;
	l.time_intensity = it->decided ? it->time_intensity : NAN;
	if (it->error)
		snprintf(l.error, sizeof(l.error), "%s", it->error);
	pipeline_set_fee_last(j->in.r, &l);
}

/* The cycle ends once what it publishes is written, so whoever waits for
 * it (revenue-cycle, the simulator's tick) reads the new values. */
static void cycle_published(struct revenue *r, void *arg)
{
	cycle_done(arg, NULL);
	pipeline_fee_finished(r);
}

static void cycle_finish(struct fee_job *j, const char *error)
{
	struct revenue *r = j->in.r;
	struct cycle *c = j->c;
	struct fee_cycle_summary *s = &r->pipe->summary;
	unsigned by_step[FEE_STEP_NUM] = {0};
	const char *by_reason[FEE_STEP_NUM] = {0};
	unsigned best = 0;

	memset(s, 0, sizeof(*s));
	s->time_sec = j->in.now;
	s->safety_block = j->block;
	s->action = "no_change";
	for (size_t i = 0; i < j->n; i++) {
		struct fee_item *it = &j->items[i];
		if (!it->decided) {
			s->errors++;
			record_last(j, it);
			continue;
		}
		s->evaluated++;
		by_step[it->decided_by]++;
		by_reason[it->decided_by] = it->reason;
		if (!j->live) {
			if (it->action == FEE_CTL_SET)
				s->would_change++;
		} else if (it->action == FEE_CTL_SET) {
			if (it->sent_ok)
				s->changed++;
			else
				s->failed++;
		} else if (it->action == FEE_CTL_ADOPT_EXTERNAL) {
			s->adopted++;
		} else if (it->skip_reason &&
			   !strcmp(it->skip_reason, "external_hold")) {
			s->held++;
		} else {
			s->unchanged++;
		}
		record_last(j, it);
	}
	if (s->changed || s->would_change)
		s->action = "set";
	else if (s->adopted)
		s->action = "adopt_external";
	for (size_t i = 0; i < FEE_STEP_NUM; i++)
		if (by_step[i] > best) {
			best = by_step[i];
			s->dominant_step = fee_ctl_step_name(i);
			s->dominant_reason = by_reason[i];
		}
	plugin_log(r->plugin, PLOG_DEBUG,
		   "fees: %u channels: %u changed, %u adopted, %u held, %u "
		   "unchanged, %u failed, %u not sent%s%s",
		   s->evaluated, s->changed, s->adopted, s->held, s->unchanged,
		   s->failed, s->would_change, j->block ? ": " : "",
		   j->block ? j->block : "");
	job_free(j);
	if (!error && r->db) {
		publish_after_fee_cycle(r, s->time_sec, cycle_published, c);
		return;
	}
	cycle_done(c, error);
	pipeline_fee_finished(r);
}

static void fee_gathered(struct revenue *r, struct node_view *v,
			 const char *gerr, void *arg)
{
	struct fee_job *j = arg;
	struct fee_ctl_state *st;
	struct fee_ctl_decision *d;
	char *err = NULL;

	if (gerr || !r->db) {
		char *e = xfmt("gather: %s", gerr ? gerr : "database closed");
		node_view_free(v);
		cycle_finish(j, e);
		free(e);
		return;
	}
	j->in.v = v;
	j->in.now = clock_wall_sec(plugin_clock(r->plugin));
	params_fee_ctl(&r->cfg, &j->in.p);
	j->block = fee_block_reason(r);
	j->live = j->block == NULL;
	if (!fee_inputs_load(&j->in, &err)) {
		cycle_finish(j, err);
		free(err);
		return;
	}
	j->items = xzalloc(sizeof(*j->items) * (v->nchans + 1));
	st = xmalloc(sizeof(*st));
	d = xmalloc(sizeof(*d));
	/* The per-channel reads of the decisions under one read transaction
	 * (the database's locks once per cycle, not per statement). */
	if (!store_batch_begin(r->db, &err)) {
		free(st);
		free(d);
		cycle_finish(j, err);
		free(err);
		return;
	}
	if (!fee_inputs_prepare(&j->in, NULL, &err)) {
		char *e2 = NULL;
		if (!store_batch_end(r->db, &e2))
			free(e2);
		free(st);
		free(d);
		cycle_finish(j, err);
		free(err);
		return;
	}
	for (size_t i = 0; i < v->nchans; i++) {
		const struct chan_info *ci = &v->chans[i];
		struct fee_item *it;
		const char *eng;

		if (!ci->active)
			continue;
		it = &j->items[j->n++];
		it->ci = ci;
		it->actual_fee = -1;
		it->old_fee = it->new_fee = ci->fee_ppm;
		it->old_base = it->new_base = (int64_t)ci->fee_base_msat;
		if (!fee_decide(&j->in, ci, st, d, &r->rng, NULL, &eng, &err)) {
			char *e2 = NULL;
			if (!store_batch_end(r->db, &e2))
				free(e2);
			free(st);
			free(d);
			j->n--;
			cycle_finish(j, err);
			free(err);
			return;
		}
		if (eng) {
			it->outcome = "error";
			it->error = xstrdup(eng);
			plugin_log(r->plugin, PLOG_WARN, "fees: %s skipped: %s",
				   ci->scid, eng);
			continue;
		}
		it->decided = true;
		it->action = d->action;
		it->cls = d->cls;
		it->decided_by = d->decided_by;
		it->reason = d->reason;
		it->skip_reason = d->skip_reason;
		it->floor = d->floor_ppm;
		it->ceiling = d->ceiling_ppm;
		it->new_fee = d->fee_ppm;
		it->new_base = d->base_fee_msat;
		it->time_intensity =
		    fee_ctl_step_num(d, FEE_STEP_THOMPSON, "time_intensity");
		if (!j->live) {
			it->outcome = j->block;
			if (d->action == FEE_CTL_SET)
				plugin_log(r->plugin, PLOG_INFO,
					   "fees: %s would go %lld -> %lld ppm "
					   "(%s: %s); not sent: %s",
					   ci->scid, (long long)it->old_fee,
					   (long long)it->new_fee,
					   fee_ctl_step_name(d->decided_by),
					   d->reason ? d->reason : "",
					   j->block);
			continue;
		}
		it->blob = fee_state_serialise(st, &it->blob_len);
		if (d->action == FEE_CTL_SET) {
			it->send = true;
			it->outcome = "pending";
		} else if (d->action == FEE_CTL_ADOPT_EXTERNAL) {
			it->outcome = "adopted";
			plugin_log(
			    r->plugin, PLOG_INFO,
			    "fees: %s: fee changed outside the "
			    "controller to %lld ppm (was %lld when we "
			    "last set it): adopted, holding instead "
			    "of fighting",
			    ci->scid, (long long)ci->fee_ppm,
			    (long long)fee_ctl_step_num(d, FEE_STEP_EXTERNAL,
							"last_set_fee_ppm"));
		} else {
			it->outcome = "no_change";
		}
	}
	free(st);
	free(d);
	if (!store_batch_end(r->db, &err)) {
		cycle_finish(j, err);
		free(err);
		return;
	}
	if (j->live && cfg_b(&r->cfg, CFG_CLBOSS_ENABLED)) {
		bool any = false;
		for (size_t i = 0; i < j->n && !any; i++)
			any = j->items[i].send;
		if (any) {
			clboss_detect(r, NULL, clboss_detected, j);
			return;
		}
	}
	send_more(j);
}

static void fee_synced(struct revenue *r, bool ok, void *arg)
{
	(void)r;
	struct fee_job *j = arg;

	(void)ok;
	fee_inputs_gather(&j->in, r, NULL, fee_gathered, j);
}

static void fee_cycle_run(struct revenue *r, struct cycle *c)
{
	struct fee_job *j = xzalloc(sizeof(*j));
	j->in.r = r;
	j->c = c;
	forwards_sync(r, fee_synced, j);
}

static uint64_t fee_interval(const struct revenue *r)
{
	int64_t v = cfg_i(&r->cfg, CFG_FEE_INTERVAL);
	return (uint64_t)(v < 60 ? 60 : v);
}

/* The reference's start delay (the flow cycle starts at 30 s): the first
 * fee cycle finds a fresh flow analysis. */
static const struct cycle_def fee_def = {
    .name = "fee-adjustment",
    .run = fee_cycle_run,
    .start_delay_sec = 90,
    .interval_sec = fee_interval,
    .jitter = 0.2,
};


void fee_cycle_start(struct revenue *r)
{
	r->pipe->fee = cycle_start(r, &fee_def);
}
