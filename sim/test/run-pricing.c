/* Unit tests for the simulator's own fee policies (sim/pricing.c) and the
 * fee sensitivity of senders: configuration errors that name the field,
 * which competitors take part, charge-lnd's proportional rule and revenue
 * hill-climbing step by step, the market median toward a peer, the
 * baselines a fleet node can be put under, and the direction of the
 * market's answer: a fee above a cheaper competitor's loses share, more
 * so when senders weigh fees more. Small hand-built networks, fixed
 * seeds. */
#include "common/util.h"
#include "sim/evq.h"
#include "sim/gen.h"
#include "sim/keys.h"
#include "sim/net.h"
#include "sim/payments.h"
#include "sim/pricing.h"
#include "sim/test/testnet.h"
#include "tests/check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t ppm_of(const struct net_channel *ch, uint32_t node)
{
	return ch->pol[net_channel_side(ch, node)].ppm;
}

static struct pricing *new_pricing(struct net *net, struct evq *q,
				   const char *json, double share, uint64_t seed)
{
	json_t *j = json ? json_loads(json, 0, NULL) : NULL;
	char *err = NULL;
	struct pricing *pr = pricing_new(net, q, j, share, seed, &err);

	json_decref(j);
	if (!pr) {
		printf("# pricing_new: %s\n", err);
		free(err);
		abort();
	}
	return pr;
}

/* Pop and handle pricing events up to @until_ms. */
static void run_until(struct net *net, struct evq *q, struct pricing *pr,
		      uint64_t until_ms)
{
	struct event ev;

	while (evq_next_ms(q) <= until_ms && evq_pop(q, &ev)) {
		net->now_sec = ev.at_ms / 1000;
		if (!pricing_handle(pr, &ev))
			printf("# unexpected event type %d\n", ev.type);
	}
	net->now_sec = until_ms / 1000;
}

static void test_names(void)
{
	static const char *const names[] = {"stock", "market-median",
					    "balance-proportional", "oracle"};
	enum baseline_kind k;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		CHECK(baseline_parse(names[i], &k), "'%s' is a baseline",
		      names[i]);
		CHECK_EQ_STR(baseline_name(k), names[i], "%s round-trips",
			     names[i]);
	}
	CHECK(!baseline_parse("median", &k), "'median' is not a baseline");
	CHECK(!baseline_parse("fixed", &k),
	      "'fixed' (the oracle's internal runs) is not offered");
	CHECK(!baseline_parse("", &k), "the empty name is not a baseline");
}

static void test_bad_config(void)
{
	static const struct {
		const char *json;
		double share;
		const char *want;
	} cases[] = {
		{"{\"share\": 1.5}", -1,
		 "competitors.share: must be a number in [0, 1]"},
		{"{\"share\": -0.1}", -1,
		 "competitors.share: must be a number in [0, 1]"},
		{"{\"share\": 0.5}", 1.5,
		 "competitors.share: must be a number in [0, 1], not 1.5"},
		{"{\"shares\": 0.5}", -1,
		 "competitors.shares: unknown field (a typo?)"},
		{"{\"mix\": {\"undercut\": 1}}", -1,
		 "competitors.mix.undercut: unknown name (one of proportional, "
		 "hill_climb)"},
		{"{\"proportional_min\": 2, \"proportional_max\": 1}", -1,
		 "competitors.proportional_max: must be at least "
		 "proportional_min (2)"},
		{"{\"hill_step\": 0}", -1,
		 "competitors.hill_step: must be a number in (0, 1]"},
		{"[1]", -1, "competitors: must be an object"},
	};
	struct net *net = net_new(1, T0_SEC, 900000);
	struct evq q;

	evq_init(&q);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		char *err = NULL;
		struct pricing *pr = pricing_new(net, &q, j, cases[i].share, 1,
						 &err);
		CHECK(!pr, "%s refused", cases[i].json);
		CHECK_EQ_STR(err, cases[i].want, "%s: the error names the field",
			     cases[i].json);
		pricing_free(pr);
		free(err);
		json_decref(j);
	}
	{
		json_t *j = json_loads("{\"proportional_min\": 2, "
				       "\"proportional_max\": 1}",
				       0, NULL);
		struct baseline_cfg bc;
		char *err = NULL;
		CHECK(!baseline_cfg_parse(j, &bc, &err),
		      "baselines with min above max refused");
		CHECK_EQ_STR(err,
			     "baselines.proportional_max: must be at least "
			     "proportional_min (2)",
			     "the baselines error names the field");
		free(err);
		json_decref(j);
		CHECK(baseline_cfg_parse(NULL, &bc, &err) &&
			      bc.prop_min == 0.5 && bc.prop_max == 1.5 &&
			      bc.prop_hours == 4,
		      "baselines default to 0.5x..1.5x the market every 4 h");
	}
	evq_free(&q);
	net_free(net);
}

