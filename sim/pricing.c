/* Competitors' and baselines' fee policies; see pricing.h. */
#include "sim/pricing.h"
#include "common/rng.h"
#include "common/util.h"
#include "sim/evq.h"
#include "sim/net.h"
#include "sim/pay_cfg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	EV_TICK = PRICING_EVENT_BASE, /* a = agent index */
};

enum rule {
	RULE_PROPORTIONAL,
	RULE_HILL_CLIMB,
	RULE_N,
};

static const char *const rule_names[RULE_N] = {"proportional", "hill_climb"};

/* Fees at or above this are blocks, not prices: nobody tunes them. */
#define BLOCKING_PPM 5000

/* One priced direction of a channel. */
struct priced {
	uint32_t chan;
	uint8_t side;
	uint32_t anchor_ppm;	/* the price the rule is centred on */
	uint32_t min_ppm, max_ppm;
	/* Hill climbing. */
	uint64_t fee_seen_msat; /* fee_out_msat at the last run */
	double last_rev_msat;	/* revenue of the last period; < 0: none */
	int dir;		/* +1 or -1 */
};

/* A node running one rule over some of its channels. */
struct agent {
	uint32_t node;
	enum rule rule;
	uint64_t period_ms, phase_ms;
	double lo, hi;		/* proportional factors */
	double step;		/* hill climbing */
	size_t first, n;	/* entries in pricing.v */
};

struct pricing {
	struct net *net;
	struct evq *q;
	struct rng rng;		/* selection, phases, gossip delays */
	struct priced *v;
	size_t nv, capv;
	struct agent *agents;
	size_t nagents, capagents;
	size_t ncompetitors;
	bool started;
};

struct comp_cfg {
	double share;
	double mix[RULE_N];
	double prop_min, prop_max, prop_hours;
	double hill_step, hill_hours, hill_range;
};

const char *baseline_name(enum baseline_kind k)
{
	switch (k) {
	case BASELINE_NONE:
		return "plugins";
	case BASELINE_STOCK:
		return "stock";
	case BASELINE_MARKET_MEDIAN:
		return "market-median";
	case BASELINE_PROPORTIONAL:
		return "balance-proportional";
	case BASELINE_ORACLE:
		return "oracle";
	case BASELINE_FIXED:
		return "fixed";
	}
	return "?";
}

bool baseline_parse(const char *name, enum baseline_kind *out)
{
	static const enum baseline_kind kinds[] = {
		BASELINE_STOCK, BASELINE_MARKET_MEDIAN, BASELINE_PROPORTIONAL,
		BASELINE_ORACLE};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(name, baseline_name(kinds[i]))) {
			*out = kinds[i];
			return true;
		}
	return false;
}

/* charge-lnd's proportional rule, as competitors and the baseline both
 * take it: the fee between min and max times the market, every hours. */
static bool cfg_proportional(struct cfg *r, double *min, double *max,
			     double *hours)
{
	if (!cfg_num(r, "proportional_min", 0.5, 0, false, 100, min) ||
	    !cfg_num(r, "proportional_max", 1.5, 0, false, 100, max) ||
	    !cfg_num(r, "proportional_hours", 4, 0, true, 24 * 30, hours))
		return false;
	if (*max < *min)
		return cfg_fail(r, "proportional_max",
				"must be at least proportional_min (%g)", *min);
	return true;
}

bool baseline_cfg_parse(const json_t *baselines, struct baseline_cfg *out,
			char **err)
{
	static const char *const known[] = {
		"proportional_min", "proportional_max", "proportional_hours",
		NULL};
	struct cfg r;
	bool ok;

	/* The defaults centre the rule on the market: a balanced channel
	 * charges the median, a full one half of it, an empty one 1.5x. */
	ok = cfg_open(&r, baselines, "baselines", known) &&
	     cfg_proportional(&r, &out->prop_min, &out->prop_max,
			      &out->prop_hours);
	if (!ok)
		*err = r.err;
	return ok;
}

