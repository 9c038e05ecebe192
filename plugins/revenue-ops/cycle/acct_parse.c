/* Accounting's pure helpers; see acct_parse.h. */
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include "common/json_util.h"
#include "common/util.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SAT 1000LL

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s && list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

bool acct_state_is_opening(const char *state)
{
	static const char *const opening[] = {"OPENINGD",
					      "CHANNELD_AWAITING_LOCKIN",
					      "DUALOPEND_OPEN_INIT",
					      "DUALOPEND_OPEN_COMMITTED",
					      "DUALOPEND_OPEN_COMMIT_READY",
					      "DUALOPEND_AWAITING_LOCKIN",
					      "unknown",
					      NULL};
	return in_list(state, opening);
}

bool acct_state_is_closed(const char *state)
{
	static const char *const closed[] = {"CLOSINGD_COMPLETE",
					     "AWAITING_UNILATERAL",
					     "FUNDING_SPEND_SEEN",
					     "ONCHAIN",
					     "CLOSED",
					     NULL};
	return in_list(state, closed);
}

enum acct_transition acct_classify_transition(const char *old_state,
					      const char *new_state)
{
	if (!new_state)
		return ACCT_T_NONE;
	if (acct_state_is_closed(new_state))
		return ACCT_T_CLOSE;
	if (streq(new_state, "CHANNELD_AWAITING_SPLICE"))
		return ACCT_T_SPLICE_START;
	if (streq(new_state, "CHANNELD_NORMAL")) {
		if (streq(old_state, "CHANNELD_AWAITING_SPLICE"))
			return ACCT_T_SPLICE;
		/* No old state: the channel's first state is already normal
		 * (a notification of an older lightningd, or a replay). */
		if (!old_state || acct_state_is_opening(old_state))
			return ACCT_T_OPEN;
	}
	return ACCT_T_NONE;
}

const char *acct_close_type(const char *cause, const char *old_state)
{
	if (cause && strstr(cause, "mutual"))
		return "mutual";
	if (streq(old_state, "CLOSINGD_SIGEXCHANGE"))
		return "mutual";
	if (streq(cause, "local") || streq(cause, "user"))
		return "local_unilateral";
	if (streq(cause, "remote") || streq(cause, "protocol") ||
	    streq(cause, "onchain"))
		return "remote_unilateral";
	if (old_state && strstr(old_state, "CLOSINGD"))
		return "mutual";
	return "unknown";
}

const char *acct_close_type_listing(const char *close_cause, const char *closer)
{
	if (close_cause && strstr(close_cause, "mutual"))
		return "mutual";
	if (streq(closer, "local"))
		return "local_unilateral";
	if (streq(closer, "remote"))
		return "remote_unilateral";
	return "unknown";
}

const char *acct_close_type_chan(const struct acct_chan *ch)
{
	const char *t;

	if (ch->close_old_state[0]) {
		t = acct_close_type(ch->close_change_cause,
				    ch->close_old_state);
		if (strcmp(t, "unknown"))
			return t;
	}
	return acct_close_type_listing(ch->close_cause, ch->closer);
}

bool acct_parse_iso8601(const char *s, uint64_t *sec)
{
	struct tm tm;
	int n = 0;
	time_t t;

	if (!s)
		return false;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return false;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t < 0)
		return false;
	*sec = (uint64_t)t;
	return true;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

enum pnl_opener acct_opener_parse(const char *s)
{
	if (streq(s, "local"))
		return PNL_OPENER_LOCAL;
	if (streq(s, "remote"))
		return PNL_OPENER_REMOTE;
	return PNL_OPENER_UNKNOWN;
}

const char *acct_opener_name(enum pnl_opener o)
{
	switch (o) {
	case PNL_OPENER_LOCAL:
		return "local";
	case PNL_OPENER_REMOTE:
		return "remote";
	case PNL_OPENER_UNKNOWN:
		break;
	}
	return "unknown";
}