static void test_selection(void)
{
	struct net *net = net_new(5, T0_SEC, 900000);
	json_t *g = json_pack("{s:i}", "nodes", 60);
	char *err = NULL;
	size_t routing = 0, nodes[3], dirs[3];
	const double shares[3] = {0, 0.5, 1};

	if (!gen_expand(net, g, 5, NULL, &err))
		abort();
	json_decref(g);
	for (size_t i = 0; i < net->nnodes; i++) {
		bool priceable = false;
		const struct net_node *n = &net->nodes[i];
		for (size_t k = 0; k < n->nchans; k++) {
			const struct net_channel *ch = &net->chans[n->chans[k]];
			uint32_t p = ppm_of(ch, (uint32_t)i);
			priceable |= p > 0 && p < 5000;
		}
		routing += n->nchans >= 2 && priceable;
	}
	for (int k = 0; k < 3; k++) {
		struct evq q;
		struct pricing *pr;
		evq_init(&q);
		pr = new_pricing(net, &q, NULL, shares[k], 9);
		pricing_counts(pr, &nodes[k], &dirs[k]);
		pricing_free(pr);
		evq_free(&q);
	}
	printf("# %zu routing nodes; share 0: %zu, 0.5: %zu, 1: %zu\n",
	       routing, nodes[0], nodes[1], nodes[2]);
	CHECK(nodes[0] == 0 && dirs[0] == 0, "share 0: nobody reacts");
	CHECK_EQ_INT(nodes[2], routing,
		     "share 1: every routing node with a fee to tune");
	CHECK(nodes[1] > routing * 3 / 10 && nodes[1] < routing * 7 / 10,
	      "share 0.5: about half of them (%zu of %zu)", nodes[1], routing);
	{
		struct evq q;
		struct pricing *a, *b;
		size_t na, nb, da, db;
		evq_init(&q);
		a = new_pricing(net, &q, "{\"share\": 0.5}", -1, 9);
		b = new_pricing(net, &q, "{\"share\": 0.2}", 0.5, 9);
		pricing_counts(a, &na, &da);
		pricing_counts(b, &nb, &db);
		CHECK(na == nodes[1] && nb == na && db == da,
		      "the same seed picks the same nodes; the override "
		      "replaces the scenario's share");
		pricing_free(a);
		pricing_free(b);
		evq_free(&q);
	}
	net_free(net);
}

/* A line a - x - b at T0, balanced: x routes between a and b and is the
 * only node with a fee to tune; its channel toward b (*@xb) starts at
 * @xb_ppm. Returns x. */
static uint32_t line_net(struct net **netp, uint32_t xb_ppm,
			 struct net_channel **xb)
{
	struct net *net = net_new(2, T0_SEC, 900000);
	uint32_t a = add_node(net, "a", false, 1, 1);
	uint32_t x = add_node(net, "x", false, 1, 1);
	uint32_t b = add_node(net, "b", false, 1, 1);

	add_chan(net, a, x, 1000000, 500000, 0, 100);
	*xb = add_chan(net, x, b, 1000000, 500000, xb_ppm, 0);
	net->now_sec = T0_SEC;
	*netp = net;
	return x;
}

/* x's channel toward b starts at 100 ppm. */
static void proportional_case(double local_share, uint32_t want_ppm)
{
	struct net *net;
	struct net_channel *xb;
	uint32_t x = line_net(&net, 100, &xb);
	struct pricing *pr;
	struct evq q;

	evq_init(&q);
	pr = new_pricing(net, &q,
			 "{\"share\": 1, \"mix\": {\"proportional\": 1}, "
			 "\"proportional_hours\": 1}",
			 -1, 3);
	pricing_start(pr, T0_MS);
	/* Drain (or fill) x's side toward b. */
	{
		int s = net_channel_side(xb, x);
		uint64_t total = xb->balance_msat[0] + xb->balance_msat[1];
		xb->balance_msat[s] = (uint64_t)(local_share * (double)total);
		xb->balance_msat[1 - s] = total - xb->balance_msat[s];
	}
	run_until(net, &q, pr, T0_MS + HOUR_MS);
	CHECK_EQ_INT(ppm_of(xb, x), want_ppm,
		     "local share %.2f: 100 x (0.5 + (1 - %.2f)) ppm", local_share,
		     local_share);
	CHECK_EQ_INT(net->nodes[x].fee_updates, want_ppm != 100,
		     "local share %.2f: one fee update when it changed",
		     local_share);
	if (want_ppm != 100) {
		const struct chan_policy *pol = &xb->pol[net_channel_side(xb, x)];
		CHECK(pol->seen_ppm == 100 &&
			      pol->gossip_at_sec > pol->last_update_sec,
		      "senders see the new fee only after the gossip delay");
		net->now_sec = pol->gossip_at_sec;
		net_apply_gossip(net);
		CHECK_EQ_INT(pol->seen_ppm, want_ppm,
			     "... and then they do");
	}
	pricing_free(pr);
	evq_free(&q);
	net_free(net);
}

