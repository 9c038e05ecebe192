/* Accounting's pure helpers: channel-state transitions, close types,
 * lightningd's channel listings and bookkeeper events turned into plain
 * structs, and the documented fallbacks for on-chain costs when
 * bookkeeper has no answer. No I/O, no clock, no database: everything
 * here is tested on recorded or hand-written JSON
 * (test/run-accounting.c). */
#ifndef HIVE_REVENUE_OPS_ACCT_PARSE_H
#define HIVE_REVENUE_OPS_ACCT_PARSE_H
#include "engine/pnl.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fallback costs of the reference (ChainCostDefaults), in sat. */
#define ACCT_CLOSE_COST_DEFAULT_SAT 3000
#define ACCT_SPLICE_COST_DEFAULT_SAT 2000

/* ---- channel states ---- */

enum acct_transition {
	ACCT_T_NONE,
	ACCT_T_OPEN,	     /* an opening state -> CHANNELD_NORMAL */
	ACCT_T_SPLICE_START, /* CHANNELD_NORMAL -> CHANNELD_AWAITING_SPLICE */
	ACCT_T_SPLICE,	     /* CHANNELD_AWAITING_SPLICE -> CHANNELD_NORMAL */
	ACCT_T_CLOSE,	     /* -> a state whose funds are leaving on chain */
};

/* What a channel_state_changed (@old_state may be NULL: a channel's
 * first state) means for the accounting. A splice ending is never a
 * close, and a close is recognised at whichever closing state we see
 * first (CLOSINGD_COMPLETE, AWAITING_UNILATERAL, FUNDING_SPEND_SEEN,
 * ONCHAIN, CLOSED), since a notification can be missed. */
enum acct_transition acct_classify_transition(const char *old_state,
					      const char *new_state);
/* Before CHANNELD_NORMAL: OPENINGD, CHANNELD_AWAITING_LOCKIN, DUALOPEND_*
 * and lightningd's old "unknown". */
bool acct_state_is_opening(const char *state);
/* The closing transaction is signed or on chain (the channel can no
 * longer route): the states above. CHANNELD_SHUTTING_DOWN and
 * CLOSINGD_SIGEXCHANGE are not closed yet. */
bool acct_state_is_closed(const char *state);

/* Close type of a closure seen as a state change (spec §4.16): mutual
 * if the cause says so or the old state was closingd's; the cause
 * local/user -> local_unilateral; remote/protocol/onchain ->
 * remote_unilateral; otherwise unknown. Static strings. */
const char *acct_close_type(const char *cause, const char *old_state);
/* Close type of a closure found only in a listing (the reference's
 * revenue-cleanup-closed rule): "mutual" in the cause, else the closer
 * local -> local_unilateral, remote -> remote_unilateral, else unknown.
 * (acct_close_type_chan() prefers the recorded transition.) */
const char *acct_close_type_listing(const char *close_cause,
				    const char *closer);

struct acct_chan;
/* Close type of a listed channel: from its recorded transition into the
 * closed state when lightningd listed one (state_changes), else the
 * listing rule above. */
const char *acct_close_type_chan(const struct acct_chan *ch);

/* An ISO-8601 UTC time as lightningd prints it
 * ("2026-01-01T00:00:00.000Z"; the fraction and Z optional). */
bool acct_parse_iso8601(const char *s, uint64_t *sec);

/* ---- channel listings ---- */

/* One entry of listpeerchannels or listclosedchannels, as accounting
 * needs it. Strings are "" when absent. */
struct acct_chan {
	char channel_id[65];
	char scid[24];
	char peer_id[67];
	char state[40]; /* "CLOSED" for a listclosedchannels entry */
	char funding_txid[65];
	char closer[8];	      /* local | remote | "" */
	char close_cause[12]; /* listclosedchannels only */
	enum pnl_opener opener;
	uint64_t capacity_msat;
	uint64_t to_us_msat; /* final_to_us_msat once closed */
	uint64_t opened_sec; /* first reaching CHANNELD_NORMAL, 0 unknown */
	uint64_t closed_sec; /* first closed state, 0 unknown */
	/* The transition into that state (from state_changes), "" if
	 * unknown: tells a mutual close from a unilateral one. */
	char close_old_state[40];
	char close_change_cause[12];
	bool last_commitment_fee_known; /* listclosedchannels */
	uint64_t last_commitment_fee_msat;
	bool from_closed_list;
};

