/* Lifecycle accounting and the daily snapshot cycle; see accounting.h.
 *
 * A lifecycle event becomes a job on a FIFO queue. A job gathers what it
 * needs from lightningd (the channel's listing, feerates, the tip, and
 * bookkeeper's events for the channel's account), then applies its
 * writes in one transaction. Jobs run one at a time so an open and the
 * close of the same channel can never interleave. */
#include "plugins/revenue-ops/cycle/accounting.h"
#include "common/amount.h"
#include "common/clock.h"
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct.h"
#include "plugins/revenue-ops/cycle/acct_apply.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SAT 1000LL
#define SNAPSHOT_RETENTION_DAYS 365

static uint64_t now_sec(const struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}


/* ---- lifecycle jobs ---- */

struct acct_job {
	struct acct_job *next;
	struct revenue *r;
	enum acct_event_kind kind;
	char channel_id[65], scid[24], peer_id[67];
	char old_state[40], new_state[40], cause[12];
	uint64_t at_sec;   /* when it happened (0: now) */
	bool from_listing; /* @ch given, not from a notification */
	bool have_chan;
	struct acct_chan ch;
	struct acct_fee_estimates est;
	bool have_bkpr;
	struct acct_bkpr bkpr;
	int pending;
	bool aborted;
	acct_job_done_fn done;
	void *arg;
};

static void job_start(struct acct_job *j);

static void run_next(struct accounting *a)
{
	struct acct_job *j;

	if (a->running || !a->head)
		return;
	j = a->head;
	a->head = j->next;
	if (!a->head)
		a->tail = NULL;
	j->next = NULL;
	a->running = j;
	job_start(j);
}

static void enqueue(struct revenue *r, struct acct_job *j)
{
	struct accounting *a = r->acct;

	/* A closure is reported at several states in a row: fold a later
	 * one into the one still waiting (keeping the first old_state,
	 * which tells the close type; the latest new_state). */
	if (j->kind == ACCT_EV_CLOSE && !j->done) {
		for (struct acct_job *w = a->head; w; w = w->next) {
			if (w->kind == ACCT_EV_CLOSE && !w->done &&
			    !strcmp(w->channel_id, j->channel_id)) {
				snprintf(w->new_state, sizeof(w->new_state),
					 "%s", j->new_state);
				free(j);
				return;
			}
		}
	}
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	run_next(a);
}

static void job_finish(struct acct_job *j, const char *err)
{
	struct revenue *r = j->r;
	struct accounting *a = r->acct;

	if (j->done)
		j->done(r, j->channel_id, err, j->arg);
	free(j);
	if (!a)
		return;
	a->running = NULL;
	run_next(a);
}

/* lightningd is going away (rpc_free fails pending calls with this). */
static bool shutting_down(const struct rpc_reply *reply)
{
	return reply->error &&
	       !strcmp(reply->error_message, "plugin shutting down");
}

static void job_apply(struct acct_job *j);
static void job_sync(struct acct_job *j);

static bool needs_bkpr(struct acct_job *j)
{
	struct acct_open_row row;
	char *err = NULL;

	if (!j->channel_id[0])
		return false;
	if (j->kind == ACCT_EV_SPLICE || j->kind == ACCT_EV_CLOSE)
		return true;
	if (j->have_chan && j->ch.opener == PNL_OPENER_REMOTE)
		return false;
	/* Recorded already: nothing to ask. */
	if (!acct_db_open_find(j->r->db, j->channel_id, NULL, &row, &err)) {
		free(err);
		return false;
	}
	return !row.found;
}