static void test_proportional(void)
{
	proportional_case(0.2, 130);
	proportional_case(0.5, 100);
	proportional_case(1.0, 50);
	proportional_case(0.0, 150);
}

static void test_hill_climb(void)
{
	struct net *net;
	struct net_channel *xb;
	uint32_t x = line_net(&net, 200, &xb);
	struct pricing *pr;
	struct evq q;
	uint32_t p0, p1, p2, p3, p4;
	int s = net_channel_side(xb, x), d0;

	evq_init(&q);
	pr = new_pricing(net, &q,
			 "{\"share\": 1, \"mix\": {\"hill_climb\": 1}, "
			 "\"hill_hours\": 1, \"hill_step\": 0.1, "
			 "\"hill_range\": 1.5}",
			 -1, 4);
	pricing_start(pr, T0_MS);
	p0 = ppm_of(xb, x);
	xb->fee_out_msat[s] += 500000;
	run_until(net, &q, pr, T0_MS + HOUR_MS);
	p1 = ppm_of(xb, x);
	CHECK(p1 == 220 || p1 == 180, "first period: a 10%% step (%u -> %u)",
	      p0, p1);
	d0 = p1 > p0 ? 1 : -1;
	xb->fee_out_msat[s] += 800000; /* revenue rose: keep going */
	run_until(net, &q, pr, T0_MS + 2 * HOUR_MS);
	p2 = ppm_of(xb, x);
	CHECK((p2 > p1 ? 1 : -1) == d0,
	      "revenue rose: the same direction (%u -> %u)", p1, p2);
	xb->fee_out_msat[s] += 100000; /* revenue fell: turn round */
	run_until(net, &q, pr, T0_MS + 3 * HOUR_MS);
	p3 = ppm_of(xb, x);
	CHECK((p3 > p2 ? 1 : -1) == -d0,
	      "revenue fell: the other direction (%u -> %u)", p2, p3);
	/* Nothing routes for two periods: cheaper, down to the range. */
	for (int h = 4; h < 40; h++)
		run_until(net, &q, pr, T0_MS + (uint64_t)h * HOUR_MS);
	p4 = ppm_of(xb, x);
	CHECK_EQ_INT(p4, 133, "idle: down to initial / range (200 / 1.5)");
	pricing_free(pr);
	evq_free(&q);
	net_free(net);
}

static void test_market_median(void)
{
	struct net *net = net_new(3, T0_SEC, 900000);
	uint32_t f = add_node(net, "f", true, 1, 1);
	uint32_t g = add_node(net, "g", true, 1, 1);
	uint32_t x = add_node(net, "x", false, 1, 1);
	uint32_t z1 = add_node(net, "z1", false, 1, 1);
	uint32_t z2 = add_node(net, "z2", false, 1, 1);
	uint32_t z3 = add_node(net, "z3", false, 1, 1);
	uint32_t lone = add_node(net, "lone", false, 1, 1);
	struct net_channel *fx, *fl, *z3x;
	uint32_t ppm[2];

	fx = add_chan(net, f, x, 1000000, 500000, 70, 1);
	add_chan(net, g, x, 1000000, 500000, 5, 1);   /* fleet: not a quote */
	add_chan(net, z1, x, 1000000, 500000, 10, 1);
	add_chan(net, z2, x, 1000000, 500000, 30, 1);
	z3x = add_chan(net, z3, x, 1000000, 500000, 1000, 1);
	fl = add_chan(net, f, lone, 1000000, 500000, 70, 2);
	CHECK_EQ_INT(pricing_market_median_ppm(net, fx->idx, f), 30,
		     "toward x: the median of 10, 30 and 1000 (the fleet's "
		     "own channel left out)");
	z3x->pol[net_channel_side(z3x, z3)].enabled = false;
	CHECK_EQ_INT(pricing_market_median_ppm(net, fx->idx, f), 10,
		     "a disabled channel is no quote (lower median of 10, 30)");
	CHECK_EQ_INT(pricing_market_median_ppm(net, fl->idx, f), 1,
		     "a peer only we reach: the network's median");
	{
		struct evq q;
		struct pricing *pr;
		struct baseline_cfg bc = {0.5, 1.5, 4};
		evq_init(&q);
		net->now_sec = T0_SEC;
		pr = new_pricing(net, &q, NULL, -1, 1);
		pricing_set_baseline(pr, f, BASELINE_MARKET_MEDIAN, &bc, NULL);
		CHECK(ppm_of(fx, f) == 10 && ppm_of(fl, f) == 1,
		      "market-median sets each channel to its median");
		CHECK_EQ_INT(evq_next_ms(&q), UINT64_MAX,
			     "market-median is set once: nothing scheduled");
		ppm[0] = 444;
		ppm[1] = 555;
		pricing_set_baseline(pr, f, BASELINE_FIXED, &bc, ppm);
		CHECK(ppm_of(fx, f) == 444 && ppm_of(fl, f) == 555,
		      "fixed takes one fee per channel, in the node's order");
		pricing_set_baseline(pr, f, BASELINE_STOCK, &bc, NULL);
		CHECK(ppm_of(fx, f) == 444, "stock changes nothing");
		pricing_start(pr, T0_MS);
		pricing_set_baseline(pr, f, BASELINE_PROPORTIONAL, &bc, NULL);
		CHECK_EQ_INT(ppm_of(fx, f), 10,
			     "balance-proportional at a balanced channel: the "
			     "median");
		CHECK_EQ_INT(evq_next_ms(&q) <= T0_MS + 4 * HOUR_MS, 1,
			     "balance-proportional runs again within 4 h");
		pricing_free(pr);
		evq_free(&q);
	}
	net_free(net);
}