/* When the channel first became usable, and first closed, from
 * listpeerchannels' state_changes (lightningd keeps every transition). */
static void scan_state_changes(const json_t *changes, struct acct_chan *out)
{
	size_t i;
	json_t *c;

	json_array_foreach(changes, i, c)
	{
		const char *ns = json_str(c, "new_state");
		uint64_t t;
		if (!acct_parse_iso8601(json_str(c, "timestamp"), &t))
			continue;
		if (!out->opened_sec && streq(ns, "CHANNELD_NORMAL"))
			out->opened_sec = t;
		if (!out->closed_sec && acct_state_is_closed(ns)) {
			out->closed_sec = t;
			copy_str(out->close_old_state,
				 sizeof(out->close_old_state),
				 json_str(c, "old_state"));
			copy_str(out->close_change_cause,
				 sizeof(out->close_change_cause),
				 json_str(c, "cause"));
		}
	}
}

bool acct_parse_chan(const json_t *c, bool closed_list, struct acct_chan *out)
{
	const char *cid = json_str(c, "channel_id");
	const char *peer = json_str(c, "peer_id");
	const char *scid = json_str(c, "short_channel_id");

	memset(out, 0, sizeof(*out));
	if (!cid || strlen(cid) != 64 || !pubkey_hex_valid(peer))
		return false;
	copy_str(out->channel_id, sizeof(out->channel_id), cid);
	copy_str(out->peer_id, sizeof(out->peer_id), peer);
	if (scid && scid_valid(scid))
		copy_str(out->scid, sizeof(out->scid), scid);
	copy_str(out->state, sizeof(out->state),
		 closed_list ? "CLOSED" : json_str(c, "state"));
	copy_str(out->funding_txid, sizeof(out->funding_txid),
		 json_str(c, "funding_txid"));
	copy_str(out->closer, sizeof(out->closer), json_str(c, "closer"));
	copy_str(out->close_cause, sizeof(out->close_cause),
		 json_str(c, "close_cause"));
	out->opener = acct_opener_parse(json_str(c, "opener"));
	json_get_msat(c, "total_msat", &out->capacity_msat);
	if (!json_get_msat(c, closed_list ? "final_to_us_msat" : "to_us_msat",
			   &out->to_us_msat))
		out->to_us_msat = 0;
	out->last_commitment_fee_known = json_get_msat(
	    c, "last_commitment_fee_msat", &out->last_commitment_fee_msat);
	out->from_closed_list = closed_list;
	scan_state_changes(json_object_get(c, "state_changes"), out);
	return true;
}

bool acct_find_chan(const json_t *result, bool closed_list,
		    const char *channel_id, const char *scid,
		    struct acct_chan *out)
{
	const json_t *arr = json_object_get(
	    result, closed_list ? "closedchannels" : "channels");
	size_t i;
	json_t *c;

	json_array_foreach(arr, i, c)
	{
		const char *cid = json_str(c, "channel_id");
		const char *s = json_str(c, "short_channel_id");
		bool match = channel_id && channel_id[0]
				 ? cid && !strcasecmp(cid, channel_id)
				 : scid && s && !strcmp(s, scid);
		if (match && acct_parse_chan(c, closed_list, out))
			return true;
	}
	return false;
}

/* ---- bookkeeper ---- */

struct fee_tx {
	char txid[65];
	int64_t fee_msat;
};

static int64_t clamp_fee(int64_t msat)
{
	return pnl_chain_cost_msat(true, msat, 0);
}

/* The txid of "txid:outnum". */
static void outpoint_txid(const char *outpoint, char txid[65])
{
	const char *colon = outpoint ? strchr(outpoint, ':') : NULL;
	size_t n = colon ? (size_t)(colon - outpoint) : 0;

	txid[0] = '\0';
	if (n == 64) {
		memcpy(txid, outpoint, 64);
		txid[64] = '\0';
	}
}

