/* The payment engine: demand generation, senders' attempts and retries,
 * HTLCs held hop by hop, settlement, forwarding records, sendpay and
 * getroute for the fake lightningd; see payments.h for the model and the
 * "traffic" schema, route.h for how each wallet picks a route. */
#include "sim/payments.h"
#include "common/amount.h"
#include "common/rng.h"
#include "common/util.h"
#include "sim/evq.h"
#include "sim/fwdlog.h"
#include "sim/net.h"
#include "sim/pay_cfg.h"
#include "sim/route.h"
#include <math.h>
#include <string.h>

enum {
	EV_ARRIVAL = PAY_EVENT_BASE, /* a = candidate number, b = accepted */
	EV_INJECT,		     /* a = injected slot */
	EV_HOP,			     /* a = attempt, b = generation */
	EV_BACK,		     /* failure reached the sender */
	EV_SETTLE,		     /* preimage reached the sender */
	EV_RELEASE,		     /* held MPP part failed back */
	EV_REFILL,		     /* hourly: external liquidity upkeep */
};

/* BOLT 4 failure codes. */
#define BADONION 0x8000
#define PERM 0x4000
#define NODE 0x2000
#define UPDATE 0x1000
#define WIRE_TEMPORARY_CHANNEL_FAILURE (UPDATE | 7)
#define WIRE_UNKNOWN_NEXT_PEER (PERM | 10)
#define WIRE_AMOUNT_BELOW_MINIMUM (UPDATE | 11)
#define WIRE_FEE_INSUFFICIENT (UPDATE | 12)
#define WIRE_CHANNEL_DISABLED (UPDATE | 20)
#define WIRE_MPP_TIMEOUT 23

#define NO_SLOT UINT32_MAX
#define REFILL_MS (3600 * 1000ULL)
#define MAX_PARTS 32

static const char *const kind_names[SENDER_NKINDS] = {
	"lnd", "lnd_bimodal", "ldk", "cln_xpay", "cln_pay"};