/* s pays r, and r pays s, over s-f-r (f: the fleet node at @f_ppm) or
 * the longer s-c-d-r (c and d at 50 ppm each); returns f's share of the
 * volume forwarded. */
static double share_case(uint32_t f_ppm, const char *sensitivity)
{
	struct net *net = net_new(7, T0_SEC, 900000);
	uint32_t s = add_node(net, "s", false, 1, 1);
	uint32_t r = add_node(net, "r", false, 1, 1);
	uint32_t f = add_node(net, "f", true, 0, 0);
	uint32_t c = add_node(net, "c", false, 0, 0);
	uint32_t d = add_node(net, "d", false, 0, 0);
	char *traffic = xfmt("{\"fee_sensitivity\": \"%s\", "
			     "\"capacity_multiplier\": 2}",
			     sensitivity);
	json_t *t = json_loads(traffic, 0, NULL);
	struct payments *p;
	struct evq q;
	struct event ev;
	char *err = NULL;
	double vf, vc;

	add_chan(net, s, f, 5000000, 2500000, 0, f_ppm);
	add_chan(net, f, r, 5000000, 2500000, f_ppm, 0);
	add_chan(net, s, c, 5000000, 2500000, 0, 50);
	add_chan(net, c, d, 5000000, 2500000, 50, 50);
	add_chan(net, d, r, 5000000, 2500000, 50, 0);
	evq_init(&q);
	p = payments_new(net, &q, t, 7, NULL, NULL, &err);
	if (!p)
		abort();
	payments_start(p, T0_MS, T0_MS + 2 * DAY_MS);
	while (evq_pop(&q, &ev)) {
		net->now_sec = ev.at_ms / 1000;
		payments_handle(p, &ev);
	}
	vf = (double)net->nodes[f].forwarded_msat;
	/* A payment over c-d is forwarded twice; count it once. */
	vc = (double)net->nodes[c].forwarded_msat;
	payments_free(p);
	evq_free(&q);
	net_free(net);
	json_decref(t);
	free(traffic);
	return vf + vc > 0 ? vf / (vf + vc) : 0;
}

static void test_share_loss(void)
{
	static const char *const sens[3] = {"low", "default", "high"};
	double sh[3][6];

	for (int k = 0; k < 6; k++) {
		uint32_t ppm = 100u << k;
		for (int i = 0; i < 3; i++)
			sh[i][k] = share_case(ppm, sens[i]);
		printf("# f at %u ppm: share low %.3f default %.3f high %.3f\n",
		       ppm, sh[0][k], sh[1][k], sh[2][k]);
	}
	for (int i = 0; i < 3; i++) {
		bool down = true;
		for (int k = 1; k < 6; k++)
			down &= sh[i][k] <= sh[i][k - 1] + 0.02;
		CHECK(down && sh[i][5] < sh[i][0] / 4,
		      "%s: a higher fee loses share to the cheaper route",
		      sens[i]);
	}
	CHECK(sh[0][0] > 0.7 && sh[1][0] > 0.7 && sh[2][0] > 0.7,
	      "at the same total fee the shorter route carries most");
	CHECK(sh[0][2] > 0.5 && sh[1][2] < 0.3 && sh[2][2] < 0.05,
	      "at 4x: low sensitivity keeps most, default and high lose it");
	CHECK(sh[0][2] > sh[1][2] && sh[1][2] > sh[2][2],
	      "the more senders weigh fees, the more share a high fee loses");
}

int main(void)
{
	if (!keys_init())
		return 1;
	test_names();
	test_bad_config();
	test_selection();
	test_proportional();
	test_hill_climb();
	test_market_median();
	test_share_loss();
	keys_cleanup();
	return check_done();
}