static bool parse_competitors(const json_t *j, double share_override,
			      struct comp_cfg *c, char **err)
{
	static const char *const known[] = {
		"share",	     "mix",	   "proportional_min",
		"proportional_max", "proportional_hours", "hill_step",
		"hill_hours",	    "hill_range", NULL};
	static const double def_mix[RULE_N] = {0.5, 0.5};
	struct cfg r;
	bool ok;

	ok = cfg_open(&r, j, "competitors", known) &&
	     cfg_num(&r, "share", 0, 0, false, 1, &c->share) &&
	     cfg_mix(&r, "mix", rule_names, RULE_N, def_mix, c->mix) &&
	     cfg_proportional(&r, &c->prop_min, &c->prop_max,
			      &c->prop_hours) &&
	     cfg_num(&r, "hill_step", 0.15, 0, true, 1, &c->hill_step) &&
	     cfg_num(&r, "hill_hours", 24, 0, true, 24 * 30,
		     &c->hill_hours) &&
	     cfg_num(&r, "hill_range", 4, 1, false, 1000, &c->hill_range);
	if (ok && share_override >= 0) {
		if (share_override > 1)
			ok = cfg_fail(&r, "share",
				      "must be a number in [0, 1], not %g",
				      share_override);
		else
			c->share = share_override;
	}
	if (!ok)
		*err = r.err;
	return ok;
}

static struct agent *add_agent(struct pricing *pr, uint32_t node,
			       enum rule rule, double hours)
{
	struct agent *a;

	xgrow(&pr->agents, &pr->capagents, pr->nagents + 1,
	      sizeof(*pr->agents));
	a = &pr->agents[pr->nagents++];
	memset(a, 0, sizeof(*a));
	a->node = node;
	a->rule = rule;
	a->period_ms = (uint64_t)(hours * 3600e3);
	if (a->period_ms < 1000)
		a->period_ms = 1000;
	a->phase_ms = rng_below(&pr->rng, a->period_ms);
	a->first = pr->nv;
	return a;
}

static struct priced *add_priced(struct pricing *pr, struct agent *a,
				 uint32_t chan, int side, uint32_t anchor)
{
	struct priced *e;

	xgrow(&pr->v, &pr->capv, pr->nv + 1, sizeof(*pr->v));
	e = &pr->v[pr->nv++];
	memset(e, 0, sizeof(*e));
	e->chan = chan;
	e->side = (uint8_t)side;
	e->anchor_ppm = anchor;
	e->min_ppm = 0;
	e->max_ppm = UINT32_MAX;
	e->last_rev_msat = -1;
	e->dir = rng_unit(&pr->rng) < 0.5 ? -1 : 1;
	e->fee_seen_msat = pr->net->chans[chan].fee_out_msat[side];
	a->n++;
	return e;
}

struct pricing *pricing_new(struct net *net, struct evq *q,
			    const json_t *competitors, double share_override,
			    uint64_t seed, char **err)
{
	struct comp_cfg c;
	struct pricing *pr;

	*err = NULL;
	if (!parse_competitors(competitors, share_override, &c, err))
		return NULL;
	pr = xzalloc(sizeof(*pr));
	pr->net = net;
	pr->q = q;
	rng_seed(&pr->rng, seed ^ 0x70726963696e67ULL); /* "pricing" */
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		double u = rng_unit(&pr->rng), w = rng_unit(&pr->rng);
		enum rule rule = w < c.mix[RULE_PROPORTIONAL]
					 ? RULE_PROPORTIONAL
					 : RULE_HILL_CLIMB;
		struct agent *a;

		/* A routing node: one that can forward (two channels). */
		if (n->fleet || n->nchans < 2 || u >= c.share)
			continue;
		a = add_agent(pr, (uint32_t)i, rule,
			      rule == RULE_PROPORTIONAL ? c.prop_hours
							: c.hill_hours);
		a->lo = c.prop_min;
		a->hi = c.prop_max;
		a->step = c.hill_step;
		for (size_t k = 0; k < n->nchans; k++) {
			const struct net_channel *ch = &net->chans[n->chans[k]];
			int s = net_channel_side(ch, (uint32_t)i);
			uint32_t ppm = ch->pol[s].ppm;
			struct priced *e;
			if (ppm == 0 || ppm >= BLOCKING_PPM)
				continue;
			e = add_priced(pr, a, n->chans[k], s, ppm);
			if (rule == RULE_HILL_CLIMB) {
				e->min_ppm = (uint32_t)fmax(
					1, floor(ppm / c.hill_range));
				e->max_ppm = (uint32_t)fmin(
					BLOCKING_PPM - 1,
					ceil(ppm * c.hill_range));
			}
		}
		if (a->n == 0)
			pr->nagents--;
		else
			pr->ncompetitors++;
	}
	return pr;
}

