/* Unit tests for engine/flow.c: the classification table (congestion,
 * window ratio with exit hysteresis, Kalman thresholds, balance bands with
 * hysteresis and vetoes, activity), the adaptive EMA, velocity,
 * confidence, roles, and the per-peer aggregate of multi-channel peers. */
#include "engine/flow.h"
#include "tests/check.h"
#include <math.h>
#include <string.h>

#define NOW 1700000000ULL
#define DAY 86400ULL
#define CAP 1000000ULL

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void analyze(const struct flow_params *p, struct flow_state *st,
		    const struct flow_obs *obs, uint64_t now,
		    struct flow_result *out)
{
	const char *err = flow_analyze(p, st, obs, now, out);

	if (err)
		CHECK(false, "unexpected flow_analyze error: %s", err);
}

struct class_case {
	const char *name;
	enum flow_class prev;
	uint64_t local_sat, in_sat, out_sat;
	bool congested;
	bool kalman;	    /* a converged filter at kalman_ratio */
	double kalman_ratio;
	double posterior_var;
	uint64_t capacity_sat; /* 0: CAP */
	bool zero_capacity;
	enum flow_class want;
	const char *want_basis;
	bool want_vetoed;
};

static void test_classify(void)
{
	static const struct class_case cases[] = {
	    {.name = "congested overrides a source", .local_sat = 100000,
	     .out_sat = 900000, .congested = true, .want = FLOW_CONGESTED,
	     .want_basis = "congested"},
	    {.name = "no capacity", .zero_capacity = true,
	     .want = FLOW_UNKNOWN, .want_basis = "no_capacity"},
	    /* (700k - 100k) / 1M = 0.6 > 0.5 */
	    {.name = "window ratio source", .local_sat = 500000,
	     .in_sat = 100000, .out_sat = 700000, .want = FLOW_SOURCE,
	     .want_basis = "ratio"},
	    /* -0.6 < -0.5 */
	    {.name = "window ratio sink", .local_sat = 500000,
	     .in_sat = 700000, .out_sat = 100000, .want = FLOW_SINK,
	     .want_basis = "ratio"},
	    /* 0.45 > 0.5 * 0.8 = 0.4: a source stays a source. */
	    {.name = "ratio exit hysteresis keeps a source",
	     .prev = FLOW_SOURCE, .local_sat = 500000, .out_sat = 450000,
	     .want = FLOW_SOURCE, .want_basis = "ratio"},
	    /* 0.45 < 0.5 for a channel that was not a source; turnover
	     * 450k / 1M / 7 = 0.064 > 0.01 and daily 0.064 > 0.05 -> no
	     * band anyway: balanced_active. */
	    {.name = "same ratio does not make a new source",
	     .prev = FLOW_BALANCED, .local_sat = 500000, .out_sat = 450000,
	     .want = FLOW_BALANCED_ACTIVE, .want_basis = "activity"},
	    {.name = "ratio exit hysteresis keeps a sink", .prev = FLOW_SINK,
	     .local_sat = 500000, .in_sat = 450000, .want = FLOW_SINK,
	     .want_basis = "ratio"},
	    /* outbound 0.78 enters the sink band (no flow). */
	    {.name = "sink band entered at 0.78", .local_sat = 780000,
	     .want = FLOW_SINK, .want_basis = "sink_band"},
	    {.name = "0.75 does not enter the sink band",
	     .local_sat = 750000, .want = FLOW_DORMANT,
	     .want_basis = "activity"},
	    {.name = "0.75 keeps a sink in the band", .prev = FLOW_SINK,
	     .local_sat = 750000, .want = FLOW_SINK,
	     .want_basis = "sink_band"},
	    {.name = "0.71 leaves the sink band", .prev = FLOW_SINK,
	     .local_sat = 710000, .want = FLOW_DORMANT,
	     .want_basis = "activity"},
	    {.name = "source band entered at 0.22", .local_sat = 220000,
	     .want = FLOW_SOURCE, .want_basis = "source_band"},
	    {.name = "0.25 keeps a source in the band", .prev = FLOW_SOURCE,
	     .local_sat = 250000, .want = FLOW_SOURCE,
	     .want_basis = "source_band"},
	    {.name = "0.25 does not enter the source band",
	     .local_sat = 250000, .want = FLOW_DORMANT,
	     .want_basis = "activity"},
	    /* Full (0.8) but draining: ratio 0.4, daily 0.057 > 0.05 vetoes
	     * the sink band; turnover 0.057 -> balanced_active. */
	    {.name = "draining full channel is not a sink",
	     .local_sat = 800000, .out_sat = 400000,
	     .want = FLOW_BALANCED_ACTIVE, .want_basis = "activity",
	     .want_vetoed = true},
	    /* Empty (0.2) but filling: daily -0.057 vetoes the source band. */
	    {.name = "filling empty channel is not a source",
	     .local_sat = 200000, .in_sat = 400000,
	     .want = FLOW_BALANCED_ACTIVE, .want_basis = "activity",
	     .want_vetoed = true},
	    /* 100k each way: turnover 200k / 1M / 7 = 0.0286 > 0.01. */
	    {.name = "two-way traffic", .local_sat = 500000,
	     .in_sat = 100000, .out_sat = 100000,
	     .want = FLOW_BALANCED_ACTIVE, .want_basis = "activity"},
	    /* turnover 0.0071 <= 0.01; daily ratio 0.0071 < 0.01. */
	    {.name = "barely used", .local_sat = 500000, .out_sat = 50000,
	     .want = FLOW_DORMANT, .want_basis = "activity"},
	    /* A converged filter: 0.08 > 0.05 per day. */
	    {.name = "kalman source", .local_sat = 500000, .kalman = true,
	     .kalman_ratio = 0.08, .posterior_var = 100,
	     .want = FLOW_SOURCE, .want_basis = "kalman"},
	    {.name = "kalman sink", .local_sat = 500000, .kalman = true,
	     .kalman_ratio = -0.08, .posterior_var = 100, .want = FLOW_SINK,
	     .want_basis = "kalman"},
	    /* Wide fee posterior (20,000 > 10,000): thresholds x1.5 = 0.075,
	     * 0.06 is not enough; |0.06| >= 0.01 and no turnover: balanced. */
	    {.name = "kalman threshold widens while the fee is uncertain",
	     .local_sat = 500000, .kalman = true, .kalman_ratio = 0.06,
	     .posterior_var = 20000, .want = FLOW_BALANCED,
	     .want_basis = "activity"},
	    {.name = "kalman 0.06 with a learned fee", .local_sat = 500000,
	     .kalman = true, .kalman_ratio = 0.06, .posterior_var = 100,
	     .want = FLOW_SOURCE, .want_basis = "kalman"},
	};
	struct flow_params p;

	flow_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct class_case *c = &cases[i];
		struct flow_state st;
		struct flow_obs obs = {0};
		struct flow_result res;
		struct kalman_state ks;
		const char *err;

		flow_state_init(&st);
		st.last_class = c->prev;
		obs.capacity_sat = c->zero_capacity ? 0 : CAP;
		obs.local_sat = c->local_sat;
		obs.in_sat = c->in_sat;
		obs.out_sat = c->out_sat;
		obs.congested = c->congested;
		obs.fee_posterior_var = c->posterior_var;
		if (c->kalman) {
			kalman_init(&p.kalman, &ks);
			ks.ratio = c->kalman_ratio;
			ks.p00 = 0.01;
			ks.observation_count = 10;
			obs.kalman = &ks;
		}
		err = flow_analyze(&p, &st, &obs, NOW, &res);
		CHECK(err == NULL && res.cls == c->want &&
			  !strcmp(res.basis, c->want_basis) &&
			  res.vetoed == c->want_vetoed,
		      "classify %s: prev %s local %llu in %llu out %llu -> %s "
		      "(%s, vetoed %d); want %s (%s, %d) %s",
		      c->name, flow_class_name(c->prev),
		      (unsigned long long)c->local_sat,
		      (unsigned long long)c->in_sat,
		      (unsigned long long)c->out_sat, flow_class_name(res.cls),
		      res.basis ? res.basis : "-", res.vetoed,
		      flow_class_name(c->want), c->want_basis, c->want_vetoed,
		      err ? err : "");
		CHECK(st.last_class == res.cls, "classify %s: state remembers",
		      c->name);
	}
}