static void got_bkpr(struct rpc *rpc, const struct rpc_reply *reply, void *arg)
{
	struct acct_job *j = arg;
	struct accounting *a = j->r->acct;

	if (shutting_down(reply)) {
		j->aborted = true;
	} else if (reply->error) {
		/* Bookkeeper is optional: without it the documented
		 * estimates apply. Say so once, not per channel. */
		if (reply->error_code == ERR_METHOD_NOT_FOUND) {
			if (a && !a->bkpr_missing_logged) {
				a->bkpr_missing_logged = true;
				plugin_log(j->r->plugin, PLOG_INFO,
					   "bookkeeper is not running: "
					   "on-chain costs use the "
					   "documented estimates");
			}
		} else {
			char *e = rpc_reply_errtext(reply);
			plugin_log(j->r->plugin, PLOG_DEBUG,
				   "%s: no bookkeeper data (%s)", j->channel_id,
				   e);
			free(e);
		}
	} else {
		acct_bkpr_parse(reply->result, j->channel_id,
				j->have_chan ? j->ch.funding_txid : NULL,
				&j->bkpr);
		j->have_bkpr = j->bkpr.any_event;
	}
	job_sync(j);
	(void)rpc;
}

static void job_synced(struct revenue *r, bool ok, void *arg)
{
	job_apply(arg);
	(void)r;
	(void)ok;
}

/* A close freezes the channel's P&L: bring the forward store up to date
 * first, so its last forwards are in it (a failed sync only means the
 * next closing state's refresh catches them). */
static void job_sync(struct acct_job *j)
{
	if (j->kind == ACCT_EV_CLOSE && !j->aborted && j->r->acct) {
		forwards_sync(j->r, job_synced, j);
		return;
	}
	job_apply(j);
}

static void job_bkpr(struct acct_job *j)
{
	if (j->aborted || !j->r->acct || !needs_bkpr(j)) {
		job_sync(j);
		return;
	}
	/* The account is the 64-hex channel_id, never the scid (defect
	 * 30). */
	rpc_call(plugin_rpc(j->r->plugin), NULL, "bkpr-listaccountevents",
		 json_pack("{s:s}", "account", j->channel_id), got_bkpr, j);
}

static void got_closed(struct rpc *rpc, const struct rpc_reply *reply,
		       void *arg)
{
	struct acct_job *j = arg;

	if (shutting_down(reply))
		j->aborted = true;
	else if (!reply->error)
		j->have_chan = acct_find_chan(reply->result, true,
					      j->channel_id, j->scid, &j->ch);
	job_bkpr(j);
	(void)rpc;
}

static void gathered(struct acct_job *j)
{
	if (--j->pending)
		return;
	if (!j->have_chan && !j->aborted && j->r->acct) {
		/* Forgotten already: listclosedchannels has it. */
		rpc_call(plugin_rpc(j->r->plugin), NULL, "listclosedchannels",
			 j->peer_id[0] ? json_pack("{s:s}", "id", j->peer_id)
				       : NULL,
			 got_closed, j);
		return;
	}
	job_bkpr(j);
}

static void got_channels(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct acct_job *j = arg;

	if (shutting_down(reply))
		j->aborted = true;
	else if (!reply->error)
		j->have_chan = acct_find_chan(reply->result, false,
					      j->channel_id, j->scid, &j->ch);
	gathered(j);
	(void)rpc;
}

static void got_feerates(struct rpc *rpc, const struct rpc_reply *reply,
			 void *arg)
{
	struct acct_job *j = arg;

	if (shutting_down(reply))
		j->aborted = true;
	else if (!reply->error)
		acct_parse_fee_estimates(reply->result, &j->est);
	gathered(j);
	(void)rpc;
}

static void got_tip(struct rpc *rpc, const struct rpc_reply *reply, void *arg)
{
	struct acct_job *j = arg;
	uint32_t h;

	if (shutting_down(reply))
		j->aborted = true;
	else if (!reply->error &&
		 json_get_u32(reply->result, "blockheight", &h))
		acct_note_tip(j->r, h, now_sec(j->r));
	gathered(j);
	(void)rpc;
}

static void job_start(struct acct_job *j)
{
	struct rpc *rpc = plugin_rpc(j->r->plugin);

	j->pending = j->have_chan ? 2 : 3;
	if (!j->have_chan)
		rpc_call(rpc, NULL, "listpeerchannels",
			 j->peer_id[0] ? json_pack("{s:s}", "id", j->peer_id)
				       : NULL,
			 got_channels, j);
	rpc_call(rpc, NULL, "feerates", json_pack("{s:s}", "style", "perkb"),
		 got_feerates, j);
	rpc_call(rpc, NULL, "getinfo", NULL, got_tip, j);
}