void pricing_free(struct pricing *pr)
{
	if (!pr)
		return;
	free(pr->v);
	free(pr->agents);
	free(pr);
}

static void schedule(struct pricing *pr, size_t ai, uint64_t now_ms)
{
	const struct agent *a = &pr->agents[ai];
	/* The next run on this agent's grid of period and phase. */
	uint64_t k = now_ms >= a->phase_ms
			     ? (now_ms - a->phase_ms) / a->period_ms + 1
			     : 0;
	evq_push(pr->q, a->phase_ms + k * a->period_ms, EV_TICK, ai, 0, NULL);
}

void pricing_start(struct pricing *pr, uint64_t now_ms)
{
	if (pr->started)
		return;
	pr->started = true;
	for (size_t i = 0; i < pr->nagents; i++)
		schedule(pr, i, now_ms);
}

/* Set @e's fee rate as its node's setchannel would. */
static void apply(struct pricing *pr, const struct priced *e, uint32_t ppm)
{
	struct net *net = pr->net;
	struct net_channel *ch = &net->chans[e->chan];
	const struct chan_policy *pol = &ch->pol[e->side];

	if (ch->state == CHAN_CLOSED || pol->ppm == ppm)
		return;
	if (net_set_policy(net, ch, e->side, pol->base_msat, ppm,
			   pol->htlc_min_msat, pol->htlc_max_msat,
			   net->now_sec + net_gossip_delay_sec(&pr->rng)))
		net->nodes[ch->node[e->side]].fee_updates++;
}

static uint32_t proportional_ppm(const struct net *net,
				 const struct priced *e, double lo, double hi)
{
	const struct net_channel *ch = &net->chans[e->chan];
	double local = (double)ch->balance_msat[e->side] /
		       ((double)ch->capacity_sat * 1000.0);
	double f = lo + (hi - lo) * (1.0 - fmin(1, fmax(0, local)));

	return (uint32_t)llround((double)e->anchor_ppm * f);
}

static uint32_t hill_ppm(const struct net *net, struct priced *e,
			 double step)
{
	const struct net_channel *ch = &net->chans[e->chan];
	double rev = (double)(ch->fee_out_msat[e->side] - e->fee_seen_msat);
	uint32_t ppm = ch->pol[e->side].ppm;
	double move;

	e->fee_seen_msat = ch->fee_out_msat[e->side];
	if (e->last_rev_msat >= 0) {
		if (rev < e->last_rev_msat)
			e->dir = -e->dir; /* the last move did not pay */
		else if (rev == 0 && e->last_rev_msat == 0)
			e->dir = -1;	  /* nothing routes: cheaper */
	}
	e->last_rev_msat = rev;
	move = fmax(1, round((double)ppm * step));
	if (e->dir > 0)
		return (uint32_t)fmin(e->max_ppm, (double)ppm + move);
	return (uint32_t)fmax(e->min_ppm, (double)ppm - move);
}

