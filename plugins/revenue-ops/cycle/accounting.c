/* Lifecycle accounting, the per-channel observation, rebalance costs and
 * the daily snapshot cycle; see accounting.h.
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
#include "plugins/revenue-ops/cycle/acct.h"
#include "plugins/revenue-ops/cycle/fee.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include "plugins/revenue-ops/cycle/schedule.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SAT 1000LL
#define BLOCK_SEC 600ULL
#define SNAPSHOT_RETENTION_DAYS 365

static uint64_t now_sec(const struct revenue *r)
{
	return clock_wall_sec(plugin_clock(r->plugin));
}

/* Log when running as a plugin (unit tests apply events without one). */
static void PRINTF_FMT(3, 4)
    alog(struct revenue *r, enum plugin_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!r->plugin)
		return;
	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	plugin_log(r->plugin, level, "%s", msg);
	free(msg);
}

/* ---- the tip ---- */

void acct_note_tip(struct revenue *r, uint32_t height, uint64_t now)
{
	if (!r->acct || !height)
		return;
	r->acct->tip_height = height;
	r->acct->tip_sec = now;
}

uint64_t acct_block_time(const struct revenue *r, uint32_t block)
{
	const struct accounting *a = r->acct;
	uint64_t back;

	if (!a || !a->tip_height || !block)
		return 0;
	if (block >= a->tip_height)
		return a->tip_sec;
	back = (uint64_t)(a->tip_height - block) * BLOCK_SEC;
	return back < a->tip_sec ? a->tip_sec - back : 0;
}

void acct_pnl_params(struct pnl_params *p)
{
	pnl_params_default(p);
}

/* ---- the observation ---- */

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void acct_obs_extra_free(struct acct_obs_extra *x)
{
	free(x->scids.v);
	x->scids.v = NULL;
	x->scids.n = 0;
}

/* The starts of the observation's windows (enum acct_win) at @now. */
static void acct_windows(uint64_t now, uint64_t since[ACCT_NWIN])
{
	since[ACCT_W_ALL] = 0;
	since[ACCT_W_30D] = now > 30 * ACCT_DAY ? now - 30 * ACCT_DAY : 0;
	since[ACCT_W_7D] = now > 7 * ACCT_DAY ? now - 7 * ACCT_DAY : 0;
}

bool acct_fwd_stats(struct revenue *r, uint64_t now, struct fwd_stats **out,
		    char **err)
{
	struct fwd_stats_spec spec = {.nwin = ACCT_NWIN, .now_sec = now};

	acct_windows(now, spec.since_sec);
	return forwards_stats_new(r, &spec, out, err);
}

/* Add the settled forwards of one of the channel's scids (@cs, whose
 * windows @w[] are acct_win's) into @acc. */
static void fwd_add(const struct fwd_chan_stats *cs, const int w[ACCT_NWIN],
		    struct acct_fwd *acc)
{
	const struct fwd_totals *all = &cs->win[w[ACCT_W_ALL]];
	const uint64_t last[] = {all->last_out_sec, all->last_in_sec,
				 cs->rolled_last_out_day,
				 cs->rolled_last_in_day};

	for (int i = 0; i < ACCT_NWIN; i++) {
		const struct fwd_totals *t = &cs->win[w[i]];
		acc->out[i].fee_msat += (int64_t)t->fee_msat;
		acc->out[i].vol_msat += (int64_t)t->out_msat;
		acc->out[i].count += t->out_count;
		acc->in[i].fee_msat += (int64_t)t->in_fee_msat;
		acc->in[i].vol_msat += (int64_t)t->in_msat;
		acc->in[i].count += t->in_count;
	}
	/* A rolled-up day dates its forwards at its start: the conservative
	 * (older) choice. */
	for (size_t i = 0; i < ARRAY_SIZE(last); i++)
		if (last[i] > acc->last_sec)
			acc->last_sec = last[i];
}

/* The forwards of every scid the channel has had, from @fs when it has
 * the windows @since[], else read for each scid. */
