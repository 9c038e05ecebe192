/* sim/chain.c and sim/ledger.c: feerate parsing and estimates, funding
 * from the wallet, lockin depth, mutual close, forgetting, and the state
 * history every step records. */
#include "common/util.h"
#include "sim/chain.h"
#include "sim/keys.h"
#include "sim/ledger.h"
#include "sim/net.h"
#include "tests/check.h"
#include <string.h>

struct feerate_case {
	const char *json;
	bool ok;
	uint32_t perkw; /* 0: named (only checked to be >= the floor) */
};

static void test_feerates(void)
{
	static const struct feerate_case cases[] = {
	    {"1000", true, 250}, /* bare numbers are perkb */
	    {"\"2000perkw\"", true, 2000},
	    {"\"4000perkb\"", true, 1000},
	    {"\"4000\"", true, 1000},
	    {"\"urgent\"", true, 0},
	    {"\"slow\"", true, 0},
	    {"\"opening\"", true, 0},
	    {"\"fastest\"", false, 0},
	    {"\"12xperkw\"", false, 0},
	    {"-5", false, 0},
	    {"true", false, 0},
	};
	struct net *net = net_new(1, 1767225600, 900000);

	net->feerate_perkw = net->feerate_smoothed_perkw = 4000;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		uint32_t got = 0;
		bool ok = chain_parse_feerate(net, v, &got);
		CHECK(ok == cases[i].ok, "feerate %s parses: %d", cases[i].json,
		      cases[i].ok);
		if (ok && cases[i].perkw)
			CHECK_EQ_INT(got, cases[i].perkw, "feerate %s",
				     cases[i].json);
		else if (ok)
			CHECK(got >= CHAIN_FEERATE_FLOOR_PERKW,
			      "named feerate %s above the floor (%u)",
			      cases[i].json, got);
		json_decref(v);
	}
	CHECK(chain_estimate_perkw(net, 2, false) >
		      chain_estimate_perkw(net, 6, false) &&
		  chain_estimate_perkw(net, 6, false) >
		      chain_estimate_perkw(net, 12, false) &&
		  chain_estimate_perkw(net, 12, false) >
		      chain_estimate_perkw(net, 100, false),
	      "sooner confirmation costs more");
	net->feerate_perkw = 100;
	CHECK_EQ_INT(chain_estimate_perkw(net, 100, false),
		     CHAIN_FEERATE_FLOOR_PERKW, "estimates never go below 253");
	CHECK_EQ_INT(chain_rate_perkw(net, RATE_UNILATERAL_ANCHOR), 1250,
		     "anchor closes pay at least 5 sat/vB");
	net->feerate_perkw = 8000;
	net->feerate_smoothed_perkw = 4000;
	chain_new_block(net, NULL, NULL);
	CHECK_EQ_INT(net->feerate_smoothed_perkw, 4500,
		     "smoothing moves an eighth of the way per block");
	net_free(net);
}

struct recorder {
	int n;
	enum cln_state last;
};

static void record(void *arg, uint32_t chan, const struct chan_change *c)
{
	struct recorder *r = arg;
	r->n++;
	r->last = c->new_state;
	(void)chan;
}