static void test_multiplier_and_names(void)
{
	struct flow_params p;
	struct flow_state st;
	struct flow_obs obs = {.capacity_sat = CAP, .local_sat = 500000,
			       .out_sat = 700000};
	struct flow_result res;

	flow_params_default(&p);
	flow_state_init(&st);
	analyze(&p, &st, &obs, NOW, &res);
	CHECK(res.cls == FLOW_SOURCE && res.flow_multiplier == 1.25,
	      "source multiplier 1.25 (%g)", res.flow_multiplier);
	obs.out_sat = 0;
	obs.in_sat = 700000;
	flow_state_init(&st);
	analyze(&p, &st, &obs, NOW, &res);
	CHECK(res.cls == FLOW_SINK && res.flow_multiplier == 0.80,
	      "sink multiplier 0.80 (%g)", res.flow_multiplier);
	CHECK_EQ_STR(flow_class_name(FLOW_BALANCED_ACTIVE), "balanced_active",
		     "class name");
	CHECK(flow_class_is_balanced(FLOW_BALANCED_ACTIVE) &&
		  !flow_class_is_balanced(FLOW_DORMANT),
	      "balanced_active counts as balanced, dormant does not");
}

struct ema_case {
	const char *name;
	uint64_t in[8], out[8];
	size_t n;
	double want_decay, want_out;
};