/* Per sender model: fee cap, MPP rule (simulators.md section (c)). */
static const struct sender_model {
	uint32_t cap_ppm;
	uint64_t cap_exempt_msat;
	bool cap_additive;	 /* LDK: 1% + 50 sat; others max(x%, 5 sat) */
	uint64_t min_shard_msat; /* smallest part when splitting */
	uint32_t max_parts;
	bool uses_memory;	 /* remembers results across payments */
} models[SENDER_NKINDS] = {
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

struct traffic_cfg {
	double capacity_multiplier;
	double amount_median_sat, amount_sigma;
	uint64_t amount_min_sat, amount_max_sat;
	double zap_share, zap_median_sat, zap_sigma;
	double diurnal_amplitude, diurnal_peak_hour, weekend_factor;
	double directional_bias;
	double mix[SENDER_NKINDS];
	double fee_cap_scale, fee_cap_sigma, belief_noise;
	uint64_t max_attempts, retry_budget_sec;
	uint64_t hop_latency_min_ms, hop_latency_max_ms;
	uint64_t fee_grace_sec, memory_max;
	bool mpp;
	enum fee_sensitivity sensitivity;
	double refill_half_life_days;
};

struct ahop {
	uint32_t chan;
	uint8_t side;
	uint16_t lat_ms;	/* latency to the next node */
	uint64_t amt;
	uint64_t fwd_ci;	/* created_index at a fleet forwarder, 0 none */
};

struct attempt {
	uint32_t gen;
	uint32_t pay;		/* payment slot */
	uint32_t next_free;
	bool live;
	uint8_t nhops;
	uint8_t next;		/* hops locked so far */
	uint8_t fail_hop;
	uint16_t failcode;
	uint64_t amount_msat;	/* delivered to the receiver */
	struct ahop hops[ROUTE_MAX_HOPS];
};

struct payment {
	uint32_t gen;
	uint32_t next_free;
	bool live;
	bool injected;
	uint64_t id;
	uint64_t arrival_ms, deadline_ms;
	struct pay_demand d;
	struct rng rng;		/* latencies: this payment's own stream */
	uint8_t hash[32];
	uint64_t unassigned_msat; /* not in any attempt */
	uint64_t held_msat;	/* arrived at the receiver */
	uint64_t fee_msat;
	uint32_t attempts, inflight, settled, released;
	uint32_t held[MAX_PARTS];
	uint32_t nheld;
	bool completing, giving_up, had_failure;
	enum pay_fail_reason reason;
	struct route_excl *excl;
	size_t nexcl, capexcl;
};

struct inject {
	uint64_t at_ms;
	uint32_t sender, receiver;
	uint64_t amount_msat;
	int kind;
};

struct payments {
	struct net *net;
	struct evq *q;
	struct pay_hooks hooks;
	void *hooks_arg;
	struct traffic_cfg cfg;
	struct router *router;
	struct rng arrival_root, demand_root;
	uint64_t hash_salt;
	/* Demand tables, frozen at creation. */
	uint32_t *send_nodes, *recv_nodes;
	double *send_cum, *recv_cum;
	size_t nsend, nrecv;
	double kind_cum[SENDER_NKINDS];
	double rate_base_per_ms, rate_max_per_ms, weekly_norm;
	double amount_mean_sat;
	/* Arrival stream state: the next candidate (number, time, and how
	 * many were accepted before it). */
	bool started, pending;
	uint64_t cand, cand_accepted, end_ms;
	double cand_ms;
	/* Pools. */
	struct payment *pays;
	size_t npays, cappays;
	uint32_t pay_free;
	struct attempt *ats;
	size_t nats, capats;
	uint32_t at_free;
	struct mc *mem;		/* per node */
	size_t nmem;
	struct inject *inj;
	size_t ninj, capinj;
	uint64_t now_ms;
	uint64_t stats_from_ms;
	struct pay_stats st;
	/* Opening split (side 0's balance) of the channels that existed at
	 * creation: external channels relax toward it. */
	uint64_t *refill_target_msat;
	size_t nrefill;
	bool refill_scheduled;
	uint64_t refill_next_ms; /* on an hourly grid from the first start */
};

/* ---- configuration ------------------------------------------------------ */

static bool parse_traffic(const json_t *t, struct traffic_cfg *c, char **err)
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

static uint64_t fee_cap_rule(int kind, uint64_t amount_msat)
{
	const struct sender_model *m = &models[kind];
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
	cap = (double)fee_cap_rule(out->sender_kind, out->amount_msat) *
	      p->cfg.fee_cap_scale * exp(p->cfg.fee_cap_sigma * rng_normal(&r));
	out->fee_cap_msat = cap < 1 ? 1 : (uint64_t)cap;
	out->noise_seed = rng_u64(&r);
	out->dyn_seed = rng_u64(&r);
	return true;
}

/* Demand rate at @t_ms relative to the mean (daily and weekly rhythm). */
static double rhythm(const struct payments *p, double t_ms)
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

static void build_tables(struct payments *p)
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

/* ---- pools -------------------------------------------------------------- */

static uint32_t pay_alloc(struct payments *p)
{
	uint32_t i;

	if (p->pay_free != NO_SLOT) {
		i = p->pay_free;
		p->pay_free = p->pays[i].next_free;
	} else {
		xgrow(&p->pays, &p->cappays, p->npays + 1, sizeof(*p->pays));
		i = (uint32_t)p->npays++;
		p->pays[i].gen = 0;
	}
	{
		uint32_t gen = p->pays[i].gen + 1;
		memset(&p->pays[i], 0, sizeof(p->pays[i]));
		p->pays[i].gen = gen;
	}
	p->pays[i].live = true;
	return i;
}

static void pay_release_slot(struct payments *p, uint32_t i)
{
	struct payment *pay = &p->pays[i];

	free(pay->excl);
	pay->excl = NULL;
	pay->live = false;
	pay->next_free = p->pay_free;
	p->pay_free = i;
}

static uint32_t at_alloc(struct payments *p)
{
	uint32_t i;

	if (p->at_free != NO_SLOT) {
		i = p->at_free;
		p->at_free = p->ats[i].next_free;
	} else {
		xgrow(&p->ats, &p->capats, p->nats + 1, sizeof(*p->ats));
		i = (uint32_t)p->nats++;
		p->ats[i].gen = 0;
	}
	{
		uint32_t gen = p->ats[i].gen + 1;
		memset(&p->ats[i], 0, sizeof(p->ats[i]));
		p->ats[i].gen = gen;
	}
	p->ats[i].live = true;
	return i;
}

static void at_release(struct payments *p, uint32_t i)
{
	p->ats[i].live = false;
	p->ats[i].next_free = p->at_free;
	p->at_free = i;
}

static struct mc *sender_mem(struct payments *p, uint32_t node)
{
	if (node >= p->nmem) {
		size_t n = p->net->nnodes > node ? p->net->nnodes : node + 1;
		p->mem = xrealloc(p->mem, sizeof(*p->mem) * n);
		memset(p->mem + p->nmem, 0, sizeof(*p->mem) * (n - p->nmem));
		p->nmem = n;
	}
	return &p->mem[node];
}

/* ---- forwarding records ------------------------------------------------- */

static void fwd_hook(struct payments *p, uint32_t node, const struct fwd *f)
{
	if (p->hooks.forward_event)
		p->hooks.forward_event(p->hooks_arg, node, f);
}

/* A fleet node received an HTLC asking to be forwarded: record it as
 * lightningd does. Returns its created_index (0 for non-fleet nodes). */
static uint64_t fwd_open(struct payments *p, uint32_t node, uint32_t in_chan,
			 uint32_t out_chan, uint64_t in_msat, uint64_t out_msat,
			 enum fwd_status status, uint16_t failcode,
			 uint64_t now_ms, const uint8_t hash[32])
{
	struct net_node *n = &p->net->nodes[node];
	struct fwd f, *added;

	if (!n->fleet)
		return 0;
	memset(&f, 0, sizeof(f));
	f.in_chan = in_chan;
	f.out_chan = out_chan;
	f.in_htlc_id = n->fwds.next_htlc_id++;
	/* local_failed: no HTLC went out. */
	f.out_htlc_id = status == FWD_LOCAL_FAILED ? 0 : n->fwds.next_htlc_id++;
	f.in_msat = in_msat;
	f.out_msat = out_msat;
	f.fee_msat = in_msat >= out_msat ? in_msat - out_msat : 0;
	f.status = status;
	f.failcode = failcode;
	f.received_ms = now_ms;
	f.resolved_ms = status == FWD_OFFERED ? 0 : now_ms;
	memcpy(f.payment_hash, hash, 32);
	/* A local failure is stored once, already final (updated_index
	 * stays 0, as lightningd inserts it). */
	added = fwdlog_add(&n->fwds, &f);
	fwd_hook(p, node, added);
	return added->created_index;
}

static void fwd_close(struct payments *p, uint32_t node, uint64_t ci,
		      enum fwd_status status, uint64_t now_ms)
{
	struct fwd *f;

	if (!ci)
		return;
	f = fwdlog_resolve(&p->net->nodes[node].fwds, ci, status, now_ms);
	if (f)
		fwd_hook(p, node, f);
}

static const char *failcode_name(uint16_t code)
{
	switch (code) {
	case WIRE_TEMPORARY_CHANNEL_FAILURE:
		return "WIRE_TEMPORARY_CHANNEL_FAILURE";
	case WIRE_UNKNOWN_NEXT_PEER:
		return "WIRE_UNKNOWN_NEXT_PEER";
	case WIRE_AMOUNT_BELOW_MINIMUM:
		return "WIRE_AMOUNT_BELOW_MINIMUM";
	case WIRE_FEE_INSUFFICIENT:
		return "WIRE_FEE_INSUFFICIENT";
	case WIRE_CHANNEL_DISABLED:
		return "WIRE_CHANNEL_DISABLED";
	case WIRE_MPP_TIMEOUT:
		return "WIRE_MPP_TIMEOUT";
	}
	return "WIRE_UNKNOWN";
}

/* ---- HTLC mechanics ----------------------------------------------------- */

/* Whether side @s of @ch can offer an HTLC of @amt now; for a forward
 * (@has_in) also whether @amt_in pays the node's fee. 0 or a failcode,
 * in the order lightningd checks: the channel, the fee, the policy
 * limits, then what channeld can add (slots, balance above reserve). */
static uint16_t htlc_check(const struct payments *p,
			   const struct net_channel *ch, int s, uint64_t amt,
			   bool has_in, uint64_t amt_in)
{
	const struct net *net = p->net;
	const struct chan_policy *pol = &ch->pol[s];
	uint64_t need;

	if (ch->state != CHAN_NORMAL)
		return WIRE_UNKNOWN_NEXT_PEER;
	if (!net->nodes[ch->node[0]].connected ||
	    !net->nodes[ch->node[1]].connected)
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	if (has_in) {
		uint64_t fee, paid = amt_in >= amt ? amt_in - amt : 0;
		if (!pol->enabled)
			return WIRE_CHANNEL_DISABLED;
		if (amt_in < amt || !amount_fee_msat(&fee, amt, pol->base_msat,
						     pol->ppm))
			return WIRE_FEE_INSUFFICIENT;
		if (paid < fee) {
			/* CLN still takes the previous fee for
			 * enforcedelay after a change. */
			uint64_t old;
			bool grace = pol->has_prev &&
				     net->now_sec < pol->last_update_sec +
							    p->cfg.fee_grace_sec &&
				     amount_fee_msat(&old, amt,
						     pol->prev_base_msat,
						     pol->prev_ppm) &&
				     paid >= old;
			if (!grace)
				return WIRE_FEE_INSUFFICIENT;
		}
		if (amt < pol->htlc_min_msat)
			return WIRE_AMOUNT_BELOW_MINIMUM;
		if (amt > pol->htlc_max_msat)
			return WIRE_TEMPORARY_CHANNEL_FAILURE;
	}
	if (ch->htlcs_out[s] >= ch->max_htlcs[1 - s])
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	if (!amount_msat_add(&need, amt, ch->htlc_out_msat[s]) ||
	    !amount_msat_add(&need, need, route_reserve_msat(ch->capacity_sat)) ||
	    ch->balance_msat[s] < need)
		return WIRE_TEMPORARY_CHANNEL_FAILURE;
	return 0;
}

static void htlc_lock(struct net_channel *ch, int s, uint64_t amt)
{
	ch->htlcs_out[s]++;
	ch->htlc_out_msat[s] += amt;
	ch->out_payments_offered[s]++;
	ch->out_offered_msat[s] += amt;
	ch->in_payments_offered[1 - s]++;
	ch->in_offered_msat[1 - s] += amt;
}

static void htlc_unlock(struct net_channel *ch, int s, uint64_t amt)
{
	ch->htlcs_out[s]--;
	ch->htlc_out_msat[s] -= amt;
}

/* The HTLC settles: its amount moves to the other side. */
static void htlc_settle(struct net_channel *ch, int s, uint64_t amt)
{
	htlc_unlock(ch, s, amt);
	if (!amount_msat_sub(&ch->balance_msat[s], ch->balance_msat[s], amt) ||
	    !amount_msat_add(&ch->balance_msat[1 - s], ch->balance_msat[1 - s],
			     amt))
		abort(); /* htlc_check guaranteed the balance */
	ch->out_payments_fulfilled[s]++;
	ch->out_fulfilled_msat[s] += amt;
	ch->in_payments_fulfilled[1 - s]++;
	ch->in_fulfilled_msat[1 - s] += amt;
}

/* Credit the node on side @s of @out for forwarding @in_msat into
 * @out_msat over it. */
static void credit_forward(struct net *net, struct net_channel *out, int s,
			   uint64_t in_msat, uint64_t out_msat)
{
	struct net_node *n = &net->nodes[out->node[s]];
	uint64_t fee, t;

	if (amount_msat_sub(&fee, in_msat, out_msat)) {
		if (amount_msat_add(&t, n->fees_earned_msat, fee))
			n->fees_earned_msat = t;
		if (amount_msat_add(&t, out->fee_out_msat[s], fee))
			out->fee_out_msat[s] = t;
	}
	n->forwarded_msat += out_msat;
	n->forwards_settled++;
}

/* ---- payments ----------------------------------------------------------- */

static void payment_hash(const struct payments *p, uint64_t id, bool injected,
			 uint8_t out[32])
{
	uint64_t x = p->hash_salt ^ (id * 2 + injected);

	for (int i = 0; i < 4; i++) {
		uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		memcpy(out + 8 * i, &z, 8);
	}
}

static void finish(struct payments *p, uint32_t ps, bool ok)
{
	struct payment *pay = &p->pays[ps];
	struct pay_result res = {
		.id = pay->id,
		.injected = pay->injected,
		.arrival_ms = pay->arrival_ms,
		.done_ms = p->now_ms,
		.sender = pay->d.sender,
		.receiver = pay->d.receiver,
		.sender_kind = pay->d.sender_kind,
		.amount_msat = pay->d.amount_msat,
		.fee_cap_msat = pay->d.fee_cap_msat,
		.fee_msat = ok ? pay->fee_msat : 0,
		.succeeded = ok,
		.attempts = pay->attempts,
		.parts = ok ? pay->settled : 0,
		.reason = ok ? PAY_OK
			     : pay->reason ? pay->reason : PAY_EXHAUSTED,
	};

	if (pay->arrival_ms >= p->stats_from_ms) {
		int b = payments_bucket(res.amount_msat);
		p->st.payments_attempted++;
		p->st.bucket_attempted[b]++;
		p->st.attempts += pay->attempts;
		if (ok) {
			p->st.payments_succeeded++;
			p->st.bucket_succeeded[b]++;
			p->st.volume_msat += res.amount_msat;
			p->st.fees_paid_msat += res.fee_msat;
			if (!pay->had_failure) {
				p->st.first_try_succeeded++;
				p->st.bucket_first_try[b]++;
			}
			if (pay->settled > 1)
				p->st.mpp_payments++;
		} else if (res.reason == PAY_NO_ROUTE) {
			p->st.failed_no_route++;
		} else {
			p->st.failed_exhausted++;
		}
	}
	if (p->hooks.payment_done)
		p->hooks.payment_done(p->hooks_arg, &res);
	pay_release_slot(p, ps);
}

static uint64_t back_ms(const struct attempt *at, size_t upto)
{
	uint64_t t = 0;
	for (size_t j = 0; j < upto; j++)
		t += at->hops[j].lat_ms;
	return t;
}

static void give_up(struct payments *p, uint32_t ps)
{
	struct payment *pay = &p->pays[ps];

	if (!pay->nheld) {
		finish(p, ps, false);
		return;
	}
	/* The receiver fails back the parts it holds (mpp_timeout). */
	pay->giving_up = true;
	for (uint32_t i = 0; i < pay->nheld; i++) {
		struct attempt *at = &p->ats[pay->held[i]];
		evq_push(p->q, p->now_ms + back_ms(at, at->nhops), EV_RELEASE,
			 pay->held[i], at->gen, NULL);
	}
}

static void add_excl(struct payment *pay, uint32_t edge, uint64_t min_msat)
{
	xgrow(&pay->excl, &pay->capexcl, pay->nexcl + 1, sizeof(*pay->excl));
	pay->excl[pay->nexcl++] = (struct route_excl){edge, min_msat};
}

static size_t find_route(struct payments *p, struct payment *pay,
			 uint64_t amt, struct route_hop *hops, uint64_t *fee)
{
	struct route_query q = {
		.source = pay->d.sender,
		.target = pay->d.receiver,
		.amount_msat = amt,
		.kind = pay->d.sender_kind,
		.noise_sigma = pay->injected ? 0 : p->cfg.belief_noise,
		.noise_seed = pay->d.noise_seed,
		.now_ms = p->now_ms,
		.local_balances = true,
		.mem = sender_mem(p, pay->d.sender),
		.excl = pay->excl,
		.nexcl = pay->nexcl,
		.final_cltv = 18,
		.xpay_mu = 1,
		.fee_weight = sensitivity_fee_weight[p->cfg.sensitivity],
	};
	unsigned __int128 cap = (unsigned __int128)pay->d.fee_cap_msat * amt /
				pay->d.amount_msat;
	size_t n;

	q.fee_cap_msat = (uint64_t)cap;
	if (pay->d.sender_kind == SENDER_LDK) {
		/* LDK enforces its channel saturation limit first and drops
		 * it when no route fits. */
		q.ldk_saturation = true;
		n = router_find(p->router, &q, hops, fee);
		if (n)
			return n;
		q.ldk_saturation = false;
	}
	if (pay->d.sender_kind != SENDER_CLN_XPAY)
		return router_find(p->router, &q, hops, fee);
	/* xpay: reliability first (mu = 1); the fee weight is raised only
	 * when the flow costs more than the budget. */
	{
		static const double mus[] = {1, 10, 100};
		uint64_t budget = q.fee_cap_msat;
		for (size_t i = 0; i < ARRAY_SIZE(mus); i++) {
			q.xpay_mu = mus[i];
			q.fee_cap_msat = i + 1 < ARRAY_SIZE(mus) ? UINT64_MAX
								 : budget;
			n = router_find(p->router, &q, hops, fee);
			if (n && *fee <= budget)
				return n;
		}
	}
	return 0;
}

/* Send one part along @hops: the first hop is our own channel, checked and
 * locked now (so parts sent together do not count the same balance
 * twice); the rest happens hop by hop on the event queue. */
static bool launch(struct payments *p, uint32_t ps, uint64_t amt,
		   const struct route_hop *hops, size_t n)
{
	uint32_t ai = at_alloc(p);
	struct attempt *at = &p->ats[ai];
	struct payment *pay = &p->pays[ps];
	struct net_channel *ch0 = &p->net->chans[hops[0].chan];
	uint16_t code;

	at->pay = ps;
	at->nhops = (uint8_t)n;
	at->amount_msat = amt;
	for (size_t i = 0; i < n; i++) {
		uint64_t span = p->cfg.hop_latency_max_ms -
				p->cfg.hop_latency_min_ms + 1;
		at->hops[i] = (struct ahop){
			.chan = hops[i].chan,
			.side = hops[i].side,
			.lat_ms = (uint16_t)(p->cfg.hop_latency_min_ms +
					     rng_below(&pay->rng, span)),
			.amt = hops[i].amount_msat,
		};
	}
	pay->attempts++;
	code = htlc_check(p, ch0, hops[0].side, hops[0].amount_msat, false, 0);
	if (code) {
		/* Our own channel refused (a slot or balance taken since
		 * the route was found): no network round trip. */
		add_excl(pay, route_edge(hops[0].chan, hops[0].side),
			 hops[0].amount_msat);
		pay->had_failure = true;
		at_release(p, ai);
		return false;
	}
	htlc_lock(ch0, hops[0].side, hops[0].amount_msat);
	at->next = 1;
	pay->inflight++;
	pay->unassigned_msat -= amt;
	evq_push(p->q, p->now_ms + at->hops[0].lat_ms, EV_HOP, ai, at->gen,
		 NULL);
	return true;
}

static void pay_continue(struct payments *p, uint32_t ps)
{
	struct payment *pay = &p->pays[ps];
	const struct sender_model *m = &models[pay->d.sender_kind];
	struct route_hop hops[ROUTE_MAX_HOPS];

	while (pay->unassigned_msat > 0 && !pay->completing &&
	       !pay->giving_up) {
		uint64_t amt = pay->unassigned_msat, fee;
		size_t n;

		if (p->now_ms >= pay->deadline_ms ||
		    pay->attempts >= p->cfg.max_attempts) {
			pay->reason = PAY_EXHAUSTED;
			break;
		}
		/* Every part slot taken: wait for one to resolve. */
		if (pay->inflight + pay->nheld >= m->max_parts)
			break;
		for (;;) {
			uint64_t half = (amt + 1) / 2, pieces;
			n = find_route(p, pay, amt, hops, &fee);
			if (n)
				break;
			/* MPP: split when no single route carries it (lnd
			 * halves; others split similarly), within the
			 * model's smallest part and part count. */
			pieces = (pay->unassigned_msat + half - 1) / half;
			if (!p->cfg.mpp || half < m->min_shard_msat ||
			    pay->inflight + pay->nheld + pieces > m->max_parts)
				break;
			amt = half;
		}
		if (!n) {
			pay->reason = PAY_NO_ROUTE;
			break;
		}
		pay->reason = PAY_OK;
		launch(p, ps, amt, hops, n);
		pay = &p->pays[ps];
	}
	if (pay->unassigned_msat > 0 && !pay->inflight && !pay->giving_up &&
	    !pay->completing)
		give_up(p, ps);
}

static void start_payment(struct payments *p, uint64_t id, bool injected,
			  const struct pay_demand *d)
{
	uint32_t ps = pay_alloc(p);
	struct payment *pay = &p->pays[ps];

	pay->id = id;
	pay->injected = injected;
	pay->d = *d;
	pay->arrival_ms = p->now_ms;
	pay->deadline_ms = p->now_ms + p->cfg.retry_budget_sec * 1000;
	pay->unassigned_msat = d->amount_msat;
	rng_seed(&pay->rng, d->dyn_seed);
	payment_hash(p, id, injected, pay->hash);
	pay_continue(p, ps);
}

/* ---- event handlers ----------------------------------------------------- */

static struct attempt *event_attempt(struct payments *p, const struct event *ev)
{
	struct attempt *at;

	if (ev->a >= p->nats)
		return NULL;
	at = &p->ats[ev->a];
	return at->live && at->gen == ev->b ? at : NULL;
}

static void on_hop(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	struct payment *pay = &p->pays[at->pay];
	size_t i = at->next;

	if (i == at->nhops) {
		/* The part reached the receiver, which holds it until the
		 * whole amount is there (all parts or none). */
		pay->inflight--;
		pay->held[pay->nheld++] = ai;
		pay->held_msat += at->amount_msat;
		if (pay->held_msat == pay->d.amount_msat) {
			pay->completing = true;
			for (uint32_t k = 0; k < pay->nheld; k++) {
				struct attempt *h = &p->ats[pay->held[k]];
				evq_push(p->q,
					 p->now_ms + back_ms(h, h->nhops),
					 EV_SETTLE, pay->held[k], h->gen, NULL);
			}
		} else if (pay->giving_up) {
			evq_push(p->q, p->now_ms + back_ms(at, at->nhops),
				 EV_RELEASE, ai, at->gen, NULL);
		} else if (!pay->inflight && pay->unassigned_msat) {
			pay_continue(p, at->pay);
		}
		return;
	}
	{
		struct ahop *h = &at->hops[i];
		struct net_channel *ch = &p->net->chans[h->chan];
		uint32_t node = ch->node[h->side];
		uint16_t code = htlc_check(p, ch, h->side, h->amt, true,
					   at->hops[i - 1].amt);

		if (code) {
			fwd_open(p, node, at->hops[i - 1].chan, h->chan,
				 at->hops[i - 1].amt, h->amt, FWD_LOCAL_FAILED,
				 code, p->now_ms, pay->hash);
			p->net->nodes[node].forwards_local_failed++;
			at->fail_hop = (uint8_t)i;
			at->failcode = code;
			evq_push(p->q, p->now_ms + back_ms(at, i), EV_BACK, ai,
				 at->gen, NULL);
			return;
		}
		htlc_lock(ch, h->side, h->amt);
		h->fwd_ci = fwd_open(p, node, at->hops[i - 1].chan, h->chan,
				     at->hops[i - 1].amt, h->amt, FWD_OFFERED, 0,
				     p->now_ms, pay->hash);
		at->next = (uint8_t)(i + 1);
		evq_push(p->q, p->now_ms + h->lat_ms, EV_HOP, ai, at->gen,
			 NULL);
	}
}

/* Unlock the hops an attempt holds, failing its forwards. */
static void fail_back(struct payments *p, struct attempt *at, size_t upto)
{
	for (size_t j = 0; j < upto; j++) {
		struct ahop *h = &at->hops[j];
		struct net_channel *ch = &p->net->chans[h->chan];
		htlc_unlock(ch, h->side, h->amt);
		if (j > 0) {
			uint32_t node = ch->node[h->side];
			p->net->nodes[node].forwards_failed++;
			fwd_close(p, node, h->fwd_ci, FWD_FAILED, p->now_ms);
		}
	}
}

static void on_back(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];
	struct mc *mem = sender_mem(p, pay->d.sender);
	size_t k = at->fail_hop, max = p->cfg.memory_max;
	const struct ahop *fh = &at->hops[k];
	uint32_t edge = route_edge(fh->chan, fh->side);
	const struct chan_policy *pol = &p->net->chans[fh->chan].pol[fh->side];

	fail_back(p, at, k);
	/* What the sender learns (as lnd's mission control): the hops
	 * before the failure carried it; the failing one did not. */
	for (size_t j = 0; j < k; j++)
		mc_success(mem, max, route_edge(at->hops[j].chan,
						at->hops[j].side),
			   at->hops[j].amt, p->now_ms);
	switch (at->failcode) {
	case WIRE_FEE_INSUFFICIENT:
		/* The error carries the channel_update: use it now. */
		mc_update(mem, max, edge, pol->base_msat, pol->ppm, p->now_ms);
		break;
	case WIRE_TEMPORARY_CHANNEL_FAILURE:
		mc_fail(mem, max, edge, fh->amt, p->now_ms);
		add_excl(pay, edge, fh->amt);
		break;
	default:
		mc_fail(mem, max, edge, 0, p->now_ms);
		add_excl(pay, edge, 0);
		break;
	}
	pay->had_failure = true;
	pay->inflight--;
	pay->unassigned_msat += at->amount_msat;
	at_release(p, ai);
	if (pay->giving_up || pay->completing) {
		if (!pay->inflight && pay->giving_up &&
		    pay->released == pay->nheld)
			finish(p, ps, false);
		return;
	}
	pay_continue(p, ps);
}