static void job_apply(struct acct_job *j)
{
	struct revenue *r = j->r;
	struct acct_event ev;
	char *err = NULL;

	if (!r->acct || j->aborted) {
		job_finish(j, "plugin shutting down");
		return;
	}
	if (!j->channel_id[0] && j->have_chan)
		snprintf(j->channel_id, sizeof(j->channel_id), "%s",
			 j->ch.channel_id);
	if (!j->peer_id[0] && j->have_chan)
		snprintf(j->peer_id, sizeof(j->peer_id), "%s", j->ch.peer_id);
	ev = (struct acct_event){
	    .kind = j->kind,
	    .channel_id = j->channel_id,
	    .scid = j->scid,
	    .peer_id = j->peer_id,
	    .old_state = j->old_state,
	    .new_state = j->new_state,
	    .cause = j->cause,
	    .at_sec = j->at_sec,
	    .from_listing = j->from_listing,
	    .ch = j->have_chan ? &j->ch : NULL,
	    .bkpr = j->have_bkpr ? &j->bkpr : NULL,
	    .est = &j->est,
	};
	if (acct_apply_event(r, &ev, now_sec(r), &err)) {
		job_finish(j, NULL);
		return;
	}
	alog(r, PLOG_WARN, "accounting of channel %s: %s (nothing written)",
	     j->channel_id, err);
	job_finish(j, err);
	free(err);
}

/* ---- the notification ---- */

static void copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void accounting_on_channel_state(struct plugin *p, const json_t *payload)
{
	struct revenue *r = plugin_app(p);
	const char *old_state = json_str(payload, "old_state");
	const char *new_state = json_str(payload, "new_state");
	const char *cid = json_str(payload, "channel_id");
	const char *scid = json_str(payload, "short_channel_id");
	const char *peer = json_str(payload, "peer_id");
	enum acct_transition t;
	struct acct_job *j;

	if (!r->acct)
		return;
	t = acct_classify_transition(old_state, new_state);
	if (t == ACCT_T_NONE)
		return;
	if (!cid || strlen(cid) != 64 || (peer && !pubkey_hex_valid(peer))) {
		plugin_log(p, PLOG_WARN,
			   "channel_state_changed without a usable "
			   "channel_id/peer_id: ignored");
		return;
	}
	j = xzalloc(sizeof(*j));
	j->r = r;
	j->kind = t == ACCT_T_OPEN	     ? ACCT_EV_OPEN
		  : t == ACCT_T_SPLICE_START ? ACCT_EV_ADOPT
		  : t == ACCT_T_SPLICE	     ? ACCT_EV_SPLICE
					     : ACCT_EV_CLOSE;
	copy_field(j->channel_id, sizeof(j->channel_id), cid);
	if (scid && scid_valid(scid))
		copy_field(j->scid, sizeof(j->scid), scid);
	copy_field(j->peer_id, sizeof(j->peer_id), peer);
	copy_field(j->old_state, sizeof(j->old_state), old_state);
	copy_field(j->new_state, sizeof(j->new_state), new_state);
	copy_field(j->cause, sizeof(j->cause), json_str(payload, "cause"));
	if (!acct_parse_iso8601(json_str(payload, "timestamp"), &j->at_sec))
		j->at_sec = now_sec(r);
	enqueue(r, j);
}

void acct_queue_archive(struct revenue *r, const struct acct_chan *ch,
			acct_job_done_fn done, void *arg)
{
	struct acct_job *j;

	if (!r->acct) {
		if (done)
			done(r, ch->channel_id, "plugin shutting down", arg);
		return;
	}
	j = xzalloc(sizeof(*j));
	j->r = r;
	j->kind = ACCT_EV_CLOSE;
	j->from_listing = true;
	j->have_chan = true;
	j->ch = *ch;
	copy_field(j->channel_id, sizeof(j->channel_id), ch->channel_id);
	copy_field(j->scid, sizeof(j->scid), ch->scid);
	copy_field(j->peer_id, sizeof(j->peer_id), ch->peer_id);
	copy_field(j->new_state, sizeof(j->new_state), ch->state);
	j->done = done;
	j->arg = arg;
	enqueue(r, j);
}