static int splice_index(struct acct_bkpr *out, const char *txid, bool add)
{
	for (size_t i = 0; i < out->nsplices; i++)
		if (!strcasecmp(out->splices[i].txid, txid))
			return (int)i;
	if (!add || out->nsplices == ACCT_BKPR_MAX_TXS)
		return -1;
	copy_str(out->splices[out->nsplices].txid, 65, txid);
	return (int)out->nsplices++;
}

void acct_bkpr_parse(const json_t *result, const char *account,
		     const char *funding_txid, struct acct_bkpr *out)
{
	const json_t *events = json_object_get(result, "events");
	struct fee_tx fees[ACCT_BKPR_MAX_TXS * 2];
	char penalty[ACCT_BKPR_MAX_TXS][65];
	size_t nfees = 0, npenalty = 0, i;
	json_t *e;

	memset(out, 0, sizeof(*out));
	copy_str(out->funding_txid, sizeof(out->funding_txid), funding_txid);
	json_array_foreach(events, i, e)
	{
		const char *acct = json_str(e, "account");
		const char *type = json_str(e, "type");
		const char *tag = json_str(e, "tag");
		const char *txid = json_str(e, "txid");
		uint64_t credit = 0, debit = 0;
		char optx[65];

		if (!acct || !account || strcasecmp(acct, account) || !type ||
		    !tag)
			continue;
		if (!json_get_msat(e, "credit_msat", &credit) ||
		    !json_get_msat(e, "debit_msat", &debit) ||
		    credit > INT64_MAX / 2 || debit > INT64_MAX / 2)
			continue;
		out->any_event = true;
		outpoint_txid(json_str(e, "outpoint"), optx);
		if (!strcmp(type, "onchain_fee")) {
			size_t k;
			if (!txid || strlen(txid) != 64)
				continue;
			for (k = 0; k < nfees; k++)
				if (!strcasecmp(fees[k].txid, txid))
					break;
			if (k == nfees) {
				if (nfees == ARRAY_SIZE(fees))
					continue;
				copy_str(fees[nfees].txid, 65, txid);
				fees[nfees++].fee_msat = 0;
			}
			fees[k].fee_msat += (int64_t)credit - (int64_t)debit;
		} else if (!strcmp(type, "chain")) {
			if (!strcmp(tag, "channel_open")) {
				if (!out->funding_txid[0] && optx[0])
					copy_str(out->funding_txid, 65, optx);
			} else if (!strcmp(tag, "channel_close")) {
				if (txid && strlen(txid) == 64)
					copy_str(out->closing_txid, 65, txid);
			} else if (strstr(tag, "splice")) {
				const char *t =
				    txid && strlen(txid) == 64 ? txid : optx;
				int k = t[0] ? splice_index(out, t, true) : -1;
				if (k >= 0)
					out->splices[k].amount_msat +=
					    (int64_t)credit - (int64_t)debit;
			} else if (!strcmp(tag, "penalty") ||
				   !strcmp(tag, "stolen") ||
				   !strcmp(tag, "penalized")) {
				const char *t =
				    txid && strlen(txid) == 64 ? txid : optx;
				if (t[0] && npenalty < ACCT_BKPR_MAX_TXS)
					copy_str(penalty[npenalty++], 65, t);
			}
		}
	}
	for (i = 0; i < nfees; i++) {
		const char *t = fees[i].txid;
		int64_t fee = clamp_fee(fees[i].fee_msat);
		bool is_penalty = false;
		int k;

		for (size_t p = 0; p < npenalty; p++)
			is_penalty |= !strcasecmp(penalty[p], t);
		if (out->funding_txid[0] && !strcasecmp(t, out->funding_txid)) {
			out->open_found = true;
			out->open_fee_msat =
			    clamp_fee(out->open_fee_msat + fee);
		} else if (out->closing_txid[0] &&
			   !strcasecmp(t, out->closing_txid)) {
			out->close_found = true;
			out->close_fee_msat =
			    clamp_fee(out->close_fee_msat + fee);
		} else if ((k = splice_index(out, t, false)) >= 0) {
			out->splices[k].fee_found = true;
			out->splices[k].fee_msat = fee;
		} else if (is_penalty) {
			out->penalty_found = true;
			out->penalty_fee_msat =
			    clamp_fee(out->penalty_fee_msat + fee);
		} else if (out->closing_txid[0]) {
			/* Resolving the close: HTLC and to-self sweeps. */
			out->sweep_found = true;
			out->sweep_fee_msat =
			    clamp_fee(out->sweep_fee_msat + fee);
		}
	}
}

