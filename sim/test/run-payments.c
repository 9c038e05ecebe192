/* Unit tests for the payment engine (sim/payments.c, sim/route.c):
 * determinism, demand independence from fees, conservation of every msat,
 * the HTLC slot limit, stale gossip (fee_insufficient, then a retry with
 * the fresh update) and CLN's enforcedelay grace, price elasticity, MPP
 * all-or-nothing, fwdlog records (indexes, statuses, local_failed vs
 * failed), sendpay along a circular route, getroute, and configuration
 * errors that name the field. Small hand-built networks, fixed seeds. */
#include "common/util.h"
#include "sim/evq.h"
#include "sim/fwdlog.h"
#include "sim/gen.h"
#include "sim/keys.h"
#include "sim/net.h"
#include "sim/payments.h"
#include "sim/route.h"
#include "sim/test/testnet.h"
#include "tests/check.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- recording hooks ---------------------------------------------------- */

struct rec_fwd {
	uint32_t node;
	struct fwd f;
};

struct rec {
	struct rec_fwd *fwds;
	size_t nfwds, capfwds;
	struct pay_result *res;
	size_t nres, capres;
};

static void on_fwd(void *arg, uint32_t node, const struct fwd *f)
{
	struct rec *r = arg;
	xgrow(&r->fwds, &r->capfwds, r->nfwds + 1, sizeof(*r->fwds));
	r->fwds[r->nfwds++] = (struct rec_fwd){node, *f};
}

static void on_done(void *arg, const struct pay_result *res)
{
	struct rec *r = arg;
	xgrow(&r->res, &r->capres, r->nres + 1, sizeof(*r->res));
	r->res[r->nres++] = *res;
}

static const struct pay_hooks rec_hooks = {on_fwd, on_done};

static void rec_free(struct rec *r)
{
	free(r->fwds);
	free(r->res);
	memset(r, 0, sizeof(*r));
}

/* ---- network helpers ---------------------------------------------------- */

static int side_of(const struct net_channel *ch, uint32_t node)
{
	return net_channel_side(ch, node);
}

/* Pop and handle events up to @until_ms (UINT64_MAX: all). */
static uint64_t run_until(struct net *net, struct evq *q, struct payments *p,
			  uint64_t until_ms)
{
	struct event ev;
	uint64_t n = 0;

	while (evq_next_ms(q) <= until_ms && evq_pop(q, &ev)) {
		net->now_sec = ev.at_ms / 1000;
		if (!payments_handle(p, &ev))
			printf("# unexpected event type %d\n", ev.type);
		n++;
	}
	return n;
}

static struct payments *new_engine(struct net *net, struct evq *q,
				   const char *traffic, uint64_t seed,
				   struct rec *rec)
{
	json_t *t = traffic ? json_loads(traffic, 0, NULL) : NULL;
	char *err = NULL;
	struct payments *p;

	if (traffic && !t)
		abort();
	evq_init(q);
	p = payments_new(net, q, t, seed, rec ? &rec_hooks : NULL, rec, &err);
	json_decref(t);
	if (!p) {
		printf("# payments_new: %s\n", err);
		free(err);
		abort();
	}
	return p;
}

/* A generated network with one fleet node. */
static struct net *gen_net(uint64_t seed)
{
	struct net *net = net_new(seed, T0_SEC, 900000);
	json_t *g = json_pack("{s:i,s:i,s:i}", "nodes", 40, "fleet_channels", 6,
			      "competing_paths", 2);
	char *err = NULL;

	add_node(net, "fleet", true, 1, 1);
	if (!gen_expand(net, g, seed, NULL, &err)) {
		printf("# gen: %s\n", err);
		abort();
	}
	json_decref(g);
	return net;
}

/* ---- tests -------------------------------------------------------------- */

static void test_bad_json(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"{\"amount_median_sat\": -1}",
		 "traffic.amount_median_sat: must be a positive number"},
		{"{\"amount_median_sat\": \"big\"}",
		 "traffic.amount_median_sat: must be a positive number"},
		{"{\"bogus\": 1}", "traffic.bogus: unknown field (a typo?)"},
		{"{\"senders\": {\"lnd\": 1, \"eclair\": 1}}",
		 "traffic.senders.eclair: unknown name (one of lnd, "
		 "lnd_bimodal, ldk, cln_xpay, cln_pay)"},
		{"{\"senders\": {\"lnd\": -1}}",
		 "traffic.senders.lnd: must be a non-negative number"},
		{"{\"senders\": {\"lnd\": 0}}",
		 "traffic.senders: weights must not all be zero"},
		{"{\"max_attempts\": 0}",
		 "traffic.max_attempts: must be an integer in [1, 1000]"},
		{"{\"mpp\": 1}", "traffic.mpp: must be true or false"},
		{"{\"diurnal_amplitude\": 1.5}",
		 "traffic.diurnal_amplitude: must be a number in [0, 0.99]"},
		{"{\"amount_min_sat\": 10, \"amount_max_sat\": 5}",
		 "traffic.amount_max_sat: must be at least amount_min_sat (10)"},
		{"[1]", "traffic: must be an object"},
	};
	struct net *net = net_new(1, T0_SEC, 900000);
	struct evq q;

	evq_init(&q);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *t = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		char *err = NULL;
		struct payments *p =
			payments_new(net, &q, t, 1, NULL, NULL, &err);
		CHECK(p == NULL, "traffic %s rejected", cases[i].json);
		CHECK_EQ_STR(err, cases[i].want, "traffic %s: error text",
			     cases[i].json);
		payments_free(p);
		free(err);
		json_decref(t);
	}
	evq_free(&q);
	net_free(net);
}