static void queue_adopt(struct revenue *r, const struct acct_chan *ch,
			acct_job_done_fn done, void *arg)
{
	struct acct_job *j = xzalloc(sizeof(*j));

	j->r = r;
	j->kind = ACCT_EV_ADOPT;
	j->from_listing = true;
	j->have_chan = true;
	j->ch = *ch;
	copy_field(j->channel_id, sizeof(j->channel_id), ch->channel_id);
	copy_field(j->scid, sizeof(j->scid), ch->scid);
	copy_field(j->peer_id, sizeof(j->peer_id), ch->peer_id);
	j->done = done;
	j->arg = arg;
	enqueue(r, j);
}

/* ---- the daily cycle ---- */

struct snap_run {
	struct revenue *r;
	struct cycle *c;
	struct acct_live *v;
	size_t jobs;
};

/* One snapshot per UTC day: the next run is ten minutes after the coming
 * midnight (a fixed period with jitter would sometimes land twice in one
 * day and skip the next). */
static uint64_t snapshot_interval(const struct revenue *r)
{
	uint64_t now = clock_wall_sec(plugin_clock(r->plugin));
	return ACCT_DAY - now % ACCT_DAY + 600;
}

char *acct_snapshot_write(struct revenue *r, const struct acct_live *v)
{
	struct acct_snapshot snap = {0};
	struct acct_costs costs;
	struct acct_flow rev;
	uint64_t pruned = 0, keep_days;
	char *err = NULL;

	snap.timestamp = v->now;
	snap.day = v->now / ACCT_DAY * ACCT_DAY;
	snap.onchain_sat = v->onchain_sat;
	for (size_t i = 0; i < v->n; i++) {
		const struct chan_info *ci = &v->chans[i].ci;
		if (acct_state_is_closed(ci->state) ||
		    acct_state_is_opening(ci->state))
			continue;
		snap.local_msat += ci->to_us_msat;
		snap.remote_msat += ci->capacity_msat > ci->to_us_msat
					? ci->capacity_msat - ci->to_us_msat
					: 0;
		snap.capacity_sat += ci->capacity_msat / 1000;
		snap.channel_count++;
	}
	if (!acct_db_node_fwd(r->db, 0, &rev, &err) ||
	    !acct_lifetime_costs(r, v, &costs, &err))
		return err;
	snap.costs_msat = costs.total_msat;
	snap.rebalance_msat = costs.rebalance_msat;
	snap.revenue_msat = rev.fee_msat;
	if (!store_begin(r->db, &err))
		return err;
	if (!acct_db_snapshot_write(r->db, &snap, &err) ||
	    !acct_db_snapshot_prune(
		r->db, snap.day - SNAPSHOT_RETENTION_DAYS * ACCT_DAY, &err)) {
		store_rollback(r->db);
		return err;
	}
	if (!store_commit(r->db, &err))
		return err;
	/* Retention: raw forwards beyond the window live on as daily
	 * rollups (the flow analysis needs its window raw). */
	keep_days = (uint64_t)cfg_i(&r->cfg, CFG_FORWARD_RETENTION_DAYS);
	if ((uint64_t)cfg_i(&r->cfg, CFG_FLOW_WINDOW_DAYS) + 1 > keep_days)
		keep_days = (uint64_t)cfg_i(&r->cfg, CFG_FLOW_WINDOW_DAYS) + 1;
	if (v->now > keep_days * ACCT_DAY &&
	    !forwards_prune(r, v->now - keep_days * ACCT_DAY, &pruned, &err))
		return err;
	alog(r, PLOG_INFO,
	     "financial snapshot: %llu channels, local %llu sat, "
	     "on-chain %llu sat, revenue %lld msat, costs %lld msat; "
	     "%llu raw forwards rolled up",
	     (unsigned long long)snap.channel_count,
	     (unsigned long long)(snap.local_msat / 1000),
	     (unsigned long long)snap.onchain_sat, (long long)snap.revenue_msat,
	     (long long)snap.costs_msat, (unsigned long long)pruned);
	return NULL;
}

