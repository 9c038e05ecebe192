/* Topology generation; see gen.h for the model and the "generate" schema. */
#include "sim/gen.h"
#include "common/rng.h"
#include "common/util.h"
#include "sim/net.h"
#include "sim/pay_cfg.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

enum impl { IMPL_LND, IMPL_CLN, IMPL_LDK, IMPL_ECLAIR, IMPL_N };

static const char *const impl_names[IMPL_N] = {"lnd", "cln", "ldk", "eclair"};
/* simulators.md (e): max_accepted_htlcs lnd 483, CLN 30, LDK 50, Eclair 30
 * [H/M]; CLTV deltas lnd 80, CLN 34, LDK 72, Eclair 144 [M]. */
static const uint16_t impl_max_htlcs[IMPL_N] = {483, 30, 50, 30};
static const uint16_t impl_cltv[IMPL_N] = {80, 34, 72, 144};

struct gen_cfg {
	uint64_t nodes, seed_clique;
	double channels_per_node, degree1_share, uniform_attach;
	double capacity_median_sat, capacity_sigma;
	uint64_t capacity_min_sat, capacity_max_sat;
	double base_zero_share, base_1000_share;
	double ppm_median, ppm_sigma, ppm_zero_share, ppm_block_share;
	double opener_balance_min, opener_balance_max;
	double impl[IMPL_N];
	double source_share, sink_share, role_factor;
	uint64_t fleet_channels, fleet_base_msat, fleet_ppm;
	double fleet_capacity_sat, fleet_local_share;
	uint64_t competing_paths;
	double competitor_capacity;
	double age_days_max;
};

struct gen {
	struct net *net;
	const struct gen_cfg *cfg;
	struct rng rng;
	uint8_t *impl;		/* per node */
	uint32_t *ends;		/* one entry per channel end (non-fleet) */
	size_t nends, capends;
	uint32_t *pool;		/* non-fleet nodes */
	size_t npool;
	uint32_t *mark;		/* per node scratch stamps */
	uint32_t stamp;
	struct gen_summary sum;
};