bool pricing_handle(struct pricing *pr, const struct event *ev)
{
	struct agent *a;

	if (ev->type < PRICING_EVENT_BASE || ev->type > PRICING_EVENT_LAST)
		return false;
	if (ev->a >= pr->nagents)
		return true;
	a = &pr->agents[ev->a];
	for (size_t k = 0; k < a->n; k++) {
		struct priced *e = &pr->v[a->first + k];
		uint32_t ppm = a->rule == RULE_PROPORTIONAL
				       ? proportional_ppm(pr->net, e, a->lo,
							  a->hi)
				       : hill_ppm(pr->net, e, a->step);
		apply(pr, e, ppm);
	}
	schedule(pr, ev->a, ev->at_ms);
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t pricing_market_median_ppm(const struct net *net, uint32_t chan,
				   uint32_t node)
{
	const struct net_channel *fc = &net->chans[chan];
	uint32_t peer = net_channel_peer(fc, node), *v, m;
	const struct net_node *x = &net->nodes[peer];
	size_t n = 0;

	v = xmalloc(sizeof(*v) * (x->nchans + 2 * net->nchans + 1));
	for (size_t k = 0; k < x->nchans; k++) {
		const struct net_channel *ch = &net->chans[x->chans[k]];
		uint32_t other = net_channel_peer(ch, peer);
		int s = net_channel_side(ch, other);
		if (x->chans[k] == chan || ch->state != CHAN_NORMAL ||
		    net->nodes[other].fleet || !ch->pol[s].enabled)
			continue;
		v[n++] = ch->pol[s].ppm;
	}
	if (!n)
		/* A peer only we reach: price it like the network does. */
		for (size_t c = 0; c < net->nchans; c++)
			for (int d = 0; d < 2; d++)
				if (net->chans[c].state == CHAN_NORMAL &&
				    !net->nodes[net->chans[c].node[d]].fleet)
					v[n++] = net->chans[c].pol[d].ppm;
	if (!n) {
		free(v);
		return fc->pol[net_channel_side(fc, node)].ppm;
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	m = v[(n - 1) / 2];
	free(v);
	return m;
}

void pricing_set_baseline(struct pricing *pr, uint32_t node,
			  enum baseline_kind kind, const struct baseline_cfg *cfg,
			  const uint32_t *fixed_ppm)
{
	const struct net_node *n = &pr->net->nodes[node];
	struct agent *a = NULL;

	if (kind == BASELINE_NONE || kind == BASELINE_STOCK)
		return;
	if (kind == BASELINE_PROPORTIONAL) {
		a = add_agent(pr, node, RULE_PROPORTIONAL, cfg->prop_hours);
		a->lo = cfg->prop_min;
		a->hi = cfg->prop_max;
	}
	for (size_t k = 0; k < n->nchans; k++) {
		const struct net_channel *ch = &pr->net->chans[n->chans[k]];
		int s = net_channel_side(ch, node);
		struct priced e = {.chan = n->chans[k], .side = (uint8_t)s};
		if (ch->state == CHAN_CLOSED)
			continue;
		if (kind == BASELINE_FIXED || kind == BASELINE_ORACLE) {
			if (fixed_ppm)
				apply(pr, &e, fixed_ppm[k]);
			continue;
		}
		e.anchor_ppm = pricing_market_median_ppm(pr->net, n->chans[k],
							 node);
		if (kind == BASELINE_MARKET_MEDIAN) {
			apply(pr, &e, e.anchor_ppm);
		} else {
			struct priced *p = add_priced(pr, a, e.chan, s,
						      e.anchor_ppm);
			apply(pr, p, proportional_ppm(pr->net, p, a->lo,
						      a->hi));
		}
	}
	if (a && pr->started)
		schedule(pr, pr->nagents - 1, pr->net->now_sec * 1000);
}

void pricing_counts(const struct pricing *pr, size_t *nodes, size_t *dirs)
{
	size_t d = 0;

	for (size_t i = 0; i < pr->nagents; i++)
		if (!pr->net->nodes[pr->agents[i].node].fleet)
			d += pr->agents[i].n;
	*nodes = pr->ncompetitors;
	*dirs = d;
}