static bool fwd_collect(struct revenue *r, const struct fwd_stats *fs,
			const struct acct_scids *scids,
			const uint64_t since[ACCT_NWIN], struct acct_fwd *acc,
			char **err)
{
	int w[ACCT_NWIN];
	bool have = fs != NULL;

	for (int i = 0; i < ACCT_NWIN && have; i++)
		have = (w[i] = forwards_stats_window(fs, since[i])) >= 0;
	if (have) {
		for (size_t i = 0; i < scids->n; i++)
			fwd_add(forwards_stats_chan(fs, scids->v[i]), w, acc);
		return true;
	}
	for (int k = 0; k < ACCT_NWIN; k++)
		w[k] = k;
	for (size_t i = 0; i < scids->n; i++) {
		struct fwd_stats_spec spec = {.nwin = ACCT_NWIN,
					      .only_scid = scids->v[i]};
		struct fwd_stats *one;
		memcpy(spec.since_sec, since, sizeof(*since) * ACCT_NWIN);
		if (!forwards_stats_new(r, &spec, &one, err))
			return false;
		fwd_add(forwards_stats_chan(one, scids->v[i]), w, acc);
		forwards_stats_free(one);
	}
	return true;
}

bool acct_obs_build(struct revenue *r, const struct acct_key *k, uint64_t now,
		    const struct fwd_stats *fs, struct pnl_channel_obs *o,
		    struct acct_obs_extra *x, char **err)
{
	uint64_t since[ACCT_NWIN];
	const char *cid;
	enum pnl_opener opener;

	memset(o, 0, sizeof(*o));
	memset(x, 0, sizeof(*x));
	acct_windows(now, since);
	if (!acct_db_open_find(r->db, k->channel_id, k->scid, &x->open, err))
		return false;
	x->open_recorded = x->open.found;
	if (!x->open.found) {
		/* Never saw it open (it predates us, or the daily cycle has
		 * not recorded it yet): the configured estimate, as the
		 * reference does, and the opening time from lightningd. */
		const char *src;
		snprintf(x->open.channel_id, sizeof(x->open.channel_id), "%s",
			 k->channel_id ? k->channel_id : "");
		snprintf(x->open.scid, sizeof(x->open.scid), "%s",
			 k->scid ? k->scid : "");
		snprintf(x->open.peer_id, sizeof(x->open.peer_id), "%s",
			 k->peer_id ? k->peer_id : "");
		x->open.opener = k->opener;
		x->open.capacity_sat = k->capacity_sat;
		x->open.open_cost_msat = acct_open_cost_msat(
		    k->opener, NULL, NULL, false,
		    cfg_i(&r->cfg, CFG_ESTIMATED_OPEN_COST_SATS), &src);
		snprintf(x->open.source, sizeof(x->open.source), "%s", src);
		x->open.opened_at = k->opened_hint_sec;
		if (!x->open.opened_at)
			x->open.opened_at =
			    acct_block_time(r, k->funding_height);
		if (!x->open.opened_at)
			x->open.opened_at = now;
	}
	cid = x->open.channel_id[0] ? x->open.channel_id : k->channel_id;
	if (!acct_db_scids(r->db, cid, k->scid, &x->scids, err))
		return false;
	if (!fwd_collect(r, fs, &x->scids, since, &x->fwd, err))
		goto fail;
	for (size_t i = 0; i < x->scids.n; i++)
		if (!acct_db_rebalance_add(r->db, x->scids.v[i], since,
					   x->rebalance_msat, err))
			goto fail;
	if (!acct_db_splice_cost(r->db, cid, &x->splice_msat, err))
		goto fail;

	opener =
	    x->open.opener != PNL_OPENER_UNKNOWN ? x->open.opener : k->opener;
	o->opener = opener;
	o->open_cost_msat = x->open.open_cost_msat;
	o->splice_cost_msat = x->splice_msat;
	o->rebalance_cost_msat = x->rebalance_msat[ACCT_W_ALL];
	o->rebalance_cost_30d_msat = x->rebalance_msat[ACCT_W_30D];
	o->rebalance_cost_7d_msat = x->rebalance_msat[ACCT_W_7D];
	o->fees_earned_msat = x->fwd.out[ACCT_W_ALL].fee_msat;
	o->sourced_fee_msat = x->fwd.in[ACCT_W_ALL].fee_msat;
	o->volume_routed_msat = x->fwd.out[ACCT_W_ALL].vol_msat;
	o->sourced_volume_msat = x->fwd.in[ACCT_W_ALL].vol_msat;
	o->forward_count = sat32(x->fwd.out[ACCT_W_ALL].count);
	o->sourced_forward_count = sat32(x->fwd.in[ACCT_W_ALL].count);
	/* Forwards are never deleted (only rolled up), so the window is
	 * always complete. */
	o->window_30d_available = true;
	o->fees_earned_30d_msat = x->fwd.out[ACCT_W_30D].fee_msat;
	o->sourced_fee_30d_msat = x->fwd.in[ACCT_W_30D].fee_msat;
	o->forward_count_30d = sat32(x->fwd.out[ACCT_W_30D].count);
	o->contribution_7d_msat = max64(x->fwd.out[ACCT_W_7D].fee_msat,
					x->fwd.in[ACCT_W_7D].fee_msat);
	o->opened_sec = x->open.opened_at;
	o->last_routed_sec = x->fwd.last_sec;
	o->capacity_sat =
	    k->capacity_sat ? k->capacity_sat : x->open.capacity_sat;
	/* Only the fee controller knows these: "unknown". */
	o->probe_attempts = 0;
	o->probe_success_sec = 0;
	o->fee_posterior_var = -1;
	o->rebalance_success_samples = 0;
	o->rebalance_success_rate = 0;
	o->prev_bleeder = PNL_BLEEDER_NONE;
	return true;
fail:
	acct_obs_extra_free(x);
	return false;
}