static bool parse(const json_t *j, struct gen_cfg *c, char **err)
{
	static const char *const known[] = {
		"nodes", "channels_per_node", "degree1_share", "seed_clique",
		"uniform_attach", "capacity_median_sat", "capacity_sigma",
		"capacity_min_sat", "capacity_max_sat", "base_zero_share",
		"base_1000_share", "ppm_median", "ppm_sigma", "ppm_zero_share",
		"ppm_block_share", "opener_balance_min", "opener_balance_max",
		"impl", "source_share", "sink_share", "role_factor",
		"fleet_channels", "fleet_capacity_sat", "fleet_local_share",
		"fleet_base_msat", "fleet_ppm", "competing_paths",
		"competitor_capacity", "age_days_max", NULL};
	static const double def_impl[IMPL_N] = {0.75, 0.15, 0.05, 0.05};
	struct cfg r;
	bool ok;

	ok = cfg_open(&r, j, "generate", known) &&
	     cfg_u64(&r, "nodes", 0, 0, 100000, &c->nodes) &&
	     cfg_num(&r, "channels_per_node", 3.5, 1, false, 100,
		     &c->channels_per_node) &&
	     cfg_num(&r, "degree1_share", 0.6, 0, false, 1,
		     &c->degree1_share) &&
	     cfg_u64(&r, "seed_clique", 4, 2, 50, &c->seed_clique) &&
	     cfg_num(&r, "uniform_attach", 0.02, 0, false, 1,
		     &c->uniform_attach) &&
	     cfg_num(&r, "capacity_median_sat", 1000000, 0, true, 1e10,
		     &c->capacity_median_sat) &&
	     cfg_num(&r, "capacity_sigma", 1.9, 0, false, 5,
		     &c->capacity_sigma) &&
	     cfg_u64(&r, "capacity_min_sat", 20000, 20000, 1000000000,
		     &c->capacity_min_sat) &&
	     cfg_u64(&r, "capacity_max_sat", 1000000000, 20000,
		     10000000000ULL, &c->capacity_max_sat) &&
	     cfg_num(&r, "base_zero_share", 0.4, 0, false, 1,
		     &c->base_zero_share) &&
	     cfg_num(&r, "base_1000_share", 0.5, 0, false, 1,
		     &c->base_1000_share) &&
	     cfg_num(&r, "ppm_median", 85, 0, true, INFINITY,
		     &c->ppm_median) &&
	     cfg_num(&r, "ppm_sigma", 1.6, 0, false, 5, &c->ppm_sigma) &&
	     cfg_num(&r, "ppm_zero_share", 0.1, 0, false, 1,
		     &c->ppm_zero_share) &&
	     cfg_num(&r, "ppm_block_share", 0.01, 0, false, 1,
		     &c->ppm_block_share) &&
	     cfg_num(&r, "opener_balance_min", 0.5, 0, false, 1,
		     &c->opener_balance_min) &&
	     cfg_num(&r, "opener_balance_max", 1.0, 0, false, 1,
		     &c->opener_balance_max) &&
	     cfg_mix(&r, "impl", impl_names, IMPL_N, def_impl, c->impl) &&
	     cfg_num(&r, "source_share", 0.1, 0, false, 1, &c->source_share) &&
	     cfg_num(&r, "sink_share", 0.1, 0, false, 1, &c->sink_share) &&
	     cfg_num(&r, "role_factor", 5, 0, false, 1000, &c->role_factor) &&
	     cfg_u64(&r, "fleet_channels", 0, 0, 10000, &c->fleet_channels) &&
	     cfg_num(&r, "fleet_capacity_sat", 2000000, 20000, false, 1e10,
		     &c->fleet_capacity_sat) &&
	     cfg_num(&r, "fleet_local_share", 0.5, 0, false, 1,
		     &c->fleet_local_share) &&
	     cfg_u64(&r, "fleet_base_msat", 1000, 0, 100000000,
		     &c->fleet_base_msat) &&
	     cfg_u64(&r, "fleet_ppm", 100, 0, 1000000, &c->fleet_ppm) &&
	     cfg_u64(&r, "competing_paths", 3, 0, 100, &c->competing_paths) &&
	     cfg_num(&r, "competitor_capacity", 1, 0, false, 10,
		     &c->competitor_capacity) &&
	     cfg_num(&r, "age_days_max", 730, 1, false, 5000,
		     &c->age_days_max);
	if (ok && c->capacity_max_sat < c->capacity_min_sat)
		ok = cfg_fail(&r, "capacity_max_sat",
			      "must be at least capacity_min_sat");
	if (ok && c->opener_balance_max < c->opener_balance_min)
		ok = cfg_fail(&r, "opener_balance_max",
			      "must be at least opener_balance_min");
	if (ok && c->base_zero_share + c->base_1000_share > 1)
		ok = cfg_fail(&r, "base_1000_share",
			      "base_zero_share + base_1000_share must not "
			      "exceed 1");
	if (ok && c->ppm_zero_share + c->ppm_block_share > 1)
		ok = cfg_fail(&r, "ppm_block_share",
			      "ppm_zero_share + ppm_block_share must not "
			      "exceed 1");
	if (ok && c->source_share + c->sink_share > 1)
		ok = cfg_fail(&r, "sink_share",
			      "source_share + sink_share must not exceed 1");
	if (!ok)
		*err = r.err;
	return ok;
}

static double log_uniform(struct rng *r, double lo, double hi)
{
	return exp(log(lo) + rng_unit(r) * (log(hi) - log(lo)));
}

static uint64_t draw_capacity(struct gen *g, double median, double sigma)
{
	double c = rng_lognormal(&g->rng, log(median), sigma);

	c = fmin(fmax(c, (double)g->cfg->capacity_min_sat),
		 (double)g->cfg->capacity_max_sat);
	return (uint64_t)llround(c);
}