static void on_settle(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];
	struct mc *mem = sender_mem(p, pay->d.sender);

	for (size_t j = 0; j < at->nhops; j++) {
		struct ahop *h = &at->hops[j];
		struct net_channel *ch = &p->net->chans[h->chan];
		htlc_settle(ch, h->side, h->amt);
		mc_success(mem, p->cfg.memory_max, route_edge(h->chan, h->side),
			   h->amt, p->now_ms);
		if (j > 0) {
			uint32_t node = ch->node[h->side];
			credit_forward(p->net, ch, h->side,
				       at->hops[j - 1].amt, h->amt);
			fwd_close(p, node, h->fwd_ci, FWD_SETTLED, p->now_ms);
		}
	}
	pay->fee_msat += at->hops[0].amt - at->amount_msat;
	pay->settled++;
	at_release(p, ai);
	if (pay->settled == pay->nheld)
		finish(p, ps, true);
}

static void on_release(struct payments *p, uint32_t ai)
{
	struct attempt *at = &p->ats[ai];
	uint32_t ps = at->pay;
	struct payment *pay = &p->pays[ps];

	fail_back(p, at, at->nhops);
	pay->released++;
	at_release(p, ai);
	if (pay->released == pay->nheld && !pay->inflight)
		finish(p, ps, false);
}