static void test_ema(void)
{
	static const struct ema_case cases[] = {
	    /* No net flow: volatility 0 -> decay 0.95; the EMA of a constant
	     * is the constant. */
	    {.name = "steady", .in = {10000, 10000, 10000, 10000},
	     .out = {10000, 10000, 10000, 10000}, .n = 4,
	     .want_decay = 0.95, .want_out = 10000},
	    /* net +-20000, std 20000, mean volume 20000: vol 1 -> 0.65.
	     * out EMA = (20000 + 20000 * 0.65^2) / (1 + 0.65 + 0.65^2 +
	     * 0.65^3) = 12121.2 */
	    {.name = "volatile", .in = {0, 20000, 0, 20000},
	     .out = {20000, 0, 20000, 0}, .n = 4, .want_decay = 0.65,
	     .want_out = 12121.212121212124},
	    /* net +-6000, volume 20000: vol 0.3 -> 0.95 - 0.5 * 0.30 = 0.8. */
	    {.name = "middling", .in = {7000, 13000, 7000, 13000},
	     .out = {13000, 7000, 13000, 7000}, .n = 4, .want_decay = 0.8,
	     .want_out = (13000 + 7000 * 0.8 + 13000 * 0.64 + 7000 * 0.512) /
			 (1 + 0.8 + 0.64 + 0.512)},
	    /* Mean volume 500 < 1000: keep the base decay 0.8. */
	    {.name = "too little volume", .in = {0, 500}, .out = {500, 0},
	     .n = 2, .want_decay = 0.8, .want_out = 500 / 1.8},
	};
	struct flow_params p;

	flow_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ema_case *c = &cases[i];
		struct flow_state st;
		struct flow_obs obs = {.capacity_sat = CAP, .local_sat = 500000,
				       .n_days = c->n};
		struct flow_result res;

		for (size_t d = 0; d < c->n; d++) {
			obs.daily_in_sat[d] = c->in[d];
			obs.daily_out_sat[d] = c->out[d];
		}
		flow_state_init(&st);
		analyze(&p, &st, &obs, NOW, &res);
		CHECK(near(res.ema_decay, c->want_decay, 1e-12) &&
			  near(res.ema_out_sat, c->want_out, 1e-6),
		      "ema %s: decay %g (want %g) out %g (want %g)", c->name,
		      res.ema_decay, c->want_decay, res.ema_out_sat,
		      c->want_out);
	}
}

struct velocity_case {
	const char *name;
	double prev_ratio;
	uint64_t prev_age_sec; /* 0: no previous ratio */
	uint64_t out_sat;      /* ratio = out / CAP */
	double want;
	bool want_state_moved;
};