/* One direction's fee policy from the real spread (simulators.md (d)/(e):
 * ~40 % zero base, 1 sat base median; ppm median ~85 with p90 ~660 and a
 * blocking tail). */
static void draw_policy(struct gen *g, uint64_t *base, uint32_t *ppm)
{
	const struct gen_cfg *c = g->cfg;
	double u = rng_unit(&g->rng), x;

	if (u < c->base_zero_share)
		*base = 0;
	else if (u < c->base_zero_share + c->base_1000_share)
		*base = 1000;
	else
		*base = (uint64_t)llround(log_uniform(&g->rng, 1, 10000));
	u = rng_unit(&g->rng);
	if (u < c->ppm_zero_share)
		x = 0;
	else if (u < c->ppm_zero_share + c->ppm_block_share)
		x = log_uniform(&g->rng, 5000, 50000);
	else
		x = fmin(rng_lognormal(&g->rng, log(c->ppm_median),
				       c->ppm_sigma),
			 100000);
	*ppm = (uint32_t)llround(x);
}

static bool connected(const struct net *net, uint32_t a, uint32_t b)
{
	const struct net_node *n = &net->nodes[a];

	if (net->nodes[b].nchans < n->nchans)
		n = &net->nodes[b];
	for (size_t k = 0; k < n->nchans; k++) {
		const struct net_channel *ch = &net->chans[n->chans[k]];
		if ((ch->node[0] == a && ch->node[1] == b) ||
		    (ch->node[0] == b && ch->node[1] == a))
			return true;
	}
	return false;
}

static void add_end(struct gen *g, uint32_t node)
{
	if (g->net->nodes[node].fleet)
		return;
	xgrow(&g->ends, &g->capends, g->nends + 1, sizeof(*g->ends));
	g->ends[g->nends++] = node;
}

/* Open a channel from @opener to @peer with @share of it on the opener's
 * side, policies drawn per node (fleet nodes get the fleet policy). */
static bool add_channel(struct gen *g, uint32_t opener, uint32_t peer,
			uint64_t cap_sat, double share, char **err)
{
	struct net *net = g->net;
	const struct gen_cfg *c = g->cfg;
	double age = 1 + rng_unit(&g->rng) * (c->age_days_max - 1);
	uint32_t blocks = (uint32_t)(age * 144);
	uint32_t height = net->start_height > blocks + 1
				  ? net->start_height - blocks
				  : 1;
	uint64_t bal = (uint64_t)llround((double)cap_sat * 1000.0 * share);
	struct net_channel *ch;

	ch = net_add_channel(net, opener, peer, cap_sat, bal, opener, height,
			     err);
	if (!ch)
		return false;
	ch->opened_sec = net->start_sec > (uint64_t)(age * 86400)
				 ? net->start_sec - (uint64_t)(age * 86400)
				 : 0;
	for (int d = 0; d < 2; d++) {
		uint32_t node = ch->node[d];
		struct chan_policy *pol = &ch->pol[d];
		if (net->nodes[node].fleet) {
			pol->base_msat = c->fleet_base_msat;
			pol->ppm = (uint32_t)c->fleet_ppm;
			ch->max_htlcs[d] = impl_max_htlcs[IMPL_CLN];
			pol->cltv_delta = impl_cltv[IMPL_CLN];
		} else {
			draw_policy(g, &pol->base_msat, &pol->ppm);
			ch->max_htlcs[d] = impl_max_htlcs[g->impl[node]];
			pol->cltv_delta = impl_cltv[g->impl[node]];
			pol->htlc_min_msat =
				g->impl[node] == IMPL_LND ? 1000 : 1;
		}
		pol->seen_base_msat = pol->base_msat;
		pol->seen_ppm = pol->ppm;
		pol->last_update_sec = ch->opened_sec;
	}
	add_end(g, opener);
	add_end(g, peer);
	g->sum.channels++;
	return true;
}