bool accounting_channel_obs(struct revenue *r, const struct chan_info *ci,
			    uint64_t now_sec_, const struct fwd_stats *fs,
			    struct pnl_channel_obs *out, char **err)
{
	struct acct_key k = {
	    .channel_id = ci->channel_id,
	    .scid = ci->scid,
	    .peer_id = ci->peer_id,
	    .opener = ci->we_opened ? PNL_OPENER_LOCAL : PNL_OPENER_REMOTE,
	    .capacity_sat = ci->capacity_msat / 1000,
	    .funding_height = ci->funding_height,
	};
	struct acct_obs_extra x;

	if (!acct_obs_build(r, &k, now_sec_, fs, out, &x, err))
		return false;
	acct_obs_extra_free(&x);
	return true;
}

/* ---- rebalances ---- */

bool accounting_record_rebalance(struct revenue *r, const char *dest_scid,
				 const char *src_scid, uint64_t amount_msat,
				 uint64_t fee_msat, uint64_t now_sec_,
				 char **err)
{
	struct acct_open_row row;
	bool own;

	if (!dest_scid || !scid_valid(dest_scid)) {
		*err = xfmt("rebalance: invalid destination scid '%s'",
			    dest_scid ? dest_scid : "(null)");
		return false;
	}
	if (src_scid && !scid_valid(src_scid)) {
		*err = xfmt("rebalance: invalid source scid '%s'", src_scid);
		return false;
	}
	if (amount_msat > AMOUNT_MSAT_MAX || fee_msat > AMOUNT_MSAT_MAX) {
		*err = xstrdup("rebalance: amount out of range");
		return false;
	}
	if (!acct_db_open_find(r->db, NULL, dest_scid, &row, err))
		return false;
	own = !store_in_transaction(r->db);
	if (own && !store_begin(r->db, err))
		return false;
	if (!acct_db_rebalance_insert(r->db, dest_scid, src_scid,
				      row.found ? row.peer_id : NULL,
				      amount_msat, fee_msat, now_sec_, err)) {
		if (own)
			store_rollback(r->db);
		return false;
	}
	return !own || store_commit(r->db, err);
}

