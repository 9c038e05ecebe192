/* The accounting's P&L, read from the stores; see acct_pnl.h. */
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "common/amount.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SAT 1000LL

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

/* ---- costs ---- */

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

/* ---- per-channel P&L ---- */

void acct_chan_pnls_free(struct acct_chan_pnl *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acct_obs_extra_free(&v[i].x);
	free(v);
}

bool acct_chan_pnl_compute(struct revenue *r, const struct acct_live_chan *c,
			   uint64_t now, const struct fwd_stats *fs,
			   struct acct_chan_pnl *p, char **err)
{
	struct pnl_params params;
	struct acct_key k;
	const char *e;

	acct_pnl_params(&params);
	acct_live_key(c, &k);
	p->c = c;
	if (!acct_obs_build(r, &k, now, fs, &p->o, &p->x, err))
		return false;
	e = pnl_channel(&params, &p->o, now, &p->res);
	if (e) {
		*err = xfmt("%s: %s", c->ci.scid, e);
		acct_obs_extra_free(&p->x);
		return false;
	}
	return true;
}

bool acct_chan_pnls(struct revenue *r, const struct acct_live *v,
		    const char *peer, struct acct_chan_pnl **out, size_t *n,
		    char **err)
{
	struct acct_chan_pnl *arr;
	struct fwd_stats *fs = NULL;

	/* Every channel: their forwards in one pass. */
	if (!peer && !acct_fwd_stats(r, v->now, &fs, err))
		return false;
	arr = xzalloc(sizeof(*arr) * (v->n + 1));
	*n = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (!v->chans[i].ci.active)
			continue;
		if (peer && strcasecmp(peer, v->chans[i].ci.peer_id))
			continue;
		if (!acct_chan_pnl_compute(r, &v->chans[i], v->now, fs,
					   &arr[*n], err)) {
			acct_chan_pnls_free(arr, *n);
			forwards_stats_free(fs);
			return false;
		}
		(*n)++;
	}
	forwards_stats_free(fs);
	*out = arr;
	return true;
}

/* ---- a period ---- */

bool acct_period_compute(struct revenue *r, const struct acct_live *v,
			 uint64_t since, uint32_t days, struct acct_period *out,
			 char **err)
{
	uint64_t local_msat = 0;
	const char *e;

	memset(out, 0, sizeof(*out));
	out->since = since;
	if (!acct_db_node_fwd(r->db, since, &out->rev, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_REBALANCE, since,
			 &out->po.rebalance_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_CLOSURE, since,
			 &out->po.closure_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_SPLICE, since,
			 &out->po.splice_cost_msat, err) ||
	    !acct_db_sum(r->db, ACCT_SUM_OPEN, since, &out->open_msat, err))
		return false;
	/* Total liquid value: what we hold in channels that are not
	 * closing, plus confirmed on-chain funds. */
	for (size_t i = 0; i < v->n; i++)
		if (!acct_state_is_closed(v->chans[i].ci.state))
			local_msat += v->chans[i].ci.to_us_msat;
	out->tlv_msat = local_msat + v->onchain_sat * 1000;
	out->po.gross_revenue_msat = out->rev.fee_msat;
	out->po.capital_sat = out->tlv_msat / 1000;
	out->po.window_days = days;
	e = pnl_period(&out->po, &out->pr);
	if (e) {
		*err = xstrdup(e);
		return false;
	}
	return true;
}