/* Parse one entry; @closed_list says which listing it came from. False
 * (entry unusable) without a channel_id or a valid peer id. */
bool acct_parse_chan(const json_t *c, bool closed_list, struct acct_chan *out);

/* Find the entry for @channel_id (or, if that is NULL/empty, @scid) in a
 * listpeerchannels ("channels") or listclosedchannels ("closedchannels")
 * result. */
bool acct_find_chan(const json_t *result, bool closed_list,
		    const char *channel_id, const char *scid,
		    struct acct_chan *out);

/* ---- bookkeeper ---- */

#define ACCT_BKPR_MAX_TXS 16

/* What bkpr-listaccountevents says a channel's transactions cost us.
 * Fees are summed per txid over the account's onchain_fee events
 * (credit - debit, the schema's rule), then each txid is classified:
 * the funding tx (channel_open outpoint, or @funding_txid) -> open; the
 * tx of the channel_close event -> close; txs of chain events tagged
 * *splice* -> splices; of "penalty"/"stolen" events -> penalty; any other
 * fee-bearing tx after a close -> sweep. A class with no fee event is
 * "not found" (the caller falls back), never a zero fee (defect 32). */
struct acct_bkpr {
	bool any_event; /* the account had at least one event */
	bool open_found, close_found, sweep_found, penalty_found;
	int64_t open_fee_msat, close_fee_msat, sweep_fee_msat, penalty_fee_msat;
	char funding_txid[65];
	char closing_txid[65];
	size_t nsplices;
	struct {
		char txid[65];
		bool fee_found;
		int64_t fee_msat;
		int64_t amount_msat; /* credit - debit of its chain events */
	} splices[ACCT_BKPR_MAX_TXS];
};

/* @result is a bkpr-listaccountevents result; events of other accounts
 * are ignored (the account is the 64-hex channel_id, never the scid:
 * defect 30). Malformed events are skipped. Every fee is sanitised to
 * [0, 50,000 sat]. */
void acct_bkpr_parse(const json_t *result, const char *account,
		     const char *funding_txid, struct acct_bkpr *out);

/* ---- fallbacks ---- */

/* lightningd's own on-chain fee estimates (`feerates` result's
 * onchain_fee_estimates), 0 when absent. */
struct acct_fee_estimates {
	uint64_t open_sat, mutual_close_sat, unilateral_close_sat;
};
void acct_parse_fee_estimates(const json_t *feerates_result,
			      struct acct_fee_estimates *out);

/* Open cost to record. Remote opener: 0 ("peer_opened", the peer paid).
 * Local (or unknown) opener: bookkeeper's fee when found
 * ("bookkeeper"); else, for an open happening now, lightningd's estimate
 * for an open at the current opening feerate ("feerate_estimate": the
 * funding weight it uses times the feerate); else @configured_sat
 * (estimated_open_cost_sats, "configured_estimate"). Sets *source to a
 * static string. */
int64_t acct_open_cost_msat(enum pnl_opener opener, const struct acct_bkpr *b,
			    const struct acct_fee_estimates *est,
			    bool open_is_now, int64_t configured_sat,
			    const char **source);

/* Closure cost to record, split into its parts. Bookkeeper's closing,
 * sweep and penalty fees when it has any ("bookkeeper"); otherwise the
 * opener pays the closing transaction (BOLT 2), so a channel the peer
 * opened costs us nothing ("peer_paid"); a local opener pays the fee of
 * the final transaction as listclosedchannels reports it
 * ("listclosedchannels"), else lightningd's estimate for that close type
 * ("feerate_estimate"), else 3000 sat ("default_estimate"). */
struct acct_close_cost {
	int64_t closure_fee_msat, htlc_sweep_fee_msat, penalty_fee_msat;
	int64_t total_msat;
	const char *source;
};
void acct_close_cost(enum pnl_opener opener, const char *close_type,
		     const struct acct_bkpr *b, const struct acct_chan *ch,
		     const struct acct_fee_estimates *est,
		     struct acct_close_cost *out);

/* ---- presentation ---- */

/* The reference's flow profile from payment counts: in/out > 3
 * inbound_dominant, < 0.33 outbound_dominant, no traffic inactive,
 * otherwise balanced (no outbound with inbound is inbound_dominant). */
const char *acct_flow_profile(uint64_t in_count, uint64_t out_count);

/* "local" / "remote" / "unknown". */
const char *acct_opener_name(enum pnl_opener o);
enum pnl_opener acct_opener_parse(const char *s);

#endif