bool accounting_rebalance_spent(struct revenue *r, uint64_t since_sec,
				uint64_t *fee_msat, char **err)
{
	int64_t v;

	if (!acct_db_sum(r->db, ACCT_SUM_REBALANCE, since_sec, &v, err))
		return false;
	*fee_msat = v < 0 ? 0 : (uint64_t)v;
	return true;
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

/* ---- applying an event (one transaction) ---- */

static const char *ev_scid(const struct acct_event *ev)
{
	return ev->ch && ev->ch->scid[0] ? ev->ch->scid
					 : (ev->scid ? ev->scid : "");
}

static const char *str_or(const char *s, const char *def)
{
	return s && s[0] ? s : def;
}

static uint32_t scid_block(const char *scid)
{
	uint32_t b = 0;
	if (scid && scid[0] && !scid_parse(scid, &b, NULL, NULL))
		b = 0;
	return b;
}

/* Make sure the channel has its open record; *row is it afterwards. */
static bool ensure_open(struct revenue *r, const struct acct_event *ev,
			bool open_is_now, uint64_t now,
			struct acct_open_row *row, char **err)
{
	const struct acct_chan *ch = ev->ch;
	const char *scid = ev_scid(ev);
	const char *src;
	bool inserted;

	if (!acct_db_open_find(r->db, ev->channel_id, NULL, row, err))
		return false;
	if (row->found) {
		/* Known, maybe before it had a scid: link the one we see. */
		if (!scid[0])
			return true;
		if (!row->scid[0]) {
			snprintf(row->scid, sizeof(row->scid), "%s", scid);
			return acct_db_open_resplice(r->db, row->channel_id,
						     scid, 0, now, err);
		}
		return acct_db_scid_link(r->db, scid, row->channel_id, now,
					 err);
	}
	memset(row, 0, sizeof(*row));
	snprintf(row->channel_id, sizeof(row->channel_id), "%s",
		 ev->channel_id);
	snprintf(row->scid, sizeof(row->scid), "%s", scid);
	snprintf(row->peer_id, sizeof(row->peer_id), "%s",
		 ch ? ch->peer_id : str_or(ev->peer_id, ""));
	row->opener = ch ? ch->opener : PNL_OPENER_UNKNOWN;
	row->capacity_sat = ch ? ch->capacity_msat / 1000 : 0;
	snprintf(row->funding_txid, sizeof(row->funding_txid), "%s",
		 ch && ch->funding_txid[0]
		     ? ch->funding_txid
		     : (ev->bkpr ? ev->bkpr->funding_txid : ""));
	row->open_cost_msat = acct_open_cost_msat(
	    row->opener, ev->bkpr, ev->est, open_is_now,
	    cfg_i(&r->cfg, CFG_ESTIMATED_OPEN_COST_SATS), &src);
	snprintf(row->source, sizeof(row->source), "%s", src);
	if (open_is_now)
		row->opened_at = ev->at_sec ? ev->at_sec : now;
	else
		row->opened_at = ch && ch->opened_sec
				     ? ch->opened_sec
				     : acct_block_time(r, scid_block(scid));
	if (!row->opened_at)
		row->opened_at = now;
	if (!acct_db_open_insert(r->db, row, now, &inserted, err))
		return false;
	row->found = true;
	alog(r, PLOG_INFO, "channel %s (%s opener) open cost %lld msat (%s)",
	     row->scid[0] ? row->scid : row->channel_id,
	     acct_opener_name(row->opener), (long long)row->open_cost_msat,
	     row->source);
	return true;
}

static bool apply_splice(struct revenue *r, const struct acct_event *ev,
			 uint64_t now, char **err)
{
	struct acct_open_row row;
	struct acct_splice_row s;
	const char *scid = ev_scid(ev);
	uint64_t cap = ev->ch ? ev->ch->capacity_msat / 1000 : 0;

	if (!ensure_open(r, ev, false, now, &row, err))
		return false;
	memset(&s, 0, sizeof(s));
	snprintf(s.channel_id, sizeof(s.channel_id), "%s", ev->channel_id);
	snprintf(s.old_scid, sizeof(s.old_scid), "%s", row.scid);
	snprintf(s.new_scid, sizeof(s.new_scid), "%s", scid);
	s.at = ev->at_sec ? ev->at_sec : now;
	/* The latest splice bookkeeper knows with a fee of ours. */
	for (size_t i = ev->bkpr ? ev->bkpr->nsplices : 0; i-- > 0;) {
		if (!ev->bkpr->splices[i].fee_found)
			continue;
		snprintf(s.txid, sizeof(s.txid), "%s",
			 ev->bkpr->splices[i].txid);
		s.fee_msat = ev->bkpr->splices[i].fee_msat;
		s.amount_sat = ev->bkpr->splices[i].amount_msat / 1000;
		s.source = "bookkeeper";
		break;
	}
	if (!s.source) {
		s.fee_msat = ACCT_SPLICE_COST_DEFAULT_SAT * SAT;
		s.amount_sat = cap && row.capacity_sat
				   ? (int64_t)cap - (int64_t)row.capacity_sat
				   : 0;
		s.source = "default_estimate";
	}
	s.type = s.amount_sat >= 0 ? "splice_in" : "splice_out";
	if (!acct_db_splice_insert(r->db, &s, err))
		return false;
	if (scid[0] &&
	    !acct_db_open_resplice(r->db, ev->channel_id, scid, cap, now, err))
		return false;
	/* A splice is not a new channel: the fee controller keeps what it
	 * learned under the new scid. */
	if (scid[0] && row.scid[0] && strcmp(scid, row.scid) &&
	    !fee_state_rekey(r, row.scid, scid, err))
		return false;
	alog(r, PLOG_INFO,
	     "channel %s spliced (%s -> %s, %s %lld sat): cost %lld msat (%s)",
	     ev->channel_id, str_or(s.old_scid, "?"), str_or(s.new_scid, "?"),
	     s.type, (long long)s.amount_sat, (long long)s.fee_msat, s.source);
	return true;
}

/* How much a closure cost source is worth trusting: a better source
 * replaces what was recorded, a worse one never does. */
static int source_rank(const char *s)
{
	static const char *const order[] = {
	    "default_estimate", "feerate_estimate", "listclosedchannels",
	    "peer_paid",	"bookkeeper",	    NULL};
	for (int i = 0; order[i]; i++)
		if (s && !strcmp(s, order[i]))
			return i + 1;
	return 0;
}

static const char *closer_from_cause(const char *cause)
{
	if (cause && (!strcmp(cause, "user") || !strcmp(cause, "local")))
		return "local";
	if (cause && !strcmp(cause, "remote"))
		return "remote";
	return "unknown";
}

static const char *close_type_of(const struct acct_event *ev,
				 const struct acct_closure_row *old)
{
	const char *type;

	if (old->found && strcmp(old->close_type, "unknown"))
		return old->close_type;
	if (ev->from_listing)
		return ev->ch ? acct_close_type_chan(ev->ch) : "unknown";
	type = acct_close_type(ev->cause, ev->old_state);
	if (!strcmp(type, "unknown") && ev->ch)
		type = acct_close_type_chan(ev->ch);
	return type;
}

static bool apply_close(struct revenue *r, const struct acct_event *ev,
			uint64_t now, char **err)
{
	const struct acct_chan *ch = ev->ch;
	struct acct_closure_row old, row;
	struct acct_open_row open;
	struct acct_close_cost cc;
	struct acct_closed_row arc;
	struct pnl_channel_obs o;
	struct pnl_closed_result res;
	struct acct_obs_extra x;
	struct acct_key k;
	const char *scid = ev_scid(ev);
	const char *type, *perr;
	int64_t cost = 0, net;
	enum pnl_opener opener;

	if (!acct_db_closure_find(r->db, ev->channel_id, &old, err) ||
	    !ensure_open(r, ev, false, now, &open, err))
		return false;
	opener = open.opener != PNL_OPENER_UNKNOWN
		     ? open.opener
		     : (ch ? ch->opener : PNL_OPENER_UNKNOWN);
	type = close_type_of(ev, &old);

	row = old;
	row.found = true;
	snprintf(row.channel_id, sizeof(row.channel_id), "%s", ev->channel_id);
	if (scid[0])
		snprintf(row.scid, sizeof(row.scid), "%s", scid);
	snprintf(row.peer_id, sizeof(row.peer_id), "%s", open.peer_id);
	snprintf(row.close_type, sizeof(row.close_type), "%s", type);
	if (ch && ch->closer[0])
		snprintf(row.closer, sizeof(row.closer), "%s", ch->closer);
	else if (!row.closer[0] || !strcmp(row.closer, "unknown"))
		snprintf(row.closer, sizeof(row.closer), "%s",
			 closer_from_cause(ev->cause));
	if (!row.funding_txid[0])
		snprintf(row.funding_txid, sizeof(row.funding_txid), "%s",
			 open.funding_txid[0]
			     ? open.funding_txid
			     : (ev->bkpr ? ev->bkpr->funding_txid : ""));
	if (ev->bkpr && ev->bkpr->closing_txid[0])
		snprintf(row.closing_txid, sizeof(row.closing_txid), "%s",
			 ev->bkpr->closing_txid);
	if (!row.closed_at)
		row.closed_at =
		    ev->from_listing
			? (ch && ch->closed_sec ? ch->closed_sec : now)
			: (ev->at_sec ? ev->at_sec : now);
	row.resolution_complete =
	    old.resolution_complete ||
	    (ev->new_state && !strcmp(ev->new_state, "CLOSED")) ||
	    (ch && ch->from_closed_list);

	acct_close_cost(opener, type, ev->bkpr, ch, ev->est, &cc);
	/* Bookkeeper refreshes (sweeps settle after the close); a fallback
	 * only replaces a worse one. */
	if (!old.found || !strcmp(cc.source, "bookkeeper") ||
	    source_rank(cc.source) > source_rank(old.source)) {
		row.closure_fee_msat = cc.closure_fee_msat;
		row.htlc_sweep_fee_msat = cc.htlc_sweep_fee_msat;
		row.penalty_fee_msat = cc.penalty_fee_msat;
		row.total_msat = cc.total_msat;
		snprintf(row.source, sizeof(row.source), "%s", cc.source);
		row.bkpr_account = !strcmp(cc.source, "bookkeeper");
	}
	if (!acct_db_closure_write(r->db, &row, now, err))
		return false;

	/* The final P&L, over every scid it had and every fee it earned
	 * (rolled-up days included: defect 31). */
	k = (struct acct_key){
	    .channel_id = ev->channel_id,
	    .scid = scid,
	    .peer_id = open.peer_id,
	    .opener = opener,
	    .capacity_sat = open.capacity_sat
				? open.capacity_sat
				: (ch ? ch->capacity_msat / 1000 : 0),
	};
	if (!acct_obs_build(r, &k, now, NULL, &o, &x, err))
		return false;
	o.closed = true;
	o.close_cost_msat = row.total_msat;
	perr = pnl_closed_channel(&o, row.closed_at, &res);
	if (!perr &&
	    (!amount_smsat_add(
		 &cost, cost,
		 o.opener == PNL_OPENER_REMOTE ? 0 : o.open_cost_msat) ||
	     !amount_smsat_add(&cost, cost, o.close_cost_msat) ||
	     !amount_smsat_add(&cost, cost, o.splice_cost_msat) ||
	     !amount_smsat_add(&cost, cost, o.rebalance_cost_msat) ||
	     !amount_smsat_sub(&net, o.fees_earned_msat, cost)))
		perr = "closed channel P&L overflows";
	if (perr) {
		*err = xfmt("%s: %s", ev->channel_id, perr);
		acct_obs_extra_free(&x);
		return false;
	}
	memset(&arc, 0, sizeof(arc));
	snprintf(arc.channel_id, sizeof(arc.channel_id), "%s", ev->channel_id);
	snprintf(arc.scid, sizeof(arc.scid), "%s", row.scid);
	snprintf(arc.peer_id, sizeof(arc.peer_id), "%s", open.peer_id);
	snprintf(arc.opener, sizeof(arc.opener), "%s",
		 acct_opener_name(o.opener));
	snprintf(arc.close_type, sizeof(arc.close_type), "%s", type);
	snprintf(arc.closer, sizeof(arc.closer), "%s", row.closer);
	snprintf(arc.funding_txid, sizeof(arc.funding_txid), "%s",
		 row.funding_txid);
	snprintf(arc.closing_txid, sizeof(arc.closing_txid), "%s",
		 row.closing_txid);
	arc.capacity_sat = o.capacity_sat;
	arc.opened_at = o.opened_sec;
	arc.closed_at = row.closed_at;
	arc.archived_at = now;
	arc.open_cost_msat =
	    o.opener == PNL_OPENER_REMOTE ? 0 : o.open_cost_msat;
	arc.closure_cost_msat = o.close_cost_msat;
	arc.splice_cost_msat = o.splice_cost_msat;
	arc.rebalance_cost_msat = o.rebalance_cost_msat;
	arc.revenue_msat = o.fees_earned_msat;
	arc.sourced_fee_msat = o.sourced_fee_msat;
	arc.volume_routed_msat = o.volume_routed_msat;
	arc.sourced_volume_msat = o.sourced_volume_msat;
	arc.forward_count = x.fwd.out[ACCT_W_ALL].count;
	arc.sourced_forward_count = x.fwd.in[ACCT_W_ALL].count;
	arc.net_pnl_msat = net;
	arc.days_open = res.days_open;
	acct_obs_extra_free(&x);
	if (!acct_db_closed_write(r->db, &arc, err))
		return false;
	/* The first archive is news; later closing states only refresh. */
	alog(r, old.found ? PLOG_DEBUG : PLOG_INFO,
	     "channel %s closed (%s, closer %s): revenue %lld msat, costs "
	     "%lld msat (closure %lld, %s), net %lld msat over %u days",
	     str_or(arc.scid, arc.channel_id), type, row.closer,
	     (long long)arc.revenue_msat, (long long)cost,
	     (long long)row.total_msat, row.source, (long long)arc.net_pnl_msat,
	     arc.days_open);
	return true;
}

bool acct_apply_event(struct revenue *r, const struct acct_event *ev,
		      uint64_t now, char **err)
{
	struct acct_open_row row;
	bool ok = false;

	if (!ev->channel_id || strlen(ev->channel_id) != 64) {
		*err = xstrdup("event without a channel_id");
		return false;
	}
	if (!store_begin(r->db, err))
		return false;
	switch (ev->kind) {
	case ACCT_EV_OPEN:
		ok = ensure_open(r, ev, true, now, &row, err);
		break;
	case ACCT_EV_ADOPT:
		ok = ensure_open(r, ev, false, now, &row, err);
		break;
	case ACCT_EV_SPLICE:
		ok = apply_splice(r, ev, now, err);
		break;
	case ACCT_EV_CLOSE:
		ok = apply_close(r, ev, now, err);
		break;
	}
	if (!ok) {
		store_rollback(r->db);
		return false;
	}
	return store_commit(r->db, err);
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

/* ---- the live view ---- */

struct live_fetch {
	struct revenue *r;
	unsigned need;
	struct acct_live *v;
	json_t *channels;
	int pending;
	char *err;
	void (*done)(struct revenue *r, struct acct_live *v, const char *err,
		     void *arg);
	void *arg;
};

void acct_live_free(struct acct_live *v)
{
	if (!v)
		return;
	free(v->chans);
	json_decref(v->closed);
	free(v);
}

static void live_step(struct live_fetch *f)
{
	struct acct_live *v = f->v;

	if (--f->pending)
		return;
	if (!f->err && f->channels) {
		struct chan_info *ci;
		size_t n, skipped;
		char *err = NULL;
		if (!node_parse_peerchannels(f->channels, &ci, &n, &skipped,
					       &err)) {
			f->err = xfmt("listpeerchannels: %s", err);
			free(err);
		} else {
			v->chans = xzalloc(sizeof(*v->chans) * (n + 1));
			for (size_t i = 0; i < n; i++) {
				struct acct_live_chan *c = &v->chans[v->n];
				c->ci = ci[i];
				if (!acct_find_chan(f->channels, false,
						    ci[i].channel_id,
						    ci[i].scid, &c->ac))
					continue;
				v->n++;
			}
			free(ci);
		}
	}
	json_decref(f->channels);
	if (f->err) {
		acct_live_free(v);
		f->done(f->r, NULL, f->err, f->arg);
	} else {
		acct_note_tip(f->r, v->tip, v->now);
		f->done(f->r, v, NULL, f->arg);
	}
	free(f->err);
	free(f);
}

static bool live_error(struct live_fetch *f, const struct rpc_reply *reply)
{
	if (!reply->error)
		return false;
	if (!f->err)
		f->err = rpc_reply_errtext(reply);
	return true;
}

static void live_channels(struct rpc *rpc, const struct rpc_reply *reply,
			  void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		f->channels = json_deep_copy(reply->result);
	live_step(f);
	(void)rpc;
}

static void live_info(struct rpc *rpc, const struct rpc_reply *reply, void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		json_get_u32(reply->result, "blockheight", &f->v->tip);
	live_step(f);
	(void)rpc;
}

static void live_funds(struct rpc *rpc, const struct rpc_reply *reply,
		       void *arg)
{
	struct live_fetch *f = arg;
	size_t i;
	json_t *o;

	if (!live_error(f, reply)) {
		json_array_foreach(json_object_get(reply->result, "outputs"), i,
				   o)
		{
			const char *status = json_str(o, "status");
			uint64_t msat;
			if (status && !strcmp(status, "confirmed") &&
			    !json_is_true(json_object_get(o, "reserved")) &&
			    json_get_msat(o, "amount_msat", &msat))
				f->v->onchain_sat += msat / 1000;
		}
	}
	live_step(f);
	(void)rpc;
}

static void live_closed(struct rpc *rpc, const struct rpc_reply *reply,
			void *arg)
{
	struct live_fetch *f = arg;

	if (!live_error(f, reply))
		f->v->closed = json_deep_copy(reply->result);
	live_step(f);
	(void)rpc;
}

void acct_live_fetch(struct revenue *r, const char *parent_id, unsigned need,
		     void (*done)(struct revenue *r, struct acct_live *v,
				  const char *err, void *arg),
		     void *arg)
{
	struct live_fetch *f = xzalloc(sizeof(*f));
	struct rpc *rpc = plugin_rpc(r->plugin);

	f->r = r;
	f->need = need;
	f->done = done;
	f->arg = arg;
	f->v = xzalloc(sizeof(*f->v));
	f->v->now = now_sec(r);
	f->pending =
	    2 + !!(need & ACCT_LIVE_FUNDS) + !!(need & ACCT_LIVE_CLOSED);
	rpc_call(rpc, parent_id, "listpeerchannels", NULL, live_channels, f);
	rpc_call(rpc, parent_id, "getinfo", NULL, live_info, f);
	if (need & ACCT_LIVE_FUNDS)
		rpc_call(rpc, parent_id, "listfunds", NULL, live_funds, f);
	if (need & ACCT_LIVE_CLOSED)
		rpc_call(rpc, parent_id, "listclosedchannels", NULL,
			 live_closed, f);
}

void acct_live_key(const struct acct_live_chan *c, struct acct_key *k)
{
	*k = (struct acct_key){
	    .channel_id = c->ci.channel_id,
	    .scid = c->ci.scid,
	    .peer_id = c->ci.peer_id,
	    .opener =
		c->ac.opener != PNL_OPENER_UNKNOWN
		    ? c->ac.opener
		    : (c->ci.we_opened ? PNL_OPENER_LOCAL : PNL_OPENER_REMOTE),
	    .capacity_sat = c->ci.capacity_msat / 1000,
	    .opened_hint_sec = c->ac.opened_sec,
	    .funding_height = c->ci.funding_height,
	};
}

/* ---- closures nobody told us about ---- */

static bool scid_in(const struct acct_scids *s, const char *scid)
{
	for (size_t i = 0; scid && scid[0] && i < s->n; i++)
		if (!strcmp(s->v[i], scid))
			return true;
	return false;
}

static void add_chan(struct acct_chan **out, size_t *n, size_t *cap,
		     const struct acct_chan *c)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*out)[i].channel_id, c->channel_id))
			return;
	xgrow(out, cap, *n + 1, sizeof(**out));
	(*out)[(*n)++] = *c;
}