static void test_open_close(void)
{
	struct net *net = net_new(7, 1767225600, 900000);
	struct net_node *a = net_add_node(net, "a", true);
	struct net_node *b = net_add_node(net, "b", false);
	struct fund_req fr = {.node = 0,
			      .peer = 1,
			      .amount_sat = 1000000,
			      .feerate_perkw = 2000,
			      .announce = true};
	struct recorder rec = {0};
	struct net_channel *ch;
	uint32_t chan = 0;
	uint64_t fee = 2000 * CHAIN_FUNDING_WEIGHT / 1000;
	char *err = NULL;
	enum fund_err fe;

	(void)b;
	ledger_add_utxo(&a->led,
			"11111111111111111111111111111111111111111111"
			"11111111111111111111",
			0, 3000000, 899990);
	a = &net->nodes[0];
	a->onchain_sat = ledger_unspent_sat(&a->led);

	fr.amount_sat = 5000000;
	fe = chain_fund_channel(net, &fr, &chan, &err);
	CHECK_EQ_INT(fe, FUND_ERR_AFFORD, "cannot fund more than the wallet");
	free(err);
	fr.amount_sat = 10000;
	fe = chain_fund_channel(net, &fr, &chan, &err);
	CHECK_EQ_INT(fe, FUND_ERR_DUST, "below the minimum channel size");
	free(err);
	net->nodes[1].connected = false;
	fr.amount_sat = 1000000;
	fe = chain_fund_channel(net, &fr, &chan, &err);
	CHECK_EQ_INT(fe, FUND_ERR_PEER, "an offline peer cannot be funded");
	free(err);
	net->nodes[1].connected = true;

	fe = chain_fund_channel(net, &fr, &chan, &err);
	CHECK_EQ_INT(fe, FUND_OK, "funding works: %s", err ? err : "");
	free(err);
	a = &net->nodes[0];
	ch = &net->chans[chan];
	CHECK_EQ_INT(ch->cln_state, CLN_AWAITING_LOCKIN, "awaiting lockin");
	CHECK_EQ_INT(ch->state, CHAN_OPENING, "routing sees it opening");
	CHECK(!net_channel_mined(net, ch), "no scid before a block");
	CHECK_EQ_INT(a->onchain_fees_paid_sat, fee,
		     "the opener pays the funding fee at the feerate");
	CHECK_EQ_INT(a->onchain_sat, 3000000 - 1000000 - fee,
		     "the wallet keeps the change");
	CHECK_EQ_INT(a->led.nutxos, 2, "one output spent, change added");
	CHECK(a->led.utxos[0].spent, "the funding input is spent");
	CHECK_EQ_INT(ch->balance_msat[net_channel_side(ch, 0)], 1000000000ULL,
		     "the opener holds the funds");

	chain_new_block(net, record, &rec);
	CHECK(net_channel_mined(net, ch), "mined at the next block");
	CHECK_EQ_INT(rec.n, 0, "one confirmation is not lockin");
	CHECK(a->led.utxos[1].conf_height <= net->height,
	      "the change confirms with the funding tx");
	chain_new_block(net, record, &rec);
	chain_new_block(net, record, &rec);
	CHECK_EQ_INT(rec.n, 1, "lockin at funding_confirms deep");
	CHECK_EQ_INT(ch->cln_state, CLN_NORMAL, "then CHANNELD_NORMAL");

	ch->htlcs_out[1] = 1;
	CHECK(chain_close_channel(net, chan, 1, 1000, &err), "peer closes");
	CHECK_EQ_INT(ch->cln_state, CLN_SHUTTING_DOWN,
		     "shutdown waits for HTLCs");
	CHECK_EQ_INT(ch->changes[ch->nchanges - 1].by_side,
		     net_channel_side(ch, 1), "caused by the closer");
	CHECK(!chain_close_channel(net, chan, 0, 1000, &err),
	      "cannot close twice");
	free(err);
	rec.n = 0;
	chain_new_block(net, record, &rec);
	CHECK_EQ_INT(ch->cln_state, CLN_SHUTTING_DOWN, "still an HTLC");
	ch->htlcs_out[1] = 0;
	chain_new_block(net, record, &rec);
	CHECK_EQ_INT(ch->cln_state, CLN_CLOSING_COMPLETE,
		     "negotiated once HTLCs cleared");
	CHECK_EQ_INT(rec.n, 2, "sigexchange and complete recorded");
	chain_new_block(net, record, &rec);
	CHECK_EQ_INT(ch->cln_state, CLN_ONCHAIN, "the closing tx confirms");
	CHECK_EQ_INT(ch->state, CHAN_CLOSED, "routing sees it closed");
	CHECK_EQ_INT(net->nodes[0].onchain_fees_paid_sat,
		     fee + 1000 * CHAIN_MUTUAL_CLOSE_WEIGHT / 1000,
		     "the opener pays the closing fee");
	CHECK_EQ_INT(net->nodes[0].onchain_sat,
		     3000000 - fee - 1000 * CHAIN_MUTUAL_CLOSE_WEIGHT / 1000,
		     "the channel's funds are back in the wallet");
	for (uint32_t i = 0; i < net->onchain_forget_blocks; i++)
		chain_new_block(net, record, &rec);
	CHECK_EQ_INT(ch->cln_state, CLN_CLOSED, "forgotten after 100 blocks");
	CHECK_EQ_INT(rec.last, CLN_CLOSED, "and that is told");
	CHECK_EQ_STR(cln_state_name(ch->changes[0].new_state),
		     "CHANNELD_AWAITING_LOCKIN", "history starts at the open");
	CHECK_EQ_INT(ch->changes[ch->nchanges - 2].cause, CAUSE_USER,
		     "later steps keep the closer's cause");
	net_free(net);
}

static void test_ledger(void)
{
	struct ledger l;
	uint8_t h1[32] = {1}, h2[32] = {2};
	struct sendpay *sp;
	struct invoice *inv;

	ledger_init(&l);
	sp = ledger_add_sendpay(&l);
	memcpy(sp->hash, h1, 32);
	sp->groupid = 1;
	sp = ledger_add_sendpay(&l);
	memcpy(sp->hash, h1, 32);
	sp->groupid = 3;
	CHECK_EQ_INT(ledger_max_groupid(&l, h1), 3, "largest groupid");
	CHECK_EQ_INT(ledger_max_groupid(&l, h2), 0, "none for a new hash");
	ledger_sendpay_resolve(&l, &l.sps[1], SP_COMPLETE, 5);
	ledger_sendpay_resolve(&l, &l.sps[0], SP_FAILED, 6);
	CHECK_EQ_INT(l.sps[0].updated_index, 2, "updated in order of change");
	inv = ledger_add_invoice(&l, "x", "d");
	memcpy(inv->hash, h2, 32);
	CHECK(ledger_invoice_by_label(&l, "x") == inv, "by label");
	CHECK(ledger_invoice_by_hash(&l, h2) == inv, "by hash");
	ledger_invoice_paid(&l, inv, 1000, 9);
	CHECK_EQ_INT(inv->pay_index, 1, "first paid invoice");
	ledger_add_peer(&l, 4);
	ledger_add_peer(&l, 4);
	CHECK_EQ_INT(l.npeers, 1, "a peer once");
	ledger_del_peer(&l, 4);
	CHECK(!ledger_has_peer(&l, 4), "peer removed");
	ledger_free(&l);
}

int main(void)
{
	if (!keys_init())
		return 1;
	test_feerates();
	test_open_close();
	test_ledger();
	keys_cleanup();
	return check_done();
}