/* External operators keep their channels usable by means the model does
 * not play (rebalancing, swaps, closing and reopening): without them a
 * network whose demand is directional drains for good, and any liquid
 * channel becomes the last resort of every retry. So each hour every
 * channel between external nodes moves a share of the way back to its
 * opening split, as far as HTLCs in flight and the reserve allow. Fleet
 * channels are never touched: their liquidity is the plugins' business. */
static void refill(struct payments *p)
{
	struct net *net = p->net;
	double f = 1 - exp2(-(double)REFILL_MS /
			    (p->cfg.refill_half_life_days * 86400e3));

	for (size_t c = 0; c < p->nrefill && c < net->nchans; c++) {
		struct net_channel *ch = &net->chans[c];
		uint64_t target = p->refill_target_msat[c], reserve, give, room;
		int from;
		double want;

		if (ch->state != CHAN_NORMAL || net->nodes[ch->node[0]].fleet ||
		    net->nodes[ch->node[1]].fleet)
			continue;
		from = ch->balance_msat[0] > target ? 0 : 1;
		want = f * fabs((double)ch->balance_msat[0] - (double)target);
		reserve = route_reserve_msat(ch->capacity_sat);
		room = ch->htlc_out_msat[from] + reserve;
		if (ch->balance_msat[from] <= room)
			continue;
		give = (uint64_t)want;
		if (give > ch->balance_msat[from] - room)
			give = ch->balance_msat[from] - room;
		ch->balance_msat[from] -= give;
		ch->balance_msat[1 - from] += give;
	}
}

