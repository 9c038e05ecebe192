/* Sender route finding and mission-control memory; see route.h. */
#include "sim/route.h"
#include "common/amount.h"
#include "common/util.h"
#include "sim/net.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- mission control -------------------------------------------------- */

void mc_free(struct mc *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

const struct mc_entry *mc_find(const struct mc *m, uint32_t edge)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].edge == edge)
			return &m->v[i];
	return NULL;
}

/* Bounded like lnd's mission control (DefaultMaxMcHistory 1000 pairs):
 * when full, the entry used longest ago makes room. Memories hold at most
 * a few hundred entries, so a linear scan is cheaper than a hash. */
static struct mc_entry *mc_get(struct mc *m, size_t max, uint32_t edge,
			       uint64_t now_ms)
{
	struct mc_entry *e = (struct mc_entry *)mc_find(m, edge);

	if (!e) {
		if (m->n < max || max == 0) {
			xgrow(&m->v, &m->cap, m->n + 1, sizeof(*m->v));
			e = &m->v[m->n++];
		} else {
			e = &m->v[0];
			for (size_t i = 1; i < m->n; i++)
				if (m->v[i].used_ms < e->used_ms)
					e = &m->v[i];
		}
		memset(e, 0, sizeof(*e));
		e->edge = edge;
	}
	e->used_ms = now_ms;
	return e;
}

void mc_fail(struct mc *m, size_t max, uint32_t edge, uint64_t amt_msat,
	     uint64_t now_ms)
{
	struct mc_entry *e = mc_get(m, max, edge, now_ms);

	e->fail_ms = now_ms ? now_ms : 1;
	e->fail_msat = amt_msat;
	/* As lnd's pair results: a success can not stand above a newer
	 * failure. */
	if (e->ok_ms && e->ok_msat >= amt_msat) {
		e->ok_msat = amt_msat ? amt_msat - 1 : 0;
		if (!e->ok_msat)
			e->ok_ms = 0;
	}
}

void mc_success(struct mc *m, size_t max, uint32_t edge, uint64_t amt_msat,
		uint64_t now_ms)
{
	struct mc_entry *e = mc_get(m, max, edge, now_ms);

	if (!e->ok_ms || amt_msat > e->ok_msat)
		e->ok_msat = amt_msat;
	e->ok_ms = now_ms ? now_ms : 1;
	if (e->fail_ms && e->fail_msat <= amt_msat)
		e->fail_msat = amt_msat + 1;
}

void mc_update(struct mc *m, size_t max, uint32_t edge, uint64_t base_msat,
	       uint32_t ppm, uint64_t now_ms)
{
	struct mc_entry *e = mc_get(m, max, edge, now_ms);

	e->upd_ms = now_ms ? now_ms : 1;
	e->upd_base_msat = base_msat;
	e->upd_ppm = ppm;
}

/* ---- router ----------------------------------------------------------- */

struct adj {
	uint32_t chan;
	uint32_t peer;
};

struct label {
	double key, w, p;
	uint64_t amt, fee;
	uint32_t pred, stamp, done, cltv;
	uint32_t hops;
};

struct hentry {
	double key;
	uint32_t node;
};

#define NOISE_STEPS 1024