/* A target by preferential attachment (a random channel end), sometimes
 * uniform so late nodes get channels too; UINT32_MAX if none fits.
 * @exhaustive: rather than give up, take any node not yet a peer. */
static uint32_t pick_target(struct gen *g, uint32_t self, bool exhaustive)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t t;
		if (!g->nends || rng_unit(&g->rng) < g->cfg->uniform_attach)
			t = g->pool[rng_below(&g->rng, g->npool)];
		else
			t = g->ends[rng_below(&g->rng, g->nends)];
		if (t != self && !connected(g->net, self, t))
			return t;
	}
	/* A node with channels to most of the network (a 2,000-channel
	 * fleet node): take the first free node from a random start. */
	if (exhaustive) {
		size_t start = rng_below(&g->rng, g->npool);
		for (size_t k = 0; k < g->npool; k++) {
			uint32_t t = g->pool[(start + k) % g->npool];
			if (t != self && !connected(g->net, self, t))
				return t;
		}
	}
	return UINT32_MAX;
}

static uint32_t channels_to_open(struct gen *g)
{
	const struct gen_cfg *c = g->cfg;
	double rest;

	if (rng_unit(&g->rng) < c->degree1_share)
		return 1;
	/* 2 + geometric, so the overall mean is channels_per_node. */
	rest = (c->channels_per_node - c->degree1_share) /
		       (1 - c->degree1_share + 1e-12) -
	       2;
	if (rest <= 0)
		return 2;
	{
		double q = rest / (1 + rest);
		return 2 + (uint32_t)floor(log(1 - rng_unit(&g->rng)) / log(q));
	}
}

/* Whether @y reaches @x in at most two hops without @f over channels of
 * at least @min_sat (neighbours of @x over such channels are marked with
 * the current stamp): a path that cannot carry what the fleet channel
 * carries is no alternative for the payments that matter most. */
static bool covered(struct gen *g, uint32_t y, uint32_t x, uint32_t f,
		    uint64_t min_sat)
{
	const struct net *net = g->net;
	const struct net_node *n = &net->nodes[y];

	if (g->mark[y] == g->stamp)
		return true; /* direct channel y-x */
	for (size_t k = 0; k < n->nchans; k++) {
		const struct net_channel *ch = &net->chans[n->chans[k]];
		uint32_t z = net_channel_peer(ch, y);
		if (ch->state == CHAN_NORMAL && z != f && z != x &&
		    ch->capacity_sat >= min_sat && g->mark[z] == g->stamp)
			return true;
	}
	return false;
}

