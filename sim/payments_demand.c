/* The payment engine's demand: the "traffic" settings, the senders'
 * models and the stream of payments, a pure function of the seed and the
 * network's initial weights (sim/payments.h). */
#include "common/util.h"
#include "sim/net.h"
#include "sim/pay_cfg.h"
#include "sim/payments_internal.h"
#include <math.h>
#include <string.h>

static const char *const kind_names[SENDER_NKINDS] = {
	"lnd", "lnd_bimodal", "ldk", "cln_xpay", "cln_pay"};

/* Per sender model: fee cap, MPP rule (simulators.md section (c)). */
const struct sender_model pay_models[SENDER_NKINDS] = {
	/* lnd: wallets set ~1% (lncli's 5% is for humans at a prompt);
	 * DefaultShardMinAmt 10k sat, 16 parts (routerrpc). [L/H] */
	[SENDER_LND] = {10000, 5000, false, 10000000, 16, true},
	[SENDER_LND_BIMODAL] = {10000, 5000, false, 10000000, 16, true},
	/* LDK: max_total_routing_fee_msat 1% + 50 sat; 10 paths. [H] */
	[SENDER_LDK] = {10000, 50000, true, 1000000, 10, true},
	/* xpay: maxfee max(1%, 5 sat); single path up to 1k sat. [H] */
	[SENDER_CLN_XPAY] = {10000, 5000, false, 1000000, MAX_PARTS, true},
	/* pay: maxfeepercent 0.5%, exemptfee 5 sat; parts >= 100 sat. [H]
	 */
	[SENDER_CLN_PAY] = {5000, 5000, false, 100000, MAX_PARTS, false},
};

/* ---- configuration ------------------------------------------------------ */

bool pay_parse_traffic(const json_t *t, struct traffic_cfg *c, char **err)
{
	static const char *const known[] = {
		"capacity_multiplier", "amount_median_sat", "amount_sigma",
		"amount_min_sat", "amount_max_sat", "zap_share",
		"zap_median_sat", "zap_sigma", "diurnal_amplitude",
		"diurnal_peak_hour", "weekend_factor", "directional_bias",
		"senders", "fee_cap_scale", "fee_cap_sigma", "belief_noise",
		"max_attempts", "retry_budget_sec", "hop_latency_min_ms",
		"hop_latency_max_ms", "fee_grace_sec", "mpp", "memory_max",
		"fee_sensitivity", "refill_half_life_days", NULL};
	/* simulators.md (e) "Senders": lnd-apriori 60 %, lnd-bimodal 10 %,
	 * LDK 15 %, CLN-xpay 10 %, CLN-pay 5 % [L]. */
	static const double def_mix[SENDER_NKINDS] = {0.6, 0.1, 0.15, 0.1,
						      0.05};
	struct cfg r;
	bool ok;

	ok = cfg_open(&r, t, "traffic", known) &&
	     cfg_num(&r, "capacity_multiplier", 4, 0, true, 1000,
		     &c->capacity_multiplier) &&
	     cfg_num(&r, "amount_median_sat", 20000, 0, true, INFINITY,
		     &c->amount_median_sat) &&
	     cfg_num(&r, "amount_sigma", 1.2, 0, false, 10, &c->amount_sigma) &&
	     cfg_u64(&r, "amount_min_sat", 1, 1, 2100000000000000ULL,
		     &c->amount_min_sat) &&
	     cfg_u64(&r, "amount_max_sat", 5000000, 1, 2100000000000000ULL,
		     &c->amount_max_sat) &&
	     cfg_num(&r, "zap_share", 0, 0, false, 1, &c->zap_share) &&
	     cfg_num(&r, "zap_median_sat", 100, 0, true, INFINITY,
		     &c->zap_median_sat) &&
	     cfg_num(&r, "zap_sigma", 1.2, 0, false, 10, &c->zap_sigma) &&
	     cfg_num(&r, "diurnal_amplitude", 0.3, 0, false, 0.99,
		     &c->diurnal_amplitude) &&
	     cfg_num(&r, "diurnal_peak_hour", 21, 0, false, 24,
		     &c->diurnal_peak_hour) &&
	     cfg_num(&r, "weekend_factor", 0.85, 0, false, 10,
		     &c->weekend_factor) &&
	     cfg_num(&r, "directional_bias", 1, 0, false, 10,
		     &c->directional_bias) &&
	     cfg_mix(&r, "senders", kind_names, SENDER_NKINDS, def_mix,
		     c->mix) &&
	     cfg_num(&r, "fee_cap_scale", 1, 0, true, 100, &c->fee_cap_scale) &&
	     cfg_num(&r, "fee_cap_sigma", 0.25, 0, false, 3,
		     &c->fee_cap_sigma) &&
	     cfg_num(&r, "belief_noise", 0.1, 0, false, 3, &c->belief_noise) &&
	     cfg_u64(&r, "max_attempts", 10, 1, 1000, &c->max_attempts) &&
	     cfg_u64(&r, "retry_budget_sec", 60, 1, 86400,
		     &c->retry_budget_sec) &&
	     cfg_u64(&r, "hop_latency_min_ms", 100, 0, 60000,
		     &c->hop_latency_min_ms) &&
	     cfg_u64(&r, "hop_latency_max_ms", 300, 0, 60000,
		     &c->hop_latency_max_ms) &&
	     cfg_u64(&r, "fee_grace_sec", 600, 0, 86400, &c->fee_grace_sec) &&
	     cfg_bool(&r, "mpp", true, &c->mpp) &&
	     cfg_u64(&r, "memory_max", 512, 1, 100000, &c->memory_max) &&
	     cfg_num(&r, "refill_half_life_days", 3, 0, false, 3650,
		     &c->refill_half_life_days);
	c->sensitivity = SENS_DEFAULT;
	if (ok && json_object_get(t, "fee_sensitivity") &&
	    !payments_sensitivity_parse(
		    json_string_value(json_object_get(t, "fee_sensitivity")),
		    &c->sensitivity))
		ok = cfg_fail(&r, "fee_sensitivity",
			      "must be \"low\", \"default\" or \"high\"");
	if (ok && c->amount_max_sat < c->amount_min_sat)
		ok = cfg_fail(&r, "amount_max_sat",
			      "must be at least amount_min_sat (%llu)",
			      (unsigned long long)c->amount_min_sat);
	if (ok && c->hop_latency_max_ms < c->hop_latency_min_ms)
		ok = cfg_fail(&r, "hop_latency_max_ms",
			      "must be at least hop_latency_min_ms (%llu)",
			      (unsigned long long)c->hop_latency_min_ms);
	if (!ok)
		*err = r.err;
	return ok;
}