struct router {
	struct net *net;
	size_t nnodes, nchans;
	uint32_t *adj_off;
	struct adj *adj;
	struct label *lab;
	struct hentry *heap;
	size_t hn, hcap;
	uint32_t stamp;
	uint32_t *mc_stamp, *mc_idx, *ex_stamp;
	uint64_t *ex_min;
	/* Medians of the public graph for xpay's cost scaling. */
	double med_base_msat, med_ppm, med_cap_msat;
	double noise[NOISE_STEPS], noise_sigma;
	uint64_t searches, relaxations;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void rebuild(struct router *r)
{
	struct net *net = r->net;
	size_t nn = net->nnodes, nc = net->nchans;
	double *tmp;

	free(r->adj_off);
	free(r->adj);
	free(r->lab);
	free(r->heap);
	free(r->mc_stamp);
	free(r->mc_idx);
	free(r->ex_stamp);
	free(r->ex_min);
	r->adj_off = xzalloc(sizeof(*r->adj_off) * (nn + 1));
	r->adj = xmalloc(sizeof(*r->adj) * (2 * nc + 1));
	for (size_t c = 0; c < nc; c++) {
		r->adj_off[net->chans[c].node[0] + 1]++;
		r->adj_off[net->chans[c].node[1] + 1]++;
	}
	for (size_t v = 0; v < nn; v++)
		r->adj_off[v + 1] += r->adj_off[v];
	{
		uint32_t *fill = xmalloc(sizeof(*fill) * (nn + 1));
		memcpy(fill, r->adj_off, sizeof(*fill) * (nn + 1));
		for (size_t c = 0; c < nc; c++) {
			const struct net_channel *ch = &net->chans[c];
			r->adj[fill[ch->node[0]]++] =
				(struct adj){(uint32_t)c, ch->node[1]};
			r->adj[fill[ch->node[1]]++] =
				(struct adj){(uint32_t)c, ch->node[0]};
		}
		free(fill);
	}
	r->lab = xzalloc(sizeof(*r->lab) * (nn + 1));
	r->hcap = 2 * nc + 2;
	r->heap = xmalloc(sizeof(*r->heap) * r->hcap);
	r->mc_stamp = xzalloc(sizeof(*r->mc_stamp) * (2 * nc + 1));
	r->mc_idx = xzalloc(sizeof(*r->mc_idx) * (2 * nc + 1));
	r->ex_stamp = xzalloc(sizeof(*r->ex_stamp) * (2 * nc + 1));
	r->ex_min = xzalloc(sizeof(*r->ex_min) * (2 * nc + 1));
	r->stamp = 0;
	r->nnodes = nn;
	r->nchans = nc;

	tmp = xmalloc(sizeof(*tmp) * (2 * nc + 1));
	for (size_t c = 0; c < 2 * nc; c++)
		tmp[c] = (double)net->chans[c / 2].pol[c % 2].seen_base_msat;
	r->med_base_msat = median(tmp, 2 * nc);
	for (size_t c = 0; c < 2 * nc; c++)
		tmp[c] = (double)net->chans[c / 2].pol[c % 2].seen_ppm;
	r->med_ppm = median(tmp, 2 * nc);
	for (size_t c = 0; c < nc; c++)
		tmp[c] = (double)net->chans[c].capacity_sat * 1000.0;
	r->med_cap_msat = median(tmp, nc);
	free(tmp);
}

struct router *router_new(struct net *net)
{
	struct router *r = xzalloc(sizeof(*r));
	r->net = net;
	rebuild(r);
	return r;
}

void router_free(struct router *r)
{
	if (!r)
		return;
	free(r->adj_off);
	free(r->adj);
	free(r->lab);
	free(r->heap);
	free(r->mc_stamp);
	free(r->mc_idx);
	free(r->ex_stamp);
	free(r->ex_min);
	free(r);
}

void router_counters(const struct router *r, uint64_t *searches,
		     uint64_t *relaxations)
{
	*searches = r->searches;
	*relaxations = r->relaxations;
}

static void heap_push(struct router *r, double key, uint32_t node)
{
	size_t i = r->hn++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (r->heap[parent].key <= key)
			break;
		r->heap[i] = r->heap[parent];
		i = parent;
	}
	r->heap[i] = (struct hentry){key, node};
}

static struct hentry heap_pop(struct router *r)
{
	struct hentry top = r->heap[0], last = r->heap[--r->hn];
	size_t i = 0, n = r->hn;

	for (;;) {
		size_t l = 2 * i + 1, m;
		if (l >= n)
			break;
		m = l + 1 < n && r->heap[l + 1].key < r->heap[l].key ? l + 1 : l;
		if (last.key <= r->heap[m].key)
			break;
		r->heap[i] = r->heap[m];
		i = m;
	}
	if (n)
		r->heap[i] = last;
	return top;
}