/* Give fleet channel @ci of fleet node @f competing routes. */
static bool compete(struct gen *g, uint32_t f, uint32_t ci, char **err)
{
	struct net *net = g->net;
	const struct net_channel *fc = &net->chans[ci];
	uint32_t x = net_channel_peer(fc, f), *ys, *xn;
	uint64_t fcap = fc->capacity_sat,
		 min_sat = (uint64_t)((double)fcap * g->cfg->competitor_capacity);
	size_t nys = 0, nxn = 0, have = 0, need;
	bool ok = true;

	ys = xmalloc(sizeof(*ys) * (net->nodes[f].nchans + 1));
	xn = xmalloc(sizeof(*xn) * (net->nodes[x].nchans + 1));
	for (size_t k = 0; k < net->nodes[f].nchans; k++) {
		const struct net_channel *ch = &net->chans[net->nodes[f].chans[k]];
		uint32_t y = net_channel_peer(ch, f);
		if (y != x && !net->nodes[y].fleet && ch->state == CHAN_NORMAL)
			ys[nys++] = y;
	}
	g->stamp++;
	for (size_t k = 0; k < net->nodes[x].nchans; k++) {
		const struct net_channel *ch = &net->chans[net->nodes[x].chans[k]];
		uint32_t z = net_channel_peer(ch, x);
		if (z != f && ch->state == CHAN_NORMAL) {
			if (ch->capacity_sat >= min_sat)
				g->mark[z] = g->stamp;
			if (!net->nodes[z].fleet)
				xn[nxn++] = z;
		}
	}
	need = g->cfg->competing_paths < nys ? g->cfg->competing_paths : nys;
	/* Shuffle so the peers that get the new channels are random. */
	for (size_t i = nys; i > 1; i--) {
		size_t j = rng_below(&g->rng, i);
		uint32_t t = ys[i - 1];
		ys[i - 1] = ys[j];
		ys[j] = t;
	}
	for (size_t i = 0; i < nys && have < need; i++)
		if (covered(g, ys[i], x, f, min_sat)) {
			ys[i] = UINT32_MAX;
			have++;
		}
	for (size_t i = 0; i < nys && have < need && ok; i++) {
		uint32_t y = ys[i], to;
		uint64_t cap;
		double share;
		if (y == UINT32_MAX)
			continue;
		if (!net->nodes[x].fleet) {
			to = x;
		} else {
			/* A fleet peer: reach it through one of its
			 * external neighbours. */
			if (!nxn)
				break;
			to = xn[rng_below(&g->rng, nxn)];
		}
		if (to == y || connected(net, y, to))
			continue;
		/* A competitor must be able to carry what the fleet
		 * channel carries. */
		cap = draw_capacity(g, g->cfg->capacity_median_sat,
				    g->cfg->capacity_sigma);
		if (cap < fcap)
			cap = fcap;
		share = g->cfg->opener_balance_min +
			rng_unit(&g->rng) * (g->cfg->opener_balance_max -
					     g->cfg->opener_balance_min);
		ok = add_channel(g, y, to, cap, share, err);
		if (ok) {
			g->sum.competition_channels++;
			if (to == x)
				g->mark[y] = g->stamp;
			have++;
		}
	}
	free(ys);
	free(xn);
	return ok;
}

bool gen_expand(struct net *net, const json_t *generate, uint64_t seed,
		struct gen_summary *summary, char **err)
{
	struct gen_cfg cfg;
	struct gen g;
	size_t first, nfleet_ch;
	bool ok = true;