bool acct_unarchived_closures(struct revenue *r, const struct acct_live *v,
			      struct acct_chan **out, size_t *n,
			      size_t *tracked, char **err)
{
	struct acct_scids t;
	size_t cap = 0, i;
	json_t *c;

	*out = NULL;
	*n = 0;
	if (!acct_db_tracked_scids(r->db, &t, err))
		return false;
	*tracked = t.n;
	/* Closed ones first: their listing is final. */
	json_array_foreach(json_object_get(v->closed, "closedchannels"), i, c)
	{
		struct acct_chan ch;
		if (acct_parse_chan(c, true, &ch) && scid_in(&t, ch.scid))
			add_chan(out, n, &cap, &ch);
	}
	for (i = 0; i < v->n; i++)
		if (acct_state_is_closed(v->chans[i].ac.state) &&
		    scid_in(&t, v->chans[i].ac.scid))
			add_chan(out, n, &cap, &v->chans[i].ac);
	free(t.v);
	/* Keep only those not archived yet. */
	for (i = 0; i < *n;) {
		struct acct_closed_row row;
		if (!acct_db_closed_find(r->db, (*out)[i].channel_id, NULL,
					 &row, err)) {
			free(*out);
			*out = NULL;
			*n = 0;
			return false;
		}
		if (row.found)
			(*out)[i] = (*out)[--(*n)];
		else
			i++;
	}
	return true;
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

bool acct_lifetime_costs(struct revenue *r, const struct acct_live *v,
			 struct acct_costs *c, char **err)
{
	memset(c, 0, sizeof(*c));
	if (!acct_db_sum(r->db, ACCT_SUM_OPEN, 0, &c->open_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_CLOSURE, 0, &c->closure_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_SPLICE, 0, &c->splice_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_REBALANCE, 0, &c->rebalance_msat, err))
		return false;
	for (size_t i = 0; v && i < v->n; i++) {
		struct acct_open_row row;
		struct acct_key k;
		if (!v->chans[i].ci.active)
			continue;
		acct_live_key(&v->chans[i], &k);
		if (!acct_db_open_find(r->db, k.channel_id, k.scid, &row, err))
			return false;
		/* As the channel's own P&L counts it (acct_obs_build). */
		if (!row.found && k.opener != PNL_OPENER_REMOTE)
			c->open_msat +=
			    cfg_i(&r->cfg, CFG_ESTIMATED_OPEN_COST_SATS) * SAT;
	}
	c->total_msat =
	    c->open_msat + c->closure_msat + c->splice_msat + c->rebalance_msat;
	return true;
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

bool accounting_rebalances_30d(struct revenue *r, const struct chan_info *ci,
			       uint64_t now_sec, int64_t *amount_msat,
			       uint32_t *count, char **err)
{
	sqlite3_stmt *st = store_stmt(
	    r->db,
	    "SELECT COALESCE(SUM(amount_msat), 0), COUNT(*) FROM "
	    "rebalance_costs WHERE dest_scid = ?1 AND timestamp >= ?2",
	    err);

	*amount_msat = 0;
	*count = 0;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, ci->scid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2,
			   (sqlite3_int64)(now_sec > 30 * 86400
					       ? now_sec - 30 * 86400
					       : 0));
	if (sqlite3_step(st) == SQLITE_ROW) {
		*amount_msat = sqlite3_column_int64(st, 0);
		*count = (uint32_t)sqlite3_column_int64(st, 1);
	}
	store_done(st);
	return true;
}