/* Per-payment, per-channel belief noise: a hash rather than a generator so
 * it depends only on (payment, channel), and a table of exp() values so it
 * costs almost nothing per relaxation. Uniform in log space with standard
 * deviation @sigma, in NOISE_STEPS steps. */
static void noise_table(struct router *r, double sigma)
{
	for (int i = 0; i < NOISE_STEPS; i++) {
		double u = (i + 0.5) / NOISE_STEPS;
		r->noise[i] = exp(sigma * (u - 0.5) * 3.4641016151377544);
	}
	r->noise_sigma = sigma;
}

static double noise_factor(const struct router *r, uint64_t seed,
			   uint32_t edge)
{
	uint64_t z = seed ^ ((uint64_t)(edge + 1) * 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return r->noise[z >> (64 - 10)];
}

/* amount_fee_msat without the 128-bit division when the product fits. */
static inline bool fee_of(uint64_t *out, uint64_t amt, uint64_t base,
			  uint32_t ppm)
{
	if (amt < (1ULL << 40) && ppm < (1U << 23)) {
		*out = base + amt * ppm / 1000000;
		return true;
	}
	return amount_fee_msat(out, amt, base, ppm);
}

/* lnd apriori: 0.6 for an untried hop (DefaultAprioriHopProbability) with
 * the logistic capacity factor (CapacityFraction 0.9999, smearing 2.5%),
 * 0.95 after a success at >= amt, and a failure at <= amt recovering
 * with PenaltyHalfLife 1 h. */
static double p_apriori(double a, double c, const struct mc_entry *e,
			uint64_t now_ms)
{
	double p = 0.6;

	if (a > 0.75 * c)
		p *= 1.0 - 1.0 / (1.0 + exp(-(a - 0.9999 * c) / (0.025 * c)));
	if (e) {
		if (e->ok_ms && a <= (double)e->ok_msat)
			return 0.95;
		if (e->fail_ms && a >= (double)e->fail_msat) {
			double age = now_ms > e->fail_ms
					     ? (double)(now_ms - e->fail_ms)
					     : 0;
			p *= 1.0 - exp2(-age / 3600000.0);
		}
	}
	return p;
}

/* Liquidity bounds a result leaves, relaxing toward [0, c] with the decay
 * function @keep (1 = fresh, 0 = forgotten). */
static void bounds(const struct mc_entry *e, double c, double keep_fail,
		   double keep_ok, double *lo, double *hi)
{
	*lo = 0;
	*hi = c;
	if (!e)
		return;
	if (e->fail_ms && (double)e->fail_msat < c)
		*hi = c - (c - (double)e->fail_msat) * keep_fail;
	if (e->ok_ms)
		*lo = fmin((double)e->ok_msat, c) * keep_ok;
	if (*lo > *hi)
		*lo = *hi;
}

static double age_ms(uint64_t now, uint64_t t)
{
	return now > t ? (double)(now - t) : 0;
}

/* lnd bimodal: density e^(-x/s) + e^((x-c)/s) + 1/c, s = 300k sat
 * (DefaultBimodalScaleMsat), results decaying over 7 days. */
static double bimodal_prim(double x, double c, double s)
{
	return -s * exp(-x / s) + s * exp((x - c) / s) + x / c;
}

static double p_bimodal(double a, double c, const struct mc_entry *e,
			uint64_t now_ms)
{
	const double s = 3e8, tau = 7 * 86400e3;
	double lo, hi, den, ph;

	bounds(e, c, e ? exp(-age_ms(now_ms, e->fail_ms) / tau) : 0,
	       e ? exp(-age_ms(now_ms, e->ok_ms) / tau) : 0, &lo, &hi);
	if (a <= lo)
		return 1;
	if (a > hi)
		return 0;
	ph = bimodal_prim(hi, c, s);
	den = ph - bimodal_prim(lo, c, s);
	if (!(den > 0))
		return 0;
	return fmin(1, (ph - bimodal_prim(a, c, s)) / den);
}

/* LDK's default (non-linear) prior puts liquidity near the channel ends:
 * density ~ (x/c - 1/2)^2; bounds relax with liquidity_offset_half_life
 * 6 h. */
static inline double cube(double x)
{
	return x * x * x;
}

static double p_ldk(double a, double c, const struct mc_entry *e,
		    uint64_t now_ms)
{
	const double half = 6 * 3600e3;
	double lo, hi, glo, ghi, ga;

	bounds(e, c, exp2(-age_ms(now_ms, e->fail_ms) / half),
	       exp2(-age_ms(now_ms, e->ok_ms) / half), &lo, &hi);
	if (a <= lo)
		return 1;
	if (a > hi)
		return 0;
	glo = cube(lo / c - 0.5);
	ghi = cube(hi / c - 0.5);
	ga = cube(a / c - 0.5);
	if (!(ghi > glo))
		return 0;
	return (ghi - ga) / (ghi - glo);
}

/* Uniform prior within bounds learnt in the last hour (xpay ages its
 * layer, dropping entries older than 1 h). */
static double p_uniform_xpay(double a, double c, const struct mc_entry *e,
			     uint64_t now_ms)
{
	double lo = 0, hi = c;

	if (e && e->fail_ms && age_ms(now_ms, e->fail_ms) < 3600e3)
		hi = fmin(c, (double)e->fail_msat - 1);
	if (e && e->ok_ms && age_ms(now_ms, e->ok_ms) < 3600e3)
		lo = fmin((double)e->ok_msat, hi);
	if (a <= lo)
		return 1;
	if (a > hi)
		return 0;
	return (hi + 1 - a) / (hi + 1 - lo);
}

size_t router_find(struct router *r, const struct route_query *q,
		   struct route_hop *hops, uint64_t *fee_msat)
{
	struct net *net = r->net;
	const bool lnd = q->kind == SENDER_LND || q->kind == SENDER_LND_BIMODAL;
	const double A = (double)q->amount_msat;
	const double fw = q->fee_weight > 0 ? q->fee_weight : 1;
	double attempt_cost = 0, xpay_k = 0;
	uint32_t src = q->source, tgt = q->target, s;
	struct label *lab;
	size_t n = 0;
	uint32_t u;

	*fee_msat = 0;
	if (net->nnodes != r->nnodes || net->nchans != r->nchans)
		rebuild(r);
	if (src >= r->nnodes || tgt >= r->nnodes || src == tgt ||
	    !q->amount_msat)
		return 0;
	net_apply_gossip(net);
	r->searches++;
	if (++r->stamp == 0) {
		/* Wrapped: clear every stamp so none looks current. */
		memset(r->mc_stamp, 0, sizeof(*r->mc_stamp) * 2 * r->nchans);
		memset(r->ex_stamp, 0, sizeof(*r->ex_stamp) * 2 * r->nchans);
		for (size_t i = 0; i < r->nnodes; i++)
			r->lab[i].stamp = r->lab[i].done = 0;
		r->stamp = 1;
	}
	s = r->stamp;
	if (q->noise_sigma > 0 && q->noise_sigma != r->noise_sigma)
		noise_table(r, q->noise_sigma);
	if (q->mem)
		for (size_t i = 0; i < q->mem->n; i++) {
			uint32_t e = q->mem->v[i].edge;
			if (e < 2 * r->nchans) {
				r->mc_stamp[e] = s;
				r->mc_idx[e] = (uint32_t)i;
			}
		}
	for (size_t i = 0; i < q->nexcl; i++) {
		uint32_t e = q->excl[i].edge;
		if (e >= 2 * r->nchans)
			continue;
		if (r->ex_stamp[e] != s || q->excl[i].min_msat < r->ex_min[e])
			r->ex_min[e] = q->excl[i].min_msat;
		r->ex_stamp[e] = s;
	}
	if (lnd)
		/* DefaultAttemptCost 100 sat + DefaultAttemptCostPPM 1000. */
		attempt_cost = 100000.0 + A * 1000.0 / 1e6;
	if (q->kind == SENDER_CLN_XPAY) {
		/* askrene scales probability cost by the ratio of the
		 * medians so mu is a true percentage weight. */
		double fee_med = r->med_base_msat + r->med_ppm * A / 1e6;
		double prob_med = -log1p(-fmin(A / (r->med_cap_msat + 1), 0.99));
		xpay_k = fmax(fee_med, 1) / fmax(prob_med, 1e-9);
	}

	lab = r->lab;
	lab[tgt] = (struct label){.key = 0,
				  .w = 0,
				  .p = 1,
				  .amt = q->amount_msat,
				  .fee = 0,
				  .pred = UINT32_MAX,
				  .stamp = s,
				  .done = 0,
				  .cltv = q->final_cltv,
				  .hops = 0};
	r->hn = 0;
	heap_push(r, 0, tgt);
	while (r->hn) {
		struct hentry h = heap_pop(r);
		uint32_t v = h.node;
		const struct label *lv;
		double a;

		if (lab[v].done == s || h.key > lab[v].key)
			continue;
		lab[v].done = s;
		if (v == src)
			break;
		lv = &lab[v];
		if (lv->hops >= ROUTE_MAX_HOPS)
			continue;
		a = (double)lv->amt;
		for (uint32_t k = r->adj_off[v]; k < r->adj_off[v + 1]; k++) {
			const struct adj *ad = &r->adj[k];
			const struct net_channel *ch = &net->chans[ad->chan];
			uint32_t w = ad->peer;

			/* Channels are large and scattered: fetch the ones a
			 * few entries ahead while this one is scored. */
			if (k + 4 < r->adj_off[v + 1]) {
				const struct net_channel *pf =
					&net->chans[r->adj[k + 4].chan];
				__builtin_prefetch(&pf->node);
				__builtin_prefetch(&pf->pol[0].seen_base_msat);
				__builtin_prefetch(&pf->pol[1].seen_base_msat);
				__builtin_prefetch(&pf->state);
				__builtin_prefetch(&lab[r->adj[k + 4].peer]);
			}
			int su = ch->node[0] == w ? 0 : 1;
			const struct chan_policy *pol = &ch->pol[su];
			uint32_t edge = ad->chan * 2 + (uint32_t)su;
			const struct mc_entry *e = NULL;
			uint64_t cap = ch->capacity_sat * 1000, fee = 0, nfee,
				 namt;
			double pw = 1, dw = 0, np, nw, key;

			if (lab[w].done == s && lab[w].stamp == s)
				continue;
			if (ch->state != CHAN_NORMAL || !pol->enabled ||
			    lv->amt > cap)
				continue;
			if (r->ex_stamp[edge] == s && lv->amt >= r->ex_min[edge])
				continue;
			r->relaxations++;
			if (q->mem && r->mc_stamp[edge] == s)
				e = &q->mem->v[r->mc_idx[edge]];
			if (w == src) {
				/* Our own channel: no fee, and we know what
				 * it can send. */
				if (q->local_balances) {
					uint64_t need, have = ch->balance_msat[su];
					if (!amount_msat_add(&need, lv->amt,
							     ch->htlc_out_msat[su]) ||
					    !amount_msat_add(&need, need,
							     route_reserve_msat(
								     ch->capacity_sat)) ||
					    have < need ||
					    ch->htlcs_out[su] >=
						    ch->max_htlcs[1 - su])
						continue;
				}
			} else {
				uint64_t base = pol->seen_base_msat;
				uint32_t ppm = pol->seen_ppm;
				double c = (double)cap, cl = pol->cltv_delta;

				if (lv->amt < pol->htlc_min_msat ||
				    lv->amt > pol->htlc_max_msat)
					continue;
				if (e && e->upd_ms &&
				    e->upd_ms >= pol->last_update_sec * 1000) {
					base = e->upd_base_msat;
					ppm = e->upd_ppm;
				}
				if (!fee_of(&fee, lv->amt, base, ppm))
					continue;
				switch (q->kind) {
				case SENDER_LND:
					pw = p_apriori(a, c, e, q->now_ms);
					dw = fw * (double)fee + a * cl * 15e-9;
					break;
				case SENDER_LND_BIMODAL:
					pw = p_bimodal(a, c, e, q->now_ms);
					dw = fw * (double)fee + a * cl * 15e-9;
					break;
				case SENDER_LDK:
					/* max_channel_saturation_power_of_half
					 * = 2: at most 1/4 of a channel. */
					if (q->ldk_saturation && a > c / 4)
						continue;
					dw = fw * (double)fee + 1024.0 +
					     a * 131072.0 / 1073741824.0;
					if (pol->htlc_max_msat >= cap / 2)
						dw += 250.0;
					if (e && (e->fail_ms || e->ok_ms) &&
					    age_ms(q->now_ms,
						   e->fail_ms > e->ok_ms
							   ? e->fail_ms
							   : e->ok_ms) <
						    14 * 86400e3) {
						double p = p_ldk(a, c, e,
								 q->now_ms);
						if (p <= 0)
							continue;
						dw += (10000.0 +
						       1250.0 * a / 1048576.0) *
						      -log10(p);
					}
					break;
				case SENDER_CLN_XPAY: {
					double p = p_uniform_xpay(a, c, e,
								  q->now_ms);
					if (p <= 0)
						continue;
					dw = q->xpay_mu / 100.0 * fw * (double)fee +
					     (100.0 - q->xpay_mu) / 100.0 *
						     xpay_k * -log(p);
					break;
				}
				case SENDER_CLN_PAY:
					/* Legacy pay: cost times a uniform
					 * liquidity bias; riskfactor 10. */
					dw = (fw * (double)fee + a * cl * 10.0 / 5259600.0 +
					      1.0) *
					     (1.0 - log1p(-a / (c + 1.0)));
					break;
				case SENDER_GETROUTE:
					dw = (double)fee +
					     a * cl * q->riskfactor / 5259600.0 +
					     1.0;
					break;
				}
				if (q->noise_sigma > 0)
					dw *= noise_factor(r, q->noise_seed,
							   edge);
			}
			if (!amount_msat_add(&nfee, lv->fee, fee) ||
			    nfee > q->fee_cap_msat ||
			    !amount_msat_add(&namt, lv->amt, fee))
				continue;
			np = lv->p * pw;
			/* lnd prunes below DefaultMinRouteProbability. */
			if (lnd && np < 0.01)
				continue;
			nw = lv->w + dw;
			key = lnd ? nw + attempt_cost / np : nw;
			if (lab[w].stamp == s && key >= lab[w].key)
				continue;
			lab[w] = (struct label){
				.key = key,
				.w = nw,
				.p = np,
				.amt = namt,
				.fee = nfee,
				.pred = ad->chan,
				.stamp = s,
				.done = 0,
				.cltv = lv->cltv +
					(w == src ? 0 : pol->cltv_delta),
				.hops = lv->hops + 1,
			};
			heap_push(r, key, w);
		}
	}
	if (lab[src].stamp != s || lab[src].done != s)
		return 0;
	u = src;
	while (u != tgt && n < ROUTE_MAX_HOPS) {
		const struct net_channel *ch = &net->chans[lab[u].pred];
		uint32_t v = net_channel_peer(ch, u);
		hops[n++] = (struct route_hop){
			.chan = lab[u].pred,
			.side = (uint8_t)(ch->node[0] == u ? 0 : 1),
			.to_node = v,
			.amount_msat = lab[v].amt,
			.cltv = lab[v].cltv,
		};
		u = v;
	}
	if (u != tgt)
		return 0;
	*fee_msat = lab[src].amt - q->amount_msat;
	return n;
}