static void test_velocity(void)
{
	static const struct velocity_case cases[] = {
	    {.name = "first call", .out_sat = 100000, .want = 0,
	     .want_state_moved = true},
	    /* 0 -> 0.1 in 2 h: 0.05 / h. */
	    {.name = "steady change", .prev_ratio = 0, .prev_age_sec = 7200,
	     .out_sat = 100000, .want = 0.05, .want_state_moved = true},
	    /* 0 -> 0.2 in 0.5 h: 0.4 / h, limit 3 * 0.21 = 0.63: kept. */
	    {.name = "fast but plausible", .prev_ratio = 0,
	     .prev_age_sec = 1800, .out_sat = 200000, .want = 0.4,
	     .want_state_moved = true},
	    /* 0.9 -> 0.0 in 0.5 h: -1.8 / h, limit 3 * 0.01 = 0.03. */
	    {.name = "outlier clamped", .prev_ratio = 0.9,
	     .prev_age_sec = 1800, .out_sat = 0, .want = -0.03,
	     .want_state_moved = true},
	    /* -0.5 -> 0.5 in 0.5 h: 2.0 / h, limit 1.53, then +-0.5. */
	    {.name = "capped at 0.5", .prev_ratio = -0.5,
	     .prev_age_sec = 1800, .out_sat = 500000, .want = 0.5,
	     .want_state_moved = true},
	    /* 10 minutes: too short, keep the last estimate (0.0125). */
	    {.name = "too soon", .prev_ratio = 0, .prev_age_sec = 600,
	     .out_sat = 300000, .want = 0.0125},
	};
	struct flow_params p;

	flow_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct velocity_case *c = &cases[i];
		struct flow_state st;
		struct flow_obs obs = {.capacity_sat = CAP, .local_sat = 500000,
				       .out_sat = c->out_sat};
		struct flow_result res;

		flow_state_init(&st);
		if (c->prev_age_sec) {
			st.last_ratio = c->prev_ratio;
			st.last_ratio_sec = NOW - c->prev_age_sec;
			st.last_velocity = 0.0125;
		}
		analyze(&p, &st, &obs, NOW, &res);
		CHECK(near(res.velocity, c->want, 1e-12) &&
			  (st.last_ratio_sec == NOW) == c->want_state_moved,
		      "velocity %s: %g (want %g), baseline moved %d", c->name,
		      res.velocity, c->want, st.last_ratio_sec == NOW);
	}
}

struct conf_case {
	const char *name;
	uint32_t in_count, out_count;
	uint64_t last_forward_age_sec; /* UINT64_MAX: never */
	double want;
};

static void test_confidence(void)
{
	static const struct conf_case cases[] = {
	    /* 20 forwards, last 3 days ago: 1 * 0.5. */
	    {.name = "busy, 3 days quiet", .in_count = 10, .out_count = 10,
	     .last_forward_age_sec = 3 * DAY, .want = 0.5},
	    /* 10 forwards, last now: 0.1 + 0.9 * 0.5 = 0.55. */
	    {.name = "half the count", .in_count = 4, .out_count = 6,
	     .last_forward_age_sec = 0, .want = 0.55},
	    /* never: 0.1 * 0.1 = 0.01 -> clamped to 0.1. */
	    {.name = "never forwarded", .last_forward_age_sec = UINT64_MAX,
	     .want = 0.1},
	};
	struct flow_params p;

	flow_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct conf_case *c = &cases[i];
		struct flow_state st;
		struct flow_obs obs = {.capacity_sat = CAP, .local_sat = 500000,
				       .in_count = c->in_count,
				       .out_count = c->out_count};
		struct flow_result res;

		if (c->last_forward_age_sec != UINT64_MAX)
			obs.last_forward_sec = NOW - c->last_forward_age_sec;
		flow_state_init(&st);
		analyze(&p, &st, &obs, NOW, &res);
		CHECK(near(res.confidence, c->want, 1e-12),
		      "confidence %s: %g (want %g)", c->name, res.confidence,
		      c->want);
	}
}

struct role_case {
	uint32_t in, out;
	enum flow_role want;
};

static void test_roles(void)
{
	static const struct role_case cases[] = {
	    {.in = 8, .out = 1, .want = FLOW_ROLE_DORMANT}, /* 9 < 10 */
	    {.in = 8, .out = 2, .want = FLOW_ROLE_INBOUND_GATEWAY}, /* 0.8 */
	    {.in = 3, .out = 8, .want = FLOW_ROLE_OUTBOUND_GATEWAY}, /* .727 */
	    {.in = 7, .out = 3, .want = FLOW_ROLE_BALANCED}, /* 0.7 not > */
	};
	struct flow_params p;

	flow_params_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct role_case *c = &cases[i];
		struct flow_state st;
		struct flow_obs obs = {.capacity_sat = CAP, .local_sat = 500000,
				       .role_in_count = c->in,
				       .role_out_count = c->out};
		struct flow_result res;

		flow_state_init(&st);
		analyze(&p, &st, &obs, NOW, &res);
		CHECK(res.role == c->want, "role in %u out %u -> %s (want %s)",
		      c->in, c->out, flow_role_name(res.role),
		      flow_role_name(c->want));
	}
}