static const char *const sensitivity_names[] = {"low", "default", "high"};
/* The weight of the fee in every sender model's hop cost. "low" is the
 * wallets' own constants: in networks of tens to hundreds of nodes a hop
 * of reliability is worth so much more than a fee that a well-placed node
 * can charge ten times the market and keep most of its traffic. "default"
 * is calibrated so that a channel with competitors earns most near the
 * competitors' median fee (bench/sim-validation, doc/simulator.md);
 * "high" is three times that. */
static const double sensitivity_fee_weight[] = {1, 5, 15};

double pay_fee_weight(enum fee_sensitivity s)
{
	return sensitivity_fee_weight[s];
}

bool payments_sensitivity_parse(const char *name, enum fee_sensitivity *out)
{
	for (int i = 0; name && i < 3; i++)
		if (!strcmp(name, sensitivity_names[i])) {
			if (out)
				*out = (enum fee_sensitivity)i;
			return true;
		}
	return false;
}

const char *payments_sensitivity_name(enum fee_sensitivity s)
{
	return s <= SENS_HIGH ? sensitivity_names[s] : "?";
}

/* ---- demand ------------------------------------------------------------- */

static double phi(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

/* Mean of a log-normal clipped to [lo, hi]. */
static double clipped_lognormal_mean(double mu, double sigma, double lo,
				     double hi)
{
	double a, b;

	if (sigma <= 0)
		return fmin(fmax(exp(mu), lo), hi);
	a = (log(lo) - mu) / sigma;
	b = (log(hi) - mu) / sigma;
	return lo * phi(a) +
	       exp(mu + sigma * sigma / 2) * (phi(b - sigma) - phi(a - sigma)) +
	       hi * (1 - phi(b));
}

static size_t pick_cum(const double *cum, size_t n, double u)
{
	size_t lo = 0, hi = n;

	/* First index whose cumulative weight exceeds u * total. */
	u *= cum[n - 1];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cum[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < n ? lo : n - 1;
}

uint64_t pay_fee_cap_rule(int kind, uint64_t amount_msat)
{
	const struct sender_model *m = &pay_models[kind];
	uint64_t prop = amount_msat / 1000000 * m->cap_ppm +
			amount_msat % 1000000 * m->cap_ppm / 1000000;

	if (m->cap_additive)
		return prop + m->cap_exempt_msat;
	return prop > m->cap_exempt_msat ? prop : m->cap_exempt_msat;
}

bool payments_demand(const struct payments *p, uint64_t k,
		     struct pay_demand *out)
{
	struct rng r;
	double x, cap;
	uint64_t sat;
	int tries;

	memset(out, 0, sizeof(*out));
	if (!p->nsend || !p->nrecv)
		return false;
	rng_fork(&p->demand_root, k, &r);
	out->sender = p->send_nodes[pick_cum(p->send_cum, p->nsend,
					     rng_unit(&r))];
	/* A fixed number of draws, so the stream never depends on more
	 * than (seed, k). */
	for (tries = 0; tries < 16; tries++) {
		out->receiver = p->recv_nodes[pick_cum(p->recv_cum, p->nrecv,
						       rng_unit(&r))];
		if (out->receiver != out->sender)
			break;
	}
	if (out->receiver == out->sender)
		return false;
	if (rng_unit(&r) < p->cfg.zap_share)
		x = rng_lognormal(&r, log(p->cfg.zap_median_sat),
				  p->cfg.zap_sigma);
	else
		x = rng_lognormal(&r, log(p->cfg.amount_median_sat),
				  p->cfg.amount_sigma);
	x = fmin(fmax(round(x), (double)p->cfg.amount_min_sat),
		 (double)p->cfg.amount_max_sat);
	sat = (uint64_t)x;
	out->amount_msat = sat * 1000;
	x = rng_unit(&r);
	out->sender_kind = SENDER_NKINDS - 1;
	for (int i = 0; i < SENDER_NKINDS; i++)
		if (x < p->kind_cum[i]) {
			out->sender_kind = i;
			break;
		}
	cap = (double)pay_fee_cap_rule(out->sender_kind, out->amount_msat) *
	      p->cfg.fee_cap_scale * exp(p->cfg.fee_cap_sigma * rng_normal(&r));
	out->fee_cap_msat = cap < 1 ? 1 : (uint64_t)cap;
	out->noise_seed = rng_u64(&r);
	out->dyn_seed = rng_u64(&r);
	return true;
}

/* Demand rate at @t_ms relative to the mean (daily and weekly pay_rhythm). */
double pay_rhythm(const struct payments *p, double t_ms)
{
	double hour = fmod(t_ms / 3600e3, 24.0);
	uint64_t day = (uint64_t)(t_ms / 86400e3);
	/* 1970-01-01 was a Thursday: day + 4 = 0 on Sundays. */
	int dow = (int)((day + 4) % 7);
	double f = 1 + p->cfg.diurnal_amplitude *
			       cos(2 * M_PI * (hour - p->cfg.diurnal_peak_hour) /
				   24.0);

	if (dow == 0 || dow == 6)
		f *= p->cfg.weekend_factor;
	return f / p->weekly_norm;
}

void pay_build_tables(struct payments *p)
{
	struct net *net = p->net;
	double total_cap = 0, bias = p->cfg.directional_bias, acc = 0;

	p->send_nodes = xmalloc(sizeof(uint32_t) * (net->nnodes + 1));
	p->recv_nodes = xmalloc(sizeof(uint32_t) * (net->nnodes + 1));
	p->send_cum = xmalloc(sizeof(double) * (net->nnodes + 1));
	p->recv_cum = xmalloc(sizeof(double) * (net->nnodes + 1));
	for (size_t c = 0; c < net->nchans; c++)
		if (net->chans[c].state == CHAN_NORMAL)
			total_cap += (double)net->chans[c].capacity_sat;
	for (size_t i = 0; i < net->nnodes; i++) {
		const struct net_node *n = &net->nodes[i];
		double cap = 0, ws, wr;

		if (n->fleet)
			continue;
		for (size_t k = 0; k < n->nchans; k++) {
			const struct net_channel *ch = &net->chans[n->chans[k]];
			if (ch->state == CHAN_NORMAL)
				cap += (double)ch->capacity_sat;
		}
		if (cap <= 0)
			continue;
		/* SimLN: activity proportional to capacity; the role
		 * weights make some nodes mostly senders, some mostly
		 * receivers, so channels drain directionally. */
		ws = cap * fmax(0, 1 + bias * (n->send_weight - 1));
		wr = cap * fmax(0, 1 + bias * (n->recv_weight - 1));
		if (ws > 0) {
			p->send_nodes[p->nsend] = (uint32_t)i;
			p->send_cum[p->nsend] =
				(p->nsend ? p->send_cum[p->nsend - 1] : 0) + ws;
			p->nsend++;
		}
		if (wr > 0) {
			p->recv_nodes[p->nrecv] = (uint32_t)i;
			p->recv_cum[p->nrecv] =
				(p->nrecv ? p->recv_cum[p->nrecv - 1] : 0) + wr;
			p->nrecv++;
		}
	}
	for (int i = 0; i < SENDER_NKINDS; i++) {
		acc += p->cfg.mix[i];
		p->kind_cum[i] = acc;
	}
	p->kind_cum[SENDER_NKINDS - 1] = 2; /* rounding never leaves a gap */
	p->amount_mean_sat =
		(1 - p->cfg.zap_share) *
			clipped_lognormal_mean(log(p->cfg.amount_median_sat),
					       p->cfg.amount_sigma,
					       (double)p->cfg.amount_min_sat,
					       (double)p->cfg.amount_max_sat) +
		p->cfg.zap_share *
			clipped_lognormal_mean(log(p->cfg.zap_median_sat),
					       p->cfg.zap_sigma,
					       (double)p->cfg.amount_min_sat,
					       (double)p->cfg.amount_max_sat);
	/* The network sends capacity_multiplier x its capacity per 30
	 * days (SimLN's knob; 0.6 from River's 2023 figures). */
	p->weekly_norm = (5 + 2 * p->cfg.weekend_factor) / 7;
	p->rate_base_per_ms = p->nsend && p->nrecv
				      ? p->cfg.capacity_multiplier * total_cap /
						(30 * 86400e3 * p->amount_mean_sat)
				      : 0;
	p->rate_max_per_ms = p->rate_base_per_ms *
			     (1 + p->cfg.diurnal_amplitude) *
			     fmax(1, p->cfg.weekend_factor) / p->weekly_norm;
}
