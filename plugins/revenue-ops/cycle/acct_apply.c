/* Applying a lifecycle event to the accounting store; see acct_apply.h. */
#include "plugins/revenue-ops/cycle/acct_apply.h"
#include "common/amount.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include "plugins/revenue-ops/store/acct_archive.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/store/fee_state.h"
#include <stdio.h>
#include <string.h>

#define SAT 1000LL

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