static void test_errors(void)
{
	struct flow_params p;
	struct flow_state st, before;
	struct flow_obs obs = {.capacity_sat = CAP, .local_sat = CAP + 1};
	struct flow_result res;

	flow_params_default(&p);
	flow_state_init(&st);
	st.last_class = FLOW_SINK;
	before = st;
	CHECK(flow_analyze(&p, &st, &obs, NOW, &res) != NULL &&
		  memcmp(&st, &before, sizeof(st)) == 0,
	      "local above capacity is an error, state untouched");
	obs.local_sat = 0;
	obs.n_days = FLOW_MAX_DAYS + 1;
	CHECK(flow_analyze(&p, &st, &obs, NOW, &res) != NULL,
	      "too many daily buckets is an error");
	obs.n_days = 0;
	p.window_days = 0;
	CHECK(flow_analyze(&p, &st, &obs, NOW, &res) != NULL,
	      "zero window is an error");
}

/* A peer with two channels: one drains, one fills. Each channel keeps its
 * own class; the peer aggregate nets them out. */
static void test_peer_aggregate(void)
{
	struct flow_params p;
	struct flow_obs obs[3] = {
	    {.capacity_sat = CAP, .local_sat = 500000, .out_sat = 600000,
	     .in_count = 0, .out_count = 20, .last_forward_sec = NOW},
	    {.capacity_sat = 3 * CAP, .local_sat = 1500000, .in_sat = 1800000,
	     .in_count = 30, .last_forward_sec = NOW - 3 * DAY},
	    {.capacity_sat = CAP, .local_sat = 500000, .congested = true},
	};
	struct flow_result res[3];
	struct flow_peer_result peer;
	struct flow_state st;
	const char *err;

	flow_params_default(&p);
	for (size_t i = 0; i < 3; i++) {
		flow_state_init(&st);
		analyze(&p, &st, &obs[i], NOW, &res[i]);
	}
	CHECK(res[0].cls == FLOW_SOURCE && res[1].cls == FLOW_SINK &&
		  res[2].cls == FLOW_CONGESTED,
	      "channels keep their own classes: %s %s %s",
	      flow_class_name(res[0].cls), flow_class_name(res[1].cls),
	      flow_class_name(res[2].cls));

	err = flow_aggregate_peer(&p, obs, res, 2, &peer);
	/* capacity 4 M, in 1.8 M, out 0.6 M: ratio -1.2 / 4 = -0.3 (not
	 * beyond -0.5); outbound 2 M / 4 M = 0.5; turnover 2.4 / 4 / 7 =
	 * 0.0857 -> balanced_active.
	 * confidence: ch0 1.0 (20 fwd, recent), ch1 1 * 0.5 = 0.5, weighted
	 * by capacity: (1 * 1 + 3 * 0.5) / 4 = 0.625. */
	CHECK(err == NULL && peer.capacity_sat == 4 * CAP &&
		  peer.in_sat == 1800000 && peer.out_sat == 600000 &&
		  peer.forward_count == 50 &&
		  near(peer.flow_ratio, -0.3, 1e-12) &&
		  near(peer.outbound_ratio, 0.5, 1e-12) &&
		  near(peer.confidence, 0.625, 1e-12) &&
		  peer.cls == FLOW_BALANCED_ACTIVE && peer.n_source == 1 &&
		  peer.n_sink == 1 && peer.n_channels == 2,
	      "peer aggregate: cap %llu ratio %g outbound %g conf %g class %s",
	      (unsigned long long)peer.capacity_sat, peer.flow_ratio,
	      peer.outbound_ratio, peer.confidence,
	      flow_class_name(peer.cls));

	err = flow_aggregate_peer(&p, obs, res, 3, &peer);
	CHECK(err == NULL && peer.cls != FLOW_CONGESTED &&
		  peer.n_congested == 1,
	      "one congested channel does not congest the peer (%s)",
	      flow_class_name(peer.cls));
	err = flow_aggregate_peer(&p, &obs[2], &res[2], 1, &peer);
	CHECK(err == NULL && peer.cls == FLOW_CONGESTED,
	      "all channels congested: the peer is congested");

	CHECK(flow_aggregate_peer(&p, obs, res, 0, &peer) != NULL,
	      "no channels is an error");
	struct flow_obs big[2] = {{.capacity_sat = UINT64_MAX / 2 + 1},
				  {.capacity_sat = UINT64_MAX / 2 + 1}};
	CHECK(flow_aggregate_peer(&p, big, res, 2, &peer) != NULL,
	      "a sum that overflows is an error");
}

int main(void)
{
	test_classify();
	test_multiplier_and_names();
	test_ema();
	test_velocity();
	test_confidence();
	test_roles();
	test_errors();
	test_peer_aggregate();
	return check_done();
}