	*err = NULL;
	if (summary)
		memset(summary, 0, sizeof(*summary));
	if (!generate)
		return true;
	if (!parse(generate, &cfg, err))
		return false;
	/* Generated aliases are genNNNN: refuse a scenario that uses one. */
	for (size_t i = 0; i < net->nnodes; i++) {
		unsigned k;
		char tail;
		if (sscanf(net->nodes[i].alias, "gen%u%c", &k, &tail) == 1 &&
		    k < cfg.nodes) {
			*err = xfmt("generate.nodes: alias '%s' of an existing "
				    "node is reserved for generated nodes",
				    net->nodes[i].alias);
			return false;
		}
	}
	memset(&g, 0, sizeof(g));
	g.net = net;
	g.cfg = &cfg;
	rng_seed(&g.rng, seed ^ 0x67656e6572617465ULL); /* "generate" */
	first = net->nnodes;
	for (size_t i = 0; i < cfg.nodes; i++) {
		char alias[33];
		struct net_node *n;
		double u;
		snprintf(alias, sizeof(alias), "gen%04zu", i);
		n = net_add_node(net, alias, false);
		u = rng_unit(&g.rng);
		n->send_weight = n->recv_weight = 1;
		if (u < cfg.source_share)
			n->send_weight = cfg.role_factor;
		else if (u < cfg.source_share + cfg.sink_share)
			n->recv_weight = cfg.role_factor;
	}
	g.impl = xzalloc(net->nnodes + 1);
	g.mark = xzalloc(sizeof(*g.mark) * (net->nnodes + 1));
	g.pool = xmalloc(sizeof(*g.pool) * (net->nnodes + 1));
	for (size_t i = 0; i < net->nnodes; i++) {
		double u = rng_unit(&g.rng), acc = 0;
		g.impl[i] = IMPL_N - 1;
		for (int k = 0; k < IMPL_N; k++) {
			acc += cfg.impl[k];
			if (u < acc) {
				g.impl[i] = (uint8_t)k;
				break;
			}
		}
		if (net->nodes[i].fleet)
			g.impl[i] = IMPL_CLN;
	}
	/* Existing external nodes take part as they are. */
	for (size_t i = 0; i < first; i++) {
		if (net->nodes[i].fleet)
			continue;
		g.pool[g.npool++] = (uint32_t)i;
		for (size_t k = 0; k < net->nodes[i].nchans; k++)
			add_end(&g, (uint32_t)i);
	}
	for (size_t i = first; i < net->nnodes && ok; i++) {
		uint32_t self = (uint32_t)i, d;
		size_t idx = i - first;
		if (idx < cfg.seed_clique) {
			/* The seed clique: each new member joins all. */
			for (size_t j = first; j < i && ok; j++)
				ok = add_channel(&g, self, (uint32_t)j,
						 draw_capacity(&g,
							       cfg.capacity_median_sat,
							       cfg.capacity_sigma),
						 cfg.opener_balance_min +
							 rng_unit(&g.rng) *
								 (cfg.opener_balance_max -
								  cfg.opener_balance_min),
						 err);
			g.pool[g.npool++] = self;
			continue;
		}
		d = channels_to_open(&g);
		for (uint32_t k = 0; k < d && ok && g.npool; k++) {
			uint32_t t = pick_target(&g, self, false);
			if (t == UINT32_MAX)
				break;
			ok = add_channel(&g, self, t,
					 draw_capacity(&g, cfg.capacity_median_sat,
						       cfg.capacity_sigma),
					 cfg.opener_balance_min +
						 rng_unit(&g.rng) *
							 (cfg.opener_balance_max -
							  cfg.opener_balance_min),
					 err);
		}
		g.pool[g.npool++] = self;
	}
	g.sum.nodes = cfg.nodes;
	/* Fleet nodes open to well-connected nodes, as routing nodes do. */
	for (size_t f = 0; f < net->nnodes && ok; f++) {
		if (!net->nodes[f].fleet || !g.npool)
			continue;
		/* A member may ask for its own count (a newcomer has few). */
		uint64_t want = net->nodes[f].gen_channels >= 0
					? (uint64_t)net->nodes[f].gen_channels
					: cfg.fleet_channels;
		for (uint64_t k = 0; k < want && ok; k++) {
			uint32_t t = pick_target(&g, (uint32_t)f, true);
			uint64_t cap;
			if (t == UINT32_MAX)
				break;
			cap = (uint64_t)llround(fmin(
				fmax(rng_lognormal(&g.rng,
						   log(cfg.fleet_capacity_sat),
						   0.5),
				     20000.0),
				1e10));
			ok = add_channel(&g, (uint32_t)f, t, cap,
					 cfg.fleet_local_share, err);
			if (ok)
				g.sum.fleet_channels++;
		}
	}
	/* Competition for every fleet channel, scenario ones included. */
	for (size_t f = 0; f < net->nnodes && ok; f++) {
		if (!net->nodes[f].fleet)
			continue;
		nfleet_ch = net->nodes[f].nchans;
		for (size_t k = 0; k < nfleet_ch && ok; k++)
			ok = compete(&g, (uint32_t)f, net->nodes[f].chans[k],
				     err);
	}
	if (!ok) {
		char *e = xfmt("generate: %s", *err);
		free(*err);
		*err = e;
	}
	if (summary)
		*summary = g.sum;
	free(g.impl);
	free(g.mark);
	free(g.pool);
	free(g.ends);
	return ok;
}