/* ---- fallbacks ---- */

void acct_parse_fee_estimates(const json_t *feerates_result,
			      struct acct_fee_estimates *out)
{
	const json_t *e =
	    json_object_get(feerates_result, "onchain_fee_estimates");

	memset(out, 0, sizeof(*out));
	json_get_u64(e, "opening_channel_satoshis", &out->open_sat);
	json_get_u64(e, "mutual_close_satoshis", &out->mutual_close_sat);
	json_get_u64(e, "unilateral_close_satoshis",
		     &out->unilateral_close_sat);
}

int64_t acct_open_cost_msat(enum pnl_opener opener, const struct acct_bkpr *b,
			    const struct acct_fee_estimates *est,
			    bool open_is_now, int64_t configured_sat,
			    const char **source)
{
	if (opener == PNL_OPENER_REMOTE) {
		*source = "peer_opened";
		return 0;
	}
	if (b && b->open_found) {
		*source = "bookkeeper";
		return b->open_fee_msat;
	}
	if (open_is_now && est && est->open_sat) {
		*source = "feerate_estimate";
		return pnl_chain_cost_msat(true, (int64_t)est->open_sat * SAT,
					   0);
	}
	*source = "configured_estimate";
	return configured_sat < 0 ? 0 : configured_sat * SAT;
}

void acct_close_cost(enum pnl_opener opener, const char *close_type,
		     const struct acct_bkpr *b, const struct acct_chan *ch,
		     const struct acct_fee_estimates *est,
		     struct acct_close_cost *out)
{
	uint64_t est_sat = 0;

	memset(out, 0, sizeof(*out));
	if (b && (b->close_found || b->sweep_found || b->penalty_found)) {
		out->closure_fee_msat = b->close_fee_msat;
		out->htlc_sweep_fee_msat = b->sweep_fee_msat;
		out->penalty_fee_msat = b->penalty_fee_msat;
		out->source = "bookkeeper";
	} else if (opener == PNL_OPENER_REMOTE) {
		out->source = "peer_paid";
	} else if (ch && ch->last_commitment_fee_known) {
		out->closure_fee_msat = pnl_chain_cost_msat(
		    true, (int64_t)ch->last_commitment_fee_msat, 0);
		out->source = "listclosedchannels";
	} else {
		if (est)
			est_sat = streq(close_type, "mutual")
				      ? est->mutual_close_sat
				      : est->unilateral_close_sat;
		if (est_sat) {
			out->closure_fee_msat = pnl_chain_cost_msat(
			    true, (int64_t)est_sat * SAT, 0);
			out->source = "feerate_estimate";
		} else {
			out->closure_fee_msat =
			    ACCT_CLOSE_COST_DEFAULT_SAT * SAT;
			out->source = "default_estimate";
		}
	}
	out->total_msat = out->closure_fee_msat + out->htlc_sweep_fee_msat +
			  out->penalty_fee_msat;
}

const char *acct_flow_profile(uint64_t in_count, uint64_t out_count)
{
	if (in_count == 0 && out_count == 0)
		return "inactive";
	if (out_count == 0 || (double)in_count / (double)out_count > 3.0)
		return "inbound_dominant";
	if ((double)in_count / (double)out_count < 0.33)
		return "outbound_dominant";
	return "balanced";
}