/* The next hourly refill, if it falls before the demand ends (so a
 * caller that pops events until the queue is empty stops). */
static void schedule_refill(struct payments *p)
{
	if (p->refill_scheduled || p->cfg.refill_half_life_days <= 0 ||
	    p->refill_next_ms >= p->end_ms)
		return;
	p->refill_scheduled = true;
	evq_push(p->q, p->refill_next_ms, EV_REFILL, 0, 0, NULL);
}

static void schedule_candidate(struct payments *p)
{
	struct rng r;

	/* Candidate times of a thinned Poisson process at the peak rate;
	 * each candidate's draws come from its own fork, so the stream
	 * depends only on the seed. */
	rng_fork(&p->arrival_root, p->cand, &r);
	p->cand_ms += rng_exponential(&r, 1.0 / p->rate_max_per_ms);
	if (p->cand_ms >= (double)p->end_ms) {
		p->pending = false;
		return;
	}
	p->pending = true;
	evq_push(p->q, (uint64_t)p->cand_ms, EV_ARRIVAL, p->cand,
		 p->cand_accepted, NULL);
}

static void on_arrival(struct payments *p, const struct event *ev)
{
	struct rng r;
	struct pay_demand d;
	uint64_t k;

	if (ev->a != p->cand)
		return;
	rng_fork(&p->arrival_root, p->cand, &r);
	(void)rng_exponential(&r, 1.0); /* the gap, drawn before */
	k = p->cand_accepted;
	if (rng_unit(&r) * p->rate_max_per_ms <
	    p->rate_base_per_ms * rhythm(p, p->cand_ms)) {
		p->cand_accepted++;
		if (payments_demand(p, k, &d))
			start_payment(p, k, false, &d);
	}
	p->cand++;
	schedule_candidate(p);
}