static void test_bad_generate(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"{\"nodes\": \"many\"}",
		 "generate.nodes: must be an integer in [0, 100000]"},
		{"{\"nodes\": 5, \"ppm_median\": 0}",
		 "generate.ppm_median: must be a positive number"},
		{"{\"impl\": {\"btcd\": 1}}",
		 "generate.impl.btcd: unknown name (one of lnd, cln, ldk, "
		 "eclair)"},
		{"{\"capacity_sigma\": 9}",
		 "generate.capacity_sigma: must be a number in [0, 5]"},
		{"{\"nodes\": 5, \"colour\": 1}",
		 "generate.colour: unknown field (a typo?)"},
		{"{\"opener_balance_min\": 0.9, \"opener_balance_max\": 0.5}",
		 "generate.opener_balance_max: must be at least "
		 "opener_balance_min"},
		{"{\"ppm_zero_share\": 0.8, \"ppm_block_share\": 0.5}",
		 "generate.ppm_block_share: ppm_zero_share + ppm_block_share "
		 "must not exceed 1"},
		{"7", "generate: must be an object"},
	};
	struct net *net = net_new(1, T0_SEC, 900000);

	add_node(net, "hub", true, 1, 1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *g = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		char *err = NULL;
		bool ok = gen_expand(net, g, 1, NULL, &err);
		CHECK(!ok, "generate %s rejected", cases[i].json);
		CHECK_EQ_STR(err, cases[i].want, "generate %s: error text",
			     cases[i].json);
		CHECK_EQ_INT(net->nnodes, 1, "network untouched by %s",
			     cases[i].json);
		free(err);
		json_decref(g);
	}
	net_free(net);
}

/* Everything a run leaves behind, for comparing two runs. */
static uint64_t net_digest(const struct net *net)
{
	uint64_t h = 1469598103934665603ULL;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ULL)
	for (size_t c = 0; c < net->nchans; c++) {
		const struct net_channel *ch = &net->chans[c];
		MIX(ch->balance_msat[0]);
		MIX(ch->balance_msat[1]);
		MIX(ch->out_payments_fulfilled[0]);
		MIX(ch->in_payments_offered[1]);
	}
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		MIX(n->fees_earned_msat);
		MIX(n->forwards_settled);
		MIX(n->forwards_failed);
		MIX(n->forwards_local_failed);
		for (size_t k = 0; k < n->fwds.n; k++) {
			MIX(n->fwds.v[k].status);
			MIX(n->fwds.v[k].updated_index);
			MIX(n->fwds.v[k].out_msat);
			MIX(n->fwds.v[k].resolved_ms);
		}
	}
#undef MIX
	return h;
}

static void test_determinism(void)
{
	struct pay_stats st[2];
	uint64_t dig[2];

	for (int run = 0; run < 2; run++) {
		struct net *net = gen_net(7);
		struct evq q;
		struct payments *p = new_engine(net, &q, NULL, 7, NULL);

		payments_start(p, T0_MS, T0_MS + 3 * DAY_MS);
		run_until(net, &q, p, UINT64_MAX);
		payments_stats(p, &st[run]);
		dig[run] = net_digest(net);
		payments_free(p);
		evq_free(&q);
		net_free(net);
	}
	CHECK(st[0].payments_attempted > 500,
	      "a 3-day run makes payments (%" PRIu64 ")",
	      st[0].payments_attempted);
	CHECK(memcmp(&st[0], &st[1], sizeof(st[0])) == 0,
	      "same seed, same stats (%" PRIu64 "/%" PRIu64 " ok)",
	      st[0].payments_succeeded, st[1].payments_succeeded);
	CHECK(dig[0] == dig[1], "same seed, same balances, counters, fwdlogs");

	/* Splitting the demand window replays the same stream. */
	{
		struct net *net = gen_net(7);
		struct evq q;
		struct payments *p = new_engine(net, &q, NULL, 7, NULL);
		struct pay_stats s2;

		payments_start(p, T0_MS, T0_MS + DAY_MS);
		run_until(net, &q, p, T0_MS + DAY_MS);
		payments_start(p, T0_MS, T0_MS + 3 * DAY_MS);
		run_until(net, &q, p, UINT64_MAX);
		payments_stats(p, &s2);
		CHECK_EQ_INT(s2.payments_attempted, st[0].payments_attempted,
			     "demand started in two windows: same payments");
		CHECK(net_digest(net) == dig[0],
		      "demand in two windows: same end state");
		payments_free(p);
		evq_free(&q);
		net_free(net);
	}
}