static void snap_finish(struct snap_run *s)
{
	char *err = NULL;

	if (s->r->acct && s->v)
		err = acct_snapshot_write(s->r, s->v);
	cycle_done(s->c, err);
	free(err);
	acct_live_free(s->v);
	free(s);
}

static void snap_job_done(struct revenue *r, const char *channel_id,
			  const char *err, void *arg)
{
	struct snap_run *s = arg;

	if (--s->jobs == 0)
		snap_finish(s);
	(void)r;
	(void)channel_id;
	(void)err;
}

static void snap_live(struct revenue *r, struct acct_live *v, const char *err,
		      void *arg)
{
	struct snap_run *s = arg;
	struct acct_chan *missed = NULL;
	size_t nmissed = 0, tracked = 0;
	char *e = NULL;

	if (!v || !r->acct) {
		cycle_done(s->c, err ? err : "plugin shutting down");
		acct_live_free(v);
		free(s);
		return;
	}
	s->v = v;
	/* One extra count so the jobs cannot finish the run while they
	 * are still being queued. */
	s->jobs = 1;
	for (size_t i = 0; i < v->n; i++) {
		struct acct_open_row row;
		const struct acct_chan *ac = &v->chans[i].ac;
		if (acct_state_is_closed(ac->state) ||
		    acct_state_is_opening(ac->state))
			continue;
		if (!acct_db_open_find(r->db, ac->channel_id, NULL, &row, &e)) {
			plugin_log(r->plugin, PLOG_WARN, "snapshot: %s", e);
			free(e);
			e = NULL;
			continue;
		}
		if (!row.found) {
			s->jobs++;
			queue_adopt(r, ac, snap_job_done, s);
		}
	}
	if (!acct_unarchived_closures(r, v, &missed, &nmissed, &tracked, &e)) {
		plugin_log(r->plugin, PLOG_WARN, "snapshot: %s", e);
		free(e);
	}
	for (size_t i = 0; i < nmissed; i++) {
		s->jobs++;
		acct_queue_archive(r, &missed[i], snap_job_done, s);
	}
	free(missed);
	snap_job_done(r, NULL, NULL, s);
}

static void snap_synced(struct revenue *r, bool ok, void *arg)
{
	struct snap_run *s = arg;

	if (!r->acct) {
		cycle_done(s->c, "plugin shutting down");
		free(s);
		return;
	}
	acct_live_fetch(r, NULL, ACCT_LIVE_FUNDS | ACCT_LIVE_CLOSED, snap_live,
			s);
	(void)ok;
}

static void snapshot_run(struct revenue *r, struct cycle *c)
{
	struct snap_run *s = xzalloc(sizeof(*s));

	s->r = r;
	s->c = c;
	/* Revenue accumulated must include the latest forwards. */
	forwards_sync(r, snap_synced, s);
}

static const struct cycle_def snapshot_cycle = {
    .name = "financial-snapshot",
    .run = snapshot_run,
    .start_delay_sec = 300,
    .interval_sec = snapshot_interval,
};

/* ---- start and stop ---- */

void accounting_start(struct revenue *r)
{
	struct accounting *a = xzalloc(sizeof(*a));

	a->r = r;
	r->acct = a;
	a->cycle = cycle_start(r, &snapshot_cycle);
}

void accounting_snapshot_now(struct revenue *r)
{
	if (r->acct && r->acct->cycle)
		cycle_wake(r->acct->cycle);
}

void accounting_stop(struct revenue *r)
{
	struct accounting *a = r->acct;

	if (!a)
		return;
	cycle_stop(a->cycle);
	r->acct = NULL;
	/* Waiting jobs never started: tell their owners and drop them. A
	 * running one sees r->acct gone and writes nothing. */
	while (a->head) {
		struct acct_job *j = a->head;
		a->head = j->next;
		if (j->done)
			j->done(r, j->channel_id, "plugin shutting down",
				j->arg);
		free(j);
	}
	free(a);
}

struct cycle *accounting_cycle(const struct revenue *r)
{
	return r->acct ? r->acct->cycle : NULL;
}