bool payments_handle(struct payments *p, const struct event *ev)
{
	struct attempt *at;

	if (ev->type < PAY_EVENT_BASE || ev->type > PAY_EVENT_LAST)
		return false;
	if (ev->at_ms > p->now_ms)
		p->now_ms = ev->at_ms;
	switch (ev->type) {
	case EV_ARRIVAL:
		on_arrival(p, ev);
		break;
	case EV_INJECT:
		if (ev->a < p->ninj) {
			const struct inject *in = &p->inj[ev->a];
			struct pay_demand d = {
				.sender = in->sender,
				.receiver = in->receiver,
				.amount_msat = in->amount_msat,
				.sender_kind = in->kind,
				.fee_cap_msat =
					fee_cap_rule(in->kind, in->amount_msat),
				.noise_seed = 0,
				.dyn_seed = p->hash_salt ^ ev->a,
			};
			start_payment(p, ev->a, true, &d);
		}
		break;
	case EV_HOP:
		if ((at = event_attempt(p, ev)))
			on_hop(p, (uint32_t)ev->a);
		break;
	case EV_BACK:
		if ((at = event_attempt(p, ev)))
			on_back(p, (uint32_t)ev->a);
		break;
	case EV_SETTLE:
		if ((at = event_attempt(p, ev)))
			on_settle(p, (uint32_t)ev->a);
		break;
	case EV_RELEASE:
		if ((at = event_attempt(p, ev)))
			on_release(p, (uint32_t)ev->a);
		break;
	case EV_REFILL:
		refill(p);
		p->refill_scheduled = false;
		p->refill_next_ms += REFILL_MS;
		schedule_refill(p);
		break;
	}
	return true;
}