static int cmp_res(const void *a, const void *b)
{
	const struct pay_result *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void test_demand_independence(void)
{
	struct rec rec[2] = {{0}};
	uint64_t fees[2];
	size_t same = 0, n;
	bool stream_same = true;
	struct pay_demand d[2];
	struct payments *keep[2];
	struct net *nets[2];
	struct evq qs[2];

	for (int run = 0; run < 2; run++) {
		struct net *net = gen_net(11);
		struct payments *p;

		/* Price the fleet node out of the market. */
		for (size_t k = 0; run == 1 && k < net->nodes[0].nchans; k++) {
			struct net_channel *ch =
				&net->chans[net->nodes[0].chans[k]];
			int s = side_of(ch, 0);
			ch->pol[s].ppm = ch->pol[s].seen_ppm = 20000;
			ch->pol[s].base_msat = ch->pol[s].seen_base_msat = 50000;
		}
		p = new_engine(net, &qs[run], NULL, 11, &rec[run]);
		payments_start(p, T0_MS, T0_MS + 2 * DAY_MS);
		run_until(net, &qs[run], p, UINT64_MAX);
		fees[run] = net->nodes[0].fees_earned_msat;
		qsort(rec[run].res, rec[run].nres, sizeof(*rec[run].res),
		      cmp_res);
		keep[run] = p;
		nets[run] = net;
	}
	n = rec[0].nres < rec[1].nres ? rec[0].nres : rec[1].nres;
	CHECK_EQ_INT(rec[0].nres, rec[1].nres,
		     "same number of payments with a changed fee");
	for (size_t i = 0; i < n; i++) {
		const struct pay_result *a = &rec[0].res[i], *b = &rec[1].res[i];
		same += a->id == b->id && a->arrival_ms == b->arrival_ms &&
			a->sender == b->sender && a->receiver == b->receiver &&
			a->amount_msat == b->amount_msat &&
			a->sender_kind == b->sender_kind &&
			a->fee_cap_msat == b->fee_cap_msat;
	}
	CHECK_EQ_INT(same, n, "every payment: same time, pair, amount, kind, "
			      "fee cap");
	for (uint64_t k = 0; k < 2000; k++) {
		bool a = payments_demand(keep[0], k, &d[0]);
		bool b = payments_demand(keep[1], k, &d[1]);
		stream_same &= a == b && memcmp(&d[0], &d[1], sizeof(d[0])) == 0;
	}
	CHECK(stream_same, "payments_demand(k) identical for k < 2000");
	CHECK(fees[0] != fees[1],
	      "the fee change did change outcomes (%" PRIu64 " vs %" PRIu64
	      " msat earned)",
	      fees[0], fees[1]);
	for (int run = 0; run < 2; run++) {
		payments_free(keep[run]);
		evq_free(&qs[run]);
		net_free(nets[run]);
		rec_free(&rec[run]);
	}
}

static void test_conservation(void)
{
	struct net *net = gen_net(3);
	struct rec rec = {0};
	struct evq q;
	/* No refill: it moves external balances by design, outside the
	 * payments this test accounts for. */
	struct payments *p = new_engine(
		net, &q,
		"{\"capacity_multiplier\": 2, \"refill_half_life_days\": 0}", 3,
		&rec);
	int64_t *delta = xzalloc(sizeof(*delta) * net->nnodes);
	int64_t *start = xzalloc(sizeof(*start) * net->nnodes);
	uint64_t paid = 0, earned = 0, okpays = 0;
	size_t bad_cap = 0, bad_htlc = 0, bad_node = 0;
	struct pay_stats st;

	for (size_t c = 0; c < net->nchans; c++)
		for (int d = 0; d < 2; d++)
			start[net->chans[c].node[d]] +=
				(int64_t)net->chans[c].balance_msat[d];
	payments_start(p, T0_MS, T0_MS + 2 * DAY_MS);
	run_until(net, &q, p, UINT64_MAX);
	payments_stats(p, &st);
	for (size_t i = 0; i < rec.nres; i++) {
		const struct pay_result *r = &rec.res[i];
		if (!r->succeeded)
			continue;
		okpays++;
		paid += r->fee_msat;
		delta[r->sender] -= (int64_t)(r->amount_msat + r->fee_msat);
		delta[r->receiver] += (int64_t)r->amount_msat;
	}
	for (size_t i = 0; i < net->nnodes; i++) {
		earned += net->nodes[i].fees_earned_msat;
		delta[i] += (int64_t)net->nodes[i].fees_earned_msat;
	}
	for (size_t c = 0; c < net->nchans; c++) {
		const struct net_channel *ch = &net->chans[c];
		bad_cap += ch->balance_msat[0] + ch->balance_msat[1] !=
			   ch->capacity_sat * 1000;
		bad_htlc += ch->htlcs_out[0] || ch->htlcs_out[1] ||
			    ch->htlc_out_msat[0] || ch->htlc_out_msat[1];
		for (int d = 0; d < 2; d++)
			start[ch->node[d]] -= (int64_t)ch->balance_msat[d];
	}
	for (size_t i = 0; i < net->nnodes; i++)
		bad_node += start[i] + delta[i] != 0;
	CHECK(okpays > 300, "payments settled (%" PRIu64 ")", okpays);
	CHECK_EQ_INT(bad_cap, 0, "every channel: balances sum to capacity");
	CHECK_EQ_INT(bad_htlc, 0, "no HTLC left in flight");
	CHECK_EQ_INT(earned, paid, "fees earned by forwarders = fees paid");
	CHECK_EQ_INT(st.fees_paid_msat, paid, "stats agree on fees paid");
	CHECK_EQ_INT(bad_node, 0,
		     "every node: balance change = received - sent - fees "
		     "paid + fees earned");
	free(delta);
	free(start);
	payments_free(p);
	evq_free(&q);
	net_free(net);
	rec_free(&rec);
}

static size_t count_fwds(const struct net_node *n, enum fwd_status st,
			 uint16_t code)
{
	size_t c = 0;
	for (size_t i = 0; i < n->fwds.n; i++)
		c += n->fwds.v[i].status == st &&
		     (!code || n->fwds.v[i].failcode == code);
	return c;
}

static void test_htlc_slots(void)
{
	struct net *net = net_new(1, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 0, 0);
	uint32_t b = add_node(net, "b", true, 0, 0);
	uint32_t r = add_node(net, "r", false, 0, 0);
	struct net_channel *sb = add_chan(net, s, b, 5000000, 5000000, 0, 0);
	struct net_channel *br = add_chan(net, b, r, 5000000, 5000000, 100, 0);
	struct rec rec = {0};
	struct evq q;
	struct payments *p;
	size_t ok = 0;

	(void)sb;
	br->max_htlcs[0] = br->max_htlcs[1] = 1;
	p = new_engine(net, &q, NULL, 1, &rec);
	payments_inject(p, T0_MS + 1000, s, r, 20000000, SENDER_LND);
	payments_inject(p, T0_MS + 1000, s, r, 30000000, SENDER_LND);
	run_until(net, &q, p, UINT64_MAX);
	for (size_t i = 0; i < rec.nres; i++)
		ok += rec.res[i].succeeded;
	CHECK_EQ_INT(rec.nres, 2, "both payments finished");
	CHECK_EQ_INT(ok, 1, "one slot: only one of two concurrent payments");
	/* The loser retries (smaller parts) while the slot is taken. */
	CHECK(count_fwds(&net->nodes[b], FWD_LOCAL_FAILED, 0x1007) >= 1,
	      "b records local_failed temporary_channel_failure");
	CHECK_EQ_INT(count_fwds(&net->nodes[b], FWD_LOCAL_FAILED, 0),
		     count_fwds(&net->nodes[b], FWD_LOCAL_FAILED, 0x1007),
		     "every local failure at b is temporary_channel_failure");
	CHECK_EQ_INT(count_fwds(&net->nodes[b], FWD_SETTLED, 0), 1,
		     "b records one settled forward");
	CHECK_EQ_INT(net->nodes[b].forwards_local_failed,
		     count_fwds(&net->nodes[b], FWD_LOCAL_FAILED, 0),
		     "b's local_failed counter matches its records");
	CHECK_EQ_INT(br->htlcs_out[side_of(br, b)], 0, "slot freed at the end");

	/* Room for both: same payments, two slots. */
	{
		struct net *n2 = net_new(1, T0_SEC, 900000);
		uint32_t s2 = add_node(n2, "s", false, 0, 0);
		uint32_t b2 = add_node(n2, "b", true, 0, 0);
		uint32_t r2 = add_node(n2, "r", false, 0, 0);
		struct net_channel *c2;
		struct rec rec2 = {0};
		struct evq q2;
		struct payments *p2;
		add_chan(n2, s2, b2, 5000000, 5000000, 0, 0);
		c2 = add_chan(n2, b2, r2, 5000000, 5000000, 100, 0);
		c2->max_htlcs[0] = c2->max_htlcs[1] = 2;
		p2 = new_engine(n2, &q2, NULL, 1, &rec2);
		payments_inject(p2, T0_MS + 1000, s2, r2, 20000000, SENDER_LND);
		payments_inject(p2, T0_MS + 1000, s2, r2, 30000000, SENDER_LND);
		run_until(n2, &q2, p2, UINT64_MAX);
		CHECK(rec2.nres == 2 && rec2.res[0].succeeded &&
			      rec2.res[1].succeeded,
		      "with two slots both succeed");
		payments_free(p2);
		evq_free(&q2);
		net_free(n2);
		rec_free(&rec2);
	}
	payments_free(p);
	evq_free(&q);
	net_free(net);
	rec_free(&rec);
}

static void stale_gossip_case(uint64_t grace_sec, struct rec *rec,
			      uint64_t *b_fee_msat, size_t *local_fee_fails)
{
	struct net *net = net_new(1, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 0, 0);
	uint32_t b = add_node(net, "b", true, 0, 0);
	uint32_t r = add_node(net, "r", false, 0, 0);
	struct net_channel *br;
	char traffic[64];
	struct evq q;
	struct payments *p;

	add_chan(net, s, b, 5000000, 5000000, 0, 0);
	br = add_chan(net, b, r, 5000000, 5000000, 100, 0);
	snprintf(traffic, sizeof(traffic), "{\"fee_grace_sec\": %" PRIu64 "}",
		 grace_sec);
	p = new_engine(net, &q, traffic, 1, rec);
	/* b raises its fee; senders will hear of it only in an hour. */
	net->now_sec = T0_SEC;
	net_set_policy(net, br, side_of(br, b), 0, 2000, 1,
		       br->capacity_sat * 1000, T0_SEC + 3600);
	payments_inject(p, T0_MS + 1000, s, r, 100000000, SENDER_LND);
	run_until(net, &q, p, UINT64_MAX);
	*b_fee_msat = net->nodes[b].fees_earned_msat;
	*local_fee_fails = count_fwds(&net->nodes[b], FWD_LOCAL_FAILED, 0x100C);
	payments_free(p);
	evq_free(&q);
	net_free(net);
}

static void test_stale_gossip(void)
{
	struct rec rec = {0};
	uint64_t fee;
	size_t fails;

	stale_gossip_case(0, &rec, &fee, &fails);
	CHECK(rec.nres == 1 && rec.res[0].succeeded,
	      "no grace: the payment still succeeds");
	CHECK_EQ_INT(rec.nres ? rec.res[0].attempts : 0, 2,
		     "no grace: two attempts (fee_insufficient, then retry)");
	CHECK_EQ_INT(fails, 1, "b records local_failed fee_insufficient");
	CHECK_EQ_INT(fee, 200000, "b earns its new fee (2000 ppm of 100k sat)");
	rec_free(&rec);

	stale_gossip_case(600, &rec, &fee, &fails);
	CHECK(rec.nres == 1 && rec.res[0].succeeded &&
		      rec.res[0].attempts == 1,
	      "within enforcedelay the old fee is accepted first time");
	CHECK_EQ_INT(fails, 0, "grace: no fee_insufficient");
	CHECK_EQ_INT(fee, 10000, "grace: b earns the old fee (100 ppm)");
	rec_free(&rec);
}

/* Volume b1 and b2 forward from s to r when b1 charges @ppm1. */
static void elasticity_case(uint32_t ppm1, uint64_t *v1, uint64_t *v2)
{
	struct net *net = net_new(5, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 1, 0);
	uint32_t b1 = add_node(net, "b1", false, 0, 0);
	uint32_t b2 = add_node(net, "b2", false, 0, 0);
	uint32_t r = add_node(net, "r", false, 0, 1);
	struct net_channel *c1, *c2;
	struct evq q;
	struct payments *p;

	add_chan(net, s, b1, 50000000, 50000000, 0, 0);
	add_chan(net, s, b2, 50000000, 50000000, 0, 0);
	c1 = add_chan(net, b1, r, 50000000, 50000000, ppm1, 0);
	c2 = add_chan(net, b2, r, 50000000, 50000000, 100, 0);
	p = new_engine(net, &q, NULL, 5, NULL);
	payments_start(p, T0_MS, T0_MS + 2 * DAY_MS);
	run_until(net, &q, p, UINT64_MAX);
	*v1 = c1->out_fulfilled_msat[side_of(c1, b1)];
	*v2 = c2->out_fulfilled_msat[side_of(c2, b2)];
	payments_free(p);
	evq_free(&q);
	net_free(net);
}

static void test_elasticity(void)
{
	uint64_t a1, a2, h1, h2;

	elasticity_case(100, &a1, &a2);
	elasticity_case(1000, &h1, &h2);
	printf("# equal fees: b1 %" PRIu64 " b2 %" PRIu64
	       " msat; b1 at 10x: b1 %" PRIu64 " b2 %" PRIu64 "\n",
	       a1, a2, h1, h2);
	CHECK(a1 > 0 && a2 > 0 && a1 < 3 * a2 && a2 < 3 * a1,
	      "equal fees: both routes carry a share");
	CHECK(h1 * 4 < a1, "b1 at 10x the fee loses most of its volume");
	CHECK(h2 > a2 + a1 / 2, "b2 gains what b1 lost");
}

/* s pays r 1.5M sat over s-b1-r and s-b2-r, all 1M sat channels; b2 has
 * @b2_sat toward r. */
static void mpp_case(uint64_t b2_sat, struct rec *rec, struct net **netp,
		     struct net_channel **c)
{
	struct net *net = net_new(2, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 0, 0);
	uint32_t b1 = add_node(net, "b1", true, 0, 0);
	uint32_t b2 = add_node(net, "b2", false, 0, 0);
	uint32_t r = add_node(net, "r", false, 0, 0);
	struct evq q;
	struct payments *p;

	c[0] = add_chan(net, s, b1, 1000000, 1000000, 0, 0);
	c[1] = add_chan(net, s, b2, 1000000, 1000000, 0, 0);
	c[2] = add_chan(net, b1, r, 1000000, 1000000, 10, 0);
	c[3] = add_chan(net, b2, r, 1000000, b2_sat, 10, 0);
	p = new_engine(net, &q, NULL, 2, rec);
	payments_inject(p, T0_MS + 1000, s, r, 1500000000, SENDER_LND);
	run_until(net, &q, p, UINT64_MAX);
	payments_free(p);
	evq_free(&q);
	*netp = net;
}

static void test_mpp(void)
{
	struct net_channel *c[4];
	struct rec rec = {0};
	struct net *net;
	uint32_t r = 3, b1 = 1;
	bool same = true;

	mpp_case(1000000, &rec, &net, c);
	CHECK(rec.nres == 1 && rec.res[0].succeeded,
	      "1.5M sat over two 1M channels succeeds");
	CHECK_EQ_INT(rec.nres ? rec.res[0].parts : 0, 2, "in two parts");
	CHECK_EQ_INT(c[2]->balance_msat[side_of(c[2], r)] +
			     c[3]->balance_msat[side_of(c[3], r)],
		     1500000000, "the receiver got exactly the amount");
	net_free(net);
	rec_free(&rec);

	/* All or nothing: b2 cannot pass enough on, so the parts already
	 * held at the receiver must fail back too. */
	mpp_case(100000, &rec, &net, c);
	CHECK(rec.nres == 1 && !rec.res[0].succeeded,
	      "the amount cannot all arrive: the payment fails");
	CHECK(rec.nres == 1 && rec.res[0].attempts > 2,
	      "after several attempts (%u)", rec.nres ? rec.res[0].attempts : 0);
	for (int i = 0; i < 4; i++)
		same &= c[i]->balance_msat[0] + c[i]->balance_msat[1] ==
				c[i]->capacity_sat * 1000 &&
			!c[i]->htlcs_out[0] && !c[i]->htlcs_out[1];
	same &= c[0]->balance_msat[side_of(c[0], 0)] == 1000000000 &&
		c[1]->balance_msat[side_of(c[1], 0)] == 1000000000 &&
		c[3]->balance_msat[side_of(c[3], r)] == 900000000;
	CHECK(same, "no part settled: every balance as before, no HTLC left");
	{
		const struct net_node *n = &net->nodes[b1];
		size_t held_failed = 0;
		for (size_t i = 0; i < n->fwds.n; i++)
			held_failed += n->fwds.v[i].status == FWD_FAILED &&
				       n->fwds.v[i].out_msat >= 100000000;
		CHECK(held_failed >= 1,
		      "b1's forward of a held part is failed (%zu)",
		      held_failed);
		CHECK_EQ_INT(count_fwds(n, FWD_SETTLED, 0), 0,
			     "b1 settled nothing");
	}
	net_free(net);
	rec_free(&rec);
}

static void test_fwdlog_records(void)
{
	struct net *net = net_new(4, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 0, 0);
	uint32_t a = add_node(net, "a", true, 0, 0);
	uint32_t b = add_node(net, "b", true, 0, 0);
	uint32_t r = add_node(net, "r", false, 0, 0);
	struct net_channel *ab, *br;
	struct rec rec = {0};
	struct evq q;
	struct payments *p;
	const struct fwd *fa, *fb;

	add_chan(net, s, a, 2000000, 2000000, 0, 0);
	ab = add_chan(net, a, b, 2000000, 2000000, 50, 0);
	/* b has nothing to send to r. */
	br = add_chan(net, b, r, 2000000, 0, 50, 0);
	/* One attempt: no splitting into smaller parts after it fails. */
	p = new_engine(net, &q, "{\"mpp\": false}", 4, &rec);
	payments_inject(p, T0_MS + 500, s, r, 50000000, SENDER_CLN_PAY);
	run_until(net, &q, p, UINT64_MAX);
	CHECK(rec.nres == 1 && !rec.res[0].succeeded, "payment fails");
	CHECK_EQ_INT(net->nodes[a].fwds.n, 1, "a has one forward");
	CHECK_EQ_INT(net->nodes[b].fwds.n, 1, "b has one forward");
	fa = net->nodes[a].fwds.n ? &net->nodes[a].fwds.v[0] : NULL;
	fb = net->nodes[b].fwds.n ? &net->nodes[b].fwds.v[0] : NULL;
	if (fa && fb) {
		CHECK_EQ_STR(fwd_status_name(fa->status), "failed",
			     "a: failed downstream");
		CHECK_EQ_INT(fa->failcode, 0, "a: no local failcode");
		CHECK_EQ_INT(fa->created_index, 1, "a: created_index 1");
		CHECK_EQ_INT(fa->updated_index, 1, "a: updated once");
		CHECK_EQ_INT(fa->out_chan, ab->idx, "a: out channel a-b");
		CHECK(fa->resolved_ms > fa->received_ms,
		      "a: resolved after it was received");
		CHECK_EQ_INT(fa->fee_msat, 50000000 / 1000000 * 50,
			     "a: fee is in - out");
		CHECK_EQ_STR(fwd_status_name(fb->status), "local_failed",
			     "b: failed at its own outgoing channel");
		CHECK_EQ_INT(fb->failcode, 0x1007,
			     "b: temporary_channel_failure");
		CHECK_EQ_INT(fb->out_chan, br->idx, "b: the channel it tried");
		CHECK_EQ_INT(fb->updated_index, 0,
			     "b: stored final, never updated");
	}
	/* Hooks: a created (offered) then resolved; b once. */
	{
		size_t na = 0, nb = 0;
		bool order = true;
		for (size_t i = 0; i < rec.nfwds; i++) {
			if (rec.fwds[i].node == a) {
				order &= rec.fwds[i].f.status ==
					 (na == 0 ? FWD_OFFERED : FWD_FAILED);
				na++;
			}
			nb += rec.fwds[i].node == b;
		}
		CHECK_EQ_INT(na, 2, "a: forward_event offered and failed");
		CHECK(order, "a: offered first, then failed");
		CHECK_EQ_INT(nb, 1, "b: one forward_event (local_failed)");
	}
	payments_free(p);
	evq_free(&q);
	rec_free(&rec);

	/* Now b has liquidity: a run of payments gives ordered indexes. */
	br->balance_msat[side_of(br, b)] = 2000000000;
	br->balance_msat[side_of(br, r)] = 0;
	p = new_engine(net, &q, NULL, 4, &rec);
	for (int i = 0; i < 10; i++)
		payments_inject(p, T0_MS + 10000 + (uint64_t)i * 150, s, r,
				10000000, SENDER_LND);
	run_until(net, &q, p, UINT64_MAX);
	{
		const struct fwdlog *l = &net->nodes[a].fwds;
		bool created = true, updated = true;
		uint64_t prev = 1; /* the first payment's failure took 1 */
		size_t settled = 0;
		for (size_t i = 0; i < l->n; i++) {
			created &= l->v[i].created_index == i + 1;
			settled += l->v[i].status == FWD_SETTLED;
		}
		/* updated_index is bumped in order of resolution. */
		for (size_t i = 0; i < rec.nfwds; i++)
			if (rec.fwds[i].node == a &&
			    rec.fwds[i].f.status != FWD_OFFERED) {
				updated &= rec.fwds[i].f.updated_index ==
					   prev + 1;
				prev = rec.fwds[i].f.updated_index;
			}
		CHECK_EQ_INT(l->n, 11, "a: ten more forwards");
		CHECK_EQ_INT(settled, 10, "a: ten settled");
		CHECK(created, "a: created_index 1, 2, 3, ...");
		CHECK(updated, "a: updated_index strictly one more each time");
	}
	payments_free(p);
	evq_free(&q);
	net_free(net);
	rec_free(&rec);
}

static void test_sendpay_circular(void)
{
	struct net *net = net_new(9, T0_SEC, 900000);
	uint32_t f = add_node(net, "f", true, 0, 0);
	uint32_t a = add_node(net, "a", true, 0, 0);
	uint32_t b = add_node(net, "b", false, 0, 0);
	struct net_channel *fa = add_chan(net, f, a, 2000000, 2000000, 0, 0);
	struct net_channel *ab = add_chan(net, a, b, 2000000, 2000000, 300, 0);
	struct net_channel *bf = add_chan(net, b, f, 2000000, 2000000, 700, 0);
	struct sendpay_result res;
	struct pay_hop hops[3];
	uint8_t hash[32] = {1, 2, 3};
	uint64_t fee_b, fee_a, fa_before, bf_before;
	struct rec rec = {0};
	struct evq q;
	struct payments *p = new_engine(net, &q, NULL, 9, &rec);
	char *err = NULL;
	bool ok;

	ab->pol[side_of(ab, a)].base_msat = 1000;
	/* 100k sat circular: b charges 700 ppm, a 1000 msat + 300 ppm. */
	fee_b = 100000000ULL * 700 / 1000000;
	fee_a = 1000 + (100000000ULL + fee_b) * 300 / 1000000;
	hops[2] = (struct pay_hop){bf->idx, f, 100000000ULL, 9};
	hops[1] = (struct pay_hop){ab->idx, b, 100000000ULL + fee_b, 49};
	hops[0] = (struct pay_hop){fa->idx, a, 100000000ULL + fee_b + fee_a,
				   89};
	fa_before = fa->balance_msat[side_of(fa, f)];
	bf_before = bf->balance_msat[side_of(bf, f)];
	ok = payments_sendpay_now(p, f, hops, 3, hash, &res, &err);
	CHECK(ok && res.status == SENDPAY_COMPLETE, "circular route completes");
	CHECK_EQ_INT(res.fee_msat, fee_a + fee_b, "fee = what a and b charge");
	CHECK_EQ_INT(fa->balance_msat[side_of(fa, f)],
		     fa_before - hops[0].amount_msat,
		     "f's outgoing side paid amount + fees");
	CHECK_EQ_INT(bf->balance_msat[side_of(bf, f)],
		     bf_before + 100000000ULL, "f's incoming side got 100k sat");
	CHECK_EQ_INT(net->nodes[f].rebalance_fees_paid_msat, fee_a + fee_b,
		     "rebalance fees charged to f");
	CHECK_EQ_INT(net->nodes[a].fees_earned_msat, fee_a, "a earned its fee");
	CHECK_EQ_INT(net->nodes[b].fees_earned_msat, fee_b, "b earned its fee");
	CHECK(net->nodes[a].fwds.n == 1 &&
		      net->nodes[a].fwds.v[0].status == FWD_SETTLED &&
		      net->nodes[a].fwds.v[0].fee_msat == fee_a &&
		      !memcmp(net->nodes[a].fwds.v[0].payment_hash, hash, 32),
	      "a (fleet) records the settled forward with its fee");
	CHECK_EQ_INT(rec.nfwds, 2, "forward_event: offered and settled");

	/* Too little fee for a: fee_insufficient reported by a. */
	fa_before = fa->balance_msat[side_of(fa, f)];
	hops[0].amount_msat = hops[1].amount_msat + 10;
	ok = payments_sendpay_now(p, f, hops, 3, hash, &res, &err);
	CHECK(ok && res.status == SENDPAY_FAILED, "underpaid route fails");
	CHECK_EQ_INT(res.erring_index, 1, "erring_index 1 (a)");
	CHECK_EQ_INT(res.erring_node, a, "erring node a");
	CHECK_EQ_INT(res.erring_chan, ab->idx, "erring channel a-b");
	CHECK_EQ_INT(res.failcode, 0x100C, "fee_insufficient");
	CHECK_EQ_STR(res.failcodename, "WIRE_FEE_INSUFFICIENT", "failcode name");
	CHECK_EQ_INT(fa->balance_msat[side_of(fa, f)], fa_before,
		     "failed: balances unchanged");
	CHECK_EQ_INT(fa->htlcs_out[side_of(fa, f)], 0, "failed: HTLC released");
	CHECK_EQ_STR(fwd_status_name(net->nodes[a].fwds.v[1].status),
		     "local_failed", "a records local_failed");

	/* More than f can send: fails at f itself. */
	hops[0].amount_msat = 5000000000ULL;
	ok = payments_sendpay_now(p, f, hops, 3, hash, &res, &err);
	CHECK(ok && res.status == SENDPAY_FAILED && res.erring_index == 0 &&
		      res.erring_node == f && res.failcode == 0x1007,
	      "over f's balance: temporary_channel_failure at hop 0");

	/* Malformed: the second hop does not start where the first ends. */
	hops[1].chan = bf->idx;
	ok = payments_sendpay_now(p, f, hops, 3, hash, &res, &err);
	CHECK(!ok && err, "disconnected route refused: %s", err ? err : "");
	free(err);
	payments_free(p);
	evq_free(&q);
	net_free(net);
	rec_free(&rec);
}

static void test_getroute(void)
{
	struct net *net = net_new(6, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 0, 0);
	uint32_t x = add_node(net, "x", false, 0, 0);
	uint32_t y = add_node(net, "y", false, 0, 0);
	uint32_t t = add_node(net, "t", false, 0, 0);
	struct net_channel *sx = add_chan(net, s, x, 1000000, 500000, 0, 0);
	struct net_channel *xt = add_chan(net, x, t, 1000000, 500000, 100, 0);
	struct net_channel *sy = add_chan(net, s, y, 1000000, 500000, 0, 0);
	struct net_channel *yt = add_chan(net, y, t, 1000000, 500000, 500, 0);
	struct pay_hop hops[20];
	struct evq q;
	struct payments *p = new_engine(net, &q, NULL, 6, NULL);
	uint32_t ex[1];
	size_t n;

	xt->pol[side_of(xt, x)].cltv_delta = 40;
	n = payments_getroute(p, s, t, 10000000, 10, NULL, 0, hops);
	CHECK_EQ_INT(n, 2, "two hops");
	CHECK(n == 2 && hops[0].chan == sx->idx && hops[1].chan == xt->idx,
	      "the cheaper route via x");
	CHECK(n == 2 && hops[1].amount_msat == 10000000 &&
		      hops[0].amount_msat == 10000000 + 1000,
	      "amounts include x's fee");
	CHECK(n == 2 && hops[1].delay == 9 && hops[0].delay == 49,
	      "delays: final 9, plus x's cltv delta");
	CHECK(n == 2 && hops[0].to_node == x && hops[1].to_node == t,
	      "to_node along the route");
	ex[0] = xt->idx;
	n = payments_getroute(p, s, t, 10000000, 10, ex, 1, hops);
	CHECK(n == 2 && hops[0].chan == sy->idx && hops[1].chan == yt->idx,
	      "x-t excluded: via y");
	n = payments_getroute(p, s, t, 2000000000ULL, 10, NULL, 0, hops);
	CHECK_EQ_INT(n, 0, "above every capacity: no route");
	payments_free(p);
	evq_free(&q);
	net_free(net);
}

static void test_stats_reset(void)
{
	struct net *net = gen_net(8);
	struct evq q;
	struct payments *p = new_engine(net, &q, NULL, 8, NULL);
	struct pay_stats all, late;
	uint64_t bsum = 0;

	payments_start(p, T0_MS, T0_MS + 2 * DAY_MS);
	run_until(net, &q, p, T0_MS + DAY_MS);
	payments_stats(p, &all);
	payments_reset_stats(p, T0_MS + DAY_MS);
	run_until(net, &q, p, UINT64_MAX);
	payments_stats(p, &late);
	for (int b = 0; b < PAY_BUCKETS; b++)
		bsum += late.bucket_attempted[b];
	CHECK(all.payments_attempted > 100 && late.payments_attempted > 100,
	      "payments before and after the reset");
	CHECK(late.payments_attempted < all.payments_attempted * 2,
	      "after the reset only the second day counts");
	CHECK_EQ_INT(bsum, late.payments_attempted, "buckets add up");
	CHECK(late.payments_succeeded <= late.payments_attempted &&
		      late.first_try_succeeded <= late.payments_succeeded,
	      "first-try <= succeeded <= attempted");
	payments_free(p);
	evq_free(&q);
	net_free(net);
}

int main(void)
{
	if (!keys_init())
		return 1;
	test_bad_json();
	test_bad_generate();
	test_determinism();
	test_demand_independence();
	test_conservation();
	test_htlc_slots();
	test_stale_gossip();
	test_elasticity();
	test_mpp();
	test_fwdlog_records();
	test_sendpay_circular();
	test_getroute();
	test_stats_reset();
	keys_cleanup();
	return check_done();
}