/* ---- public ------------------------------------------------------------- */

struct payments *payments_new(struct net *net, struct evq *q,
			      const json_t *traffic, uint64_t seed,
			      const struct pay_hooks *hooks, void *hooks_arg,
			      char **err)
{
	struct payments *p;
	struct traffic_cfg cfg;
	struct rng root;

	*err = NULL;
	if (!parse_traffic(traffic, &cfg, err))
		return NULL;
	p = xzalloc(sizeof(*p));
	p->net = net;
	p->q = q;
	if (hooks)
		p->hooks = *hooks;
	p->hooks_arg = hooks_arg;
	p->cfg = cfg;
	p->pay_free = p->at_free = NO_SLOT;
	rng_seed(&root, seed ^ 0x7061796d656e7473ULL); /* "payments" */
	rng_fork(&root, 1, &p->arrival_root);
	rng_fork(&root, 2, &p->demand_root);
	p->hash_salt = rng_u64(&root);
	build_tables(p);
	p->router = router_new(net);
	p->nrefill = net->nchans;
	p->refill_target_msat = xmalloc(sizeof(uint64_t) * (net->nchans + 1));
	for (size_t c = 0; c < net->nchans; c++)
		p->refill_target_msat[c] = net->chans[c].balance_msat[0];
	p->now_ms = net->now_sec * 1000;
	return p;
}

void payments_free(struct payments *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->npays; i++)
		free(p->pays[i].excl);
	for (size_t i = 0; i < p->nmem; i++)
		mc_free(&p->mem[i]);
	free(p->mem);
	free(p->pays);
	free(p->ats);
	free(p->inj);
	free(p->send_nodes);
	free(p->recv_nodes);
	free(p->send_cum);
	free(p->recv_cum);
	free(p->refill_target_msat);
	router_free(p->router);
	free(p);
}

void payments_start(struct payments *p, uint64_t start_ms, uint64_t end_ms)
{
	if (!p->rate_max_per_ms)
		return;
	if (!p->started) {
		p->started = true;
		p->cand_ms = (double)start_ms;
		p->end_ms = end_ms;
		p->refill_next_ms = start_ms + REFILL_MS;
		schedule_refill(p);
		schedule_candidate(p);
		return;
	}
	if (end_ms <= p->end_ms)
		return;
	p->end_ms = end_ms;
	schedule_refill(p);
	/* The stream stopped at the candidate past the old end: it is
	 * already drawn, so schedule it rather than draw a new one. */
	if (!p->pending && p->cand_ms < (double)end_ms) {
		p->pending = true;
		evq_push(p->q, (uint64_t)p->cand_ms, EV_ARRIVAL, p->cand,
			 p->cand_accepted, NULL);
	}
}

uint64_t payments_inject(struct payments *p, uint64_t at_ms, uint32_t sender,
			 uint32_t receiver, uint64_t amount_msat,
			 int sender_kind)
{
	xgrow(&p->inj, &p->capinj, p->ninj + 1, sizeof(*p->inj));
	p->inj[p->ninj] = (struct inject){at_ms, sender, receiver, amount_msat,
					  sender_kind >= 0 &&
							  sender_kind < SENDER_NKINDS
						  ? sender_kind
						  : SENDER_LND};
	evq_push(p->q, at_ms, EV_INJECT, p->ninj, 0, NULL);
	return p->ninj++;
}

bool payments_sendpay_now(struct payments *p, uint32_t payer,
			  const struct pay_hop *hops, size_t nhops,
			  const uint8_t payment_hash[32],
			  struct sendpay_result *res, char **err)
{
	struct net *net = p->net;
	uint64_t now_ms = net->now_sec * 1000 > p->now_ms ? net->now_sec * 1000
							  : p->now_ms;
	uint8_t side[ROUTE_MAX_HOPS];
	uint64_t ci[ROUTE_MAX_HOPS];
	uint32_t at = payer;
	size_t k;
	uint16_t code = 0;

	*err = NULL;
	memset(res, 0, sizeof(*res));
	if (payer >= net->nnodes) {
		*err = xfmt("unknown payer node %u", payer);
		return false;
	}
	if (!nhops || nhops > ROUTE_MAX_HOPS) {
		*err = xfmt("route must have 1 to %d hops, not %zu",
			    ROUTE_MAX_HOPS, nhops);
		return false;
	}
	for (size_t i = 0; i < nhops; i++) {
		const struct net_channel *ch;
		int s;
		if (hops[i].chan >= net->nchans) {
			*err = xfmt("hop %zu: unknown channel", i);
			return false;
		}
		ch = &net->chans[hops[i].chan];
		s = net_channel_side(ch, at);
		if (s < 0 || ch->node[1 - s] != hops[i].to_node) {
			*err = xfmt("hop %zu: channel %s does not connect "
				    "%s to %s",
				    i, ch->scid, net->nodes[at].alias,
				    hops[i].to_node < net->nnodes
					    ? net->nodes[hops[i].to_node].alias
					    : "?");
			return false;
		}
		if (!hops[i].amount_msat) {
			*err = xfmt("hop %zu: zero amount", i);
			return false;
		}
		side[i] = (uint8_t)s;
		at = hops[i].to_node;
	}

	/* Offer hop by hop; the first refusal fails the whole route. */
	for (k = 0; k < nhops; k++) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		code = htlc_check(p, ch, side[k], hops[k].amount_msat, k > 0,
				  k > 0 ? hops[k - 1].amount_msat : 0);
		if (code)
			break;
		htlc_lock(ch, side[k], hops[k].amount_msat);
		ci[k] = k > 0 ? fwd_open(p, ch->node[side[k]], hops[k - 1].chan,
					 hops[k].chan, hops[k - 1].amount_msat,
					 hops[k].amount_msat, FWD_OFFERED, 0,
					 now_ms, payment_hash)
			      : 0;
	}
	if (code) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		uint32_t node = ch->node[side[k]];
		if (k > 0) {
			fwd_open(p, node, hops[k - 1].chan, hops[k].chan,
				 hops[k - 1].amount_msat, hops[k].amount_msat,
				 FWD_LOCAL_FAILED, code, now_ms, payment_hash);
			net->nodes[node].forwards_local_failed++;
		}
		for (size_t j = 0; j < k; j++) {
			struct net_channel *cj = &net->chans[hops[j].chan];
			htlc_unlock(cj, side[j], hops[j].amount_msat);
			if (j > 0) {
				uint32_t fn = cj->node[side[j]];
				net->nodes[fn].forwards_failed++;
				fwd_close(p, fn, ci[j], FWD_FAILED, now_ms);
			}
		}
		res->status = SENDPAY_FAILED;
		res->erring_index = k;
		res->erring_chan = hops[k].chan;
		res->erring_node = node;
		res->erring_direction = side[k];
		res->failcode = code;
		res->failcodename = failcode_name(code);
		return true;
	}
	for (k = 0; k < nhops; k++) {
		struct net_channel *ch = &net->chans[hops[k].chan];
		htlc_settle(ch, side[k], hops[k].amount_msat);
		if (k > 0) {
			uint32_t node = ch->node[side[k]];
			credit_forward(net, ch, side[k],
				       hops[k - 1].amount_msat,
				       hops[k].amount_msat);
			fwd_close(p, node, ci[k], FWD_SETTLED, now_ms);
		}
	}
	res->status = SENDPAY_COMPLETE;
	res->fee_msat = hops[0].amount_msat > hops[nhops - 1].amount_msat
				? hops[0].amount_msat - hops[nhops - 1].amount_msat
				: 0;
	if (hops[nhops - 1].to_node == payer) {
		uint64_t t;
		if (amount_msat_add(&t, net->nodes[payer].rebalance_fees_paid_msat,
				    res->fee_msat))
			net->nodes[payer].rebalance_fees_paid_msat = t;
	}
	return true;
}

size_t payments_getroute(struct payments *p, uint32_t from, uint32_t to,
			 uint64_t amount_msat, double riskfactor,
			 const uint32_t *exclude, size_t nexclude,
			 struct pay_hop *hops)
{
	struct route_excl *ex = xmalloc(sizeof(*ex) * (2 * nexclude + 1));
	struct route_hop rh[ROUTE_MAX_HOPS];
	struct route_query q = {
		.source = from,
		.target = to,
		.amount_msat = amount_msat,
		.kind = SENDER_GETROUTE,
		.fee_cap_msat = UINT64_MAX,
		.riskfactor = riskfactor,
		.now_ms = p->now_ms,
		.excl = ex,
		.nexcl = 2 * nexclude,
		.final_cltv = 9,
	};
	uint64_t fee;
	size_t n;

	for (size_t i = 0; i < nexclude; i++) {
		ex[2 * i] = (struct route_excl){route_edge(exclude[i], 0), 0};
		ex[2 * i + 1] = (struct route_excl){route_edge(exclude[i], 1), 0};
	}
	n = router_find(p->router, &q, rh, &fee);
	free(ex);
	for (size_t i = 0; i < n; i++)
		hops[i] = (struct pay_hop){
			.chan = rh[i].chan,
			.to_node = rh[i].to_node,
			.amount_msat = rh[i].amount_msat,
			.delay = rh[i].cltv,
		};
	return n;
}

int payments_bucket(uint64_t amount_msat)
{
	uint64_t sat = amount_msat / 1000;
	return sat < 1000 ? 0 : sat < 10000 ? 1 : sat < 100000 ? 2
						: sat < 1000000 ? 3 : 4;
}

void payments_stats(const struct payments *p, struct pay_stats *out)
{
	uint64_t relax;

	*out = p->st;
	router_counters(p->router, &out->route_searches, &relax);
}

void payments_reset_stats(struct payments *p, uint64_t ms)
{
	memset(&p->st, 0, sizeof(p->st));
	p->stats_from_ms = ms;
}

enum fee_sensitivity payments_sensitivity(const struct payments *p)
{
	return p->cfg.sensitivity;
}
