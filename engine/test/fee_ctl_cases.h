/* What the fee controller's unit tests share (one run-fee_ctl*.c per
 * file of the controller, see engine/fee_ctl.h): the warm baseline
 * channel, the setups that more than one file's tests start from (the
 * pre-emption table in run-fee_ctl.c combines them), the runner of a
 * step table, the random channels of the property loops and a small
 * synthetic market for the learner.
 *
 * Most table cases start from one warm channel where the Thompson sample
 * is made deterministic (prior std 0, so sample = prior mean): the test
 * then chooses the "sampled" fee by choosing the prior mean.
 *
 * Everything here is static inline: each test includes what it uses. */
#ifndef HIVE_ENGINE_TEST_FEE_CTL_CASES_H
#define HIVE_ENGINE_TEST_FEE_CTL_CASES_H
#include "engine/fee_ctl.h"
#include "tests/check.h"
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000ULL
#define HOUR 3600ULL
#define DAY 86400ULL

static inline int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* fee_ctl_step() where the case expects no error: an error is a failed
 * check (so the count only grows when something is wrong). */
static inline void step(const struct fee_ctl_params *p,
			struct fee_ctl_state *st, const struct fee_ctl_obs *o,
			uint64_t now, struct rng *r, struct fee_ctl_decision *d)
{
	const char *err = fee_ctl_step(p, st, o, now, r, d);

	if (err)
		CHECK(false, "unexpected fee_ctl_step error: %s", err);
}

/* The warm baseline:
 *  2 M sat channel, 1 M local (outbound 0.5), we opened it 200 days ago,
 *  live fee 200 ppm / base 1000 msat, balanced, routed an hour ago, 100
 *  forwards ever; the window (2 h, since the last update) saw 5 forwards
 *  and 1 M sat out; break_even; no feerate known; no mempool sample.
 * Bounds: min 10; chain floor (5000 + 3000) / (365 x 1 M) x 1e6 = 21.9
 *  x flow 1 x bucket 1.0 (0.5 in [0.40, 0.60)) -> 21; floor 21; ceiling
 *  5000 (200 < 500: no idle cut).
 * Thompson: prior mean 200, std 0 -> sample 200 -> no change: the
 *  decision is "idempotent". */
static inline void base(struct fee_ctl_params *p, struct fee_ctl_state *st,
			struct fee_ctl_obs *o)
{
	fee_ctl_params_default(p);
	p->min_std_ppm = 0;
	fee_ctl_obs_init(o);
	o->capacity_sat = 2000000;
	o->local_sat = 1000000;
	o->opener = PNL_OPENER_LOCAL;
	o->opened_sec = NOW - 200 * DAY;
	o->chain_fee_ppm = 200;
	o->chain_base_msat = 1000;
	o->flow_class = FLOW_BALANCED;
	o->window_in_sat = 100000;
	o->window_out_sat = 100000;
	o->last_forward_sec = NOW - HOUR;
	o->total_forward_count = 100;
	o->lifetime_out_count = 50;
	o->win_out_msat = 1000000000;
	o->win_forwards = 5;
	o->pnl_known = true;
	o->pnl_class = PNL_BREAK_EVEN;
	fee_ctl_state_init(p, st, 200);
	st->prior_std_ppm = 0;
	st->last_set_fee_ppm = 200;
	st->last_update_sec = NOW - 2 * HOUR;
	st->last_broadcast_sec = NOW - 2 * HOUR;
	st->last_class = FEE_CLASS_NORMAL;
}

static inline void set_fee(struct fee_ctl_state *st, struct fee_ctl_obs *o,
			   int64_t ppm)
{
	o->chain_fee_ppm = ppm;
	st->last_set_fee_ppm = ppm;
}

/* A mempool sample 5x the 24 h average: intensity 1, floor x3. */
static inline void spike(struct fee_ctl_obs *o)
{
	o->mempool_satvb = 50;
	o->mempool_ma_satvb = 10;
	o->mempool_sample_sec = NOW;
}

/* Idle for 10 days: a probe candidate. */
static inline void idle(struct fee_ctl_obs *o)
{
	o->last_forward_sec = NOW - 10 * DAY;
}

static inline void zombie(struct fee_ctl_obs *o)
{
	o->pnl_class = PNL_ZOMBIE;
	o->roi = -0.5;
}

/* ---- setups shared by more than one file ---- */

static inline void c_baseline(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
}

/* Sample 230: +30 passes the min-change guard (6) and the 5 % band (10). */
static inline void c_thompson(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 230;
}

static inline void c_probe(struct fee_ctl_params *p, struct fee_ctl_state *st,
			   struct fee_ctl_obs *o)
{
	base(p, st, o);
	idle(o);
}

/* A probe running for an hour, no forward yet: stays at 0. */
static inline void c_probe_active(struct fee_ctl_params *p,
				  struct fee_ctl_state *st,
				  struct fee_ctl_obs *o)
{
	base(p, st, o);
	idle(o);
	set_fee(st, o, 0);
	st->probe_started_sec = NOW - HOUR;
	st->probe_attempts = 1;
	st->last_class = FEE_CLASS_PROBE;
	o->win_forwards = 0;
	o->win_out_msat = 0;
}

/* Opt-in fire sale on a 200-day zombie whose probes are used up. */
static inline void c_fire_sale(struct fee_ctl_params *p,
			       struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->fire_sale_enabled = true;
	idle(o);
	zombie(o);
	st->probe_attempts = 2;
}

/* Outbound 0.1: floor max(10, 21.9 x 2.0 = 43, balance floor 200) = 200;
 * sample 200; scarcity 1 + 2 (1 - 0.1 / 0.35) = 2.428571 -> 485. */
static inline void c_scarcity(struct fee_ctl_params *p,
			      struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	o->local_sat = 200000;
}

/* +3 < max(5, 3 % of 200 = 6). */
static inline void c_min_change(struct fee_ctl_params *p,
				struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 203;
}

/* +9 passes the guard (6) but is inside 5 % of 200 (10). */
static inline void c_hysteresis(struct fee_ctl_params *p,
				struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	st->prior_mean_ppm = 209;
}

/* ---- step tables ---- */

typedef void (*setup_fn)(struct fee_ctl_params *, struct fee_ctl_state *,
			 struct fee_ctl_obs *);

struct step_case {
	const char *name;
	setup_fn setup;
	enum fee_ctl_step_id decided_by;
	enum fee_ctl_action action;
	int64_t fee_ppm;
	enum fee_ctl_class cls;
	const char *reason;
	const char *skip_reason; /* NULL: expect NULL */
	enum fee_ctl_step_id not_reached[6];
	size_t n_not_reached;
};

#define NR(...)                                                               \
	.not_reached = {__VA_ARGS__},                                         \
	.n_not_reached = sizeof((enum fee_ctl_step_id[]){__VA_ARGS__}) /      \
			 sizeof(enum fee_ctl_step_id)

static inline bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline const char *s_or(const char *s)
{
	return s ? s : "(null)";
}

static inline void dump(const struct fee_ctl_decision *d)
{
	printf(
	    "#   %s fee %lld cls %s by %s (%s) skip %s floor %lld ceil %lld\n",
	    fee_ctl_action_name(d->action), (long long)d->fee_ppm,
	    fee_ctl_class_name(d->cls), fee_ctl_step_name(d->decided_by),
	    s_or(d->reason), s_or(d->skip_reason), (long long)d->floor_ppm,
	    (long long)d->ceiling_ppm);
	for (size_t i = 0; i < FEE_STEP_NUM; i++) {
		const struct fee_ctl_step_rec *s = &d->steps[i];
		printf("#     %-11s %s%s %-24s %lld -> %lld\n",
		       fee_ctl_step_name(i), s->evaluated ? "E" : "-",
		       s->applied ? "A" : "-", s_or(s->reason),
		       (long long)s->fee_in_ppm, (long long)s->fee_out_ppm);
	}
}

/* Run a step table: each case decides as expected (a mismatch prints the
 * whole decision) and does not reach the steps it lists; then each of
 * @steps (the steps of the file under test) is applied by at least one
 * case, so every step of the priority order is reachable. */
static inline void run_step_table(const struct step_case *cases, size_t n,
				  const enum fee_ctl_step_id *steps,
				  size_t n_steps)
{
	bool applied_any[FEE_STEP_NUM] = {0};

	for (size_t i = 0; i < n; i++) {
		const struct step_case *c = &cases[i];
		struct fee_ctl_params p;
		struct fee_ctl_state st;
		struct fee_ctl_obs o;
		struct fee_ctl_decision d;
		struct rng r;
		const char *err;
		bool ok, reached_ok = true;

		c->setup(&p, &st, &o);
		rng_seed(&r, 1000 + i);
		err = fee_ctl_step(&p, &st, &o, NOW, &r, &d);
		ok = err == NULL && d.decided_by == c->decided_by &&
		     d.action == c->action && d.fee_ppm == c->fee_ppm &&
		     d.cls == c->cls && str_eq(d.reason, c->reason) &&
		     str_eq(d.skip_reason, c->skip_reason);
		CHECK(ok,
		      "step table: %s -> %s %lld %s by %s (%s, skip %s); want "
		      "%s %lld %s by %s (%s, skip %s) %s",
		      c->name, fee_ctl_action_name(d.action),
		      (long long)d.fee_ppm, fee_ctl_class_name(d.cls),
		      fee_ctl_step_name(d.decided_by), s_or(d.reason),
		      s_or(d.skip_reason), fee_ctl_action_name(c->action),
		      (long long)c->fee_ppm, fee_ctl_class_name(c->cls),
		      fee_ctl_step_name(c->decided_by), c->reason,
		      s_or(c->skip_reason), err ? err : "");
		for (size_t k = 0; k < c->n_not_reached; k++) {
			const struct fee_ctl_step_rec *s =
			    &d.steps[c->not_reached[k]];
			if (s->evaluated || s->applied) {
				reached_ok = false;
				printf("#   %s: step %s was reached\n", c->name,
				       fee_ctl_step_name(c->not_reached[k]));
			}
		}
		CHECK(reached_ok, "step table: %s: later steps not reached",
		      c->name);
		if (!ok || !reached_ok)
			dump(&d);
		for (size_t k = 0; k < FEE_STEP_NUM; k++)
			applied_any[k] |= d.steps[k].applied;
	}
	for (size_t k = 0; k < n_steps; k++)
		CHECK(applied_any[steps[k]],
		      "step %s is reachable (applied in the table)",
		      fee_ctl_step_name(steps[k]));
}

#define RUN_STEP_TABLE(cases, ...)                                            \
	run_step_table(cases, sizeof(cases) / sizeof(cases[0]),               \
		       (const enum fee_ctl_step_id[]){__VA_ARGS__},           \
		       sizeof((enum fee_ctl_step_id[]){__VA_ARGS__}) /        \
			   sizeof(enum fee_ctl_step_id))

/* ---- random channels for the property loops ---- */

static inline void random_case(struct rng *r, struct fee_ctl_params *p,
			       struct fee_ctl_state *st, struct fee_ctl_obs *o)
{
	base(p, st, o);
	p->min_std_ppm = 10;
	st->prior_std_ppm = 10 + rng_unit(r) * 300;
	st->prior_mean_ppm = rng_unit(r) * 3000;
	p->min_fee_ppm = (int64_t)rng_below(r, 100);
	p->max_fee_ppm = p->min_fee_ppm + (int64_t)rng_below(r, 5000);
	o->capacity_sat = 100000 + rng_below(r, 10000000);
	o->local_sat = rng_below(r, o->capacity_sat + 1);
	set_fee(st, o, (int64_t)rng_below(r, 6000));
	o->flow_class = (enum flow_class)rng_below(r, FLOW_CLASS_NUM);
	o->congested = rng_below(r, 6) == 0;
	o->htlc_util = rng_unit(r);
	o->total_forward_count = rng_below(r, 10);
	o->win_forwards = (uint32_t)rng_below(r, 8);
	o->win_fee_failures = (uint32_t)rng_below(r, 5);
	o->win_out_msat = rng_below(r, 5000000000ULL);
	o->feerate_perkb = rng_below(r, 3) ? 0 : rng_unit(r) * 200000;
	o->pnl_class = (enum pnl_class)rng_below(r, PNL_CLASS_NUM);
	o->roi = rng_unit(r) * 2 - 1;
	o->marginal_roi = rng_unit(r) * 2 - 1;
	o->opener = rng_below(r, 2) ? PNL_OPENER_LOCAL : PNL_OPENER_REMOTE;
	o->lifetime_out_count = rng_below(r, 3);
	o->time_intensity = rng_unit(r);
	o->regime_change = rng_below(r, 4) == 0;
	p->fire_sale_enabled = rng_below(r, 2);
	if (rng_below(r, 3) == 0)
		idle(o);
	if (rng_below(r, 4) == 0) {
		o->mempool_satvb = 1 + rng_unit(r) * 100;
		o->mempool_ma_satvb = 1 + rng_unit(r) * 30;
		o->mempool_sample_sec = NOW;
	}
	o->rebalance_samples_30d = (uint32_t)rng_below(r, 6);
	o->rebalance_amount_30d_msat = (int64_t)rng_below(r, 100000000000ULL);
	o->rebalance_cost_30d_msat = (int64_t)rng_below(r, 500000000ULL);
	st->last_update_sec = NOW - rng_below(r, 10 * HOUR);
}

/* ---- a synthetic market ---- */

/* A synthetic market: revenue per hour at fee f is
 * rmax exp(-((f - 300) / 100)^2) sat, noisy (lognormal, sigma 0.3), so
 * the volume is revenue x 1e6 / f sat. One cycle per hour. */
struct sim {
	struct fee_ctl_params p;
	struct fee_ctl_state st;
	struct fee_ctl_obs o;
	uint64_t now;
	double acc_msat;
	uint32_t acc_fwd;
	struct rng rng, noise;
	double rmax, peak;
};

static inline void sim_init(struct sim *s, uint64_t seed, int64_t start,
			    double rmax)
{
	struct fee_ctl_params p;

	base(&s->p, &s->st, &s->o);
	p = s->p;
	fee_ctl_params_default(&s->p);
	(void)p;
	s->o.pnl_known = false;
	s->o.chain_fee_ppm = start;
	memset(&s->st, 0, sizeof(s->st)); /* auto-seeded from the live fee */
	s->now = NOW;
	s->acc_msat = 0;
	s->acc_fwd = 0;
	rng_seed(&s->rng, seed);
	rng_fork(&s->rng, 1, &s->noise);
	s->rmax = rmax;
	s->peak = 300;
}

static inline void sim_cycle(struct sim *s, struct fee_ctl_decision *d)
{
	double f = (double)s->o.chain_fee_ppm, rev, vol_sat;

	rev = s->rmax * exp(-pow((f - s->peak) / 100, 2)) *
	      rng_lognormal(&s->noise, 0, 0.3);
	vol_sat = f > 0 ? rev * 1e6 / f : 0;
	s->acc_msat += vol_sat * 1000;
	s->acc_fwd += 5;
	s->now += HOUR;
	s->o.win_out_msat = (uint64_t)s->acc_msat;
	s->o.win_forwards = s->acc_fwd;
	s->o.last_forward_sec = s->now;
	step(&s->p, &s->st, &s->o, s->now, &s->rng, d);
	if (d->action == FEE_CTL_SET) {
		s->o.chain_fee_ppm = d->fee_ppm;
		s->o.chain_base_msat = d->base_fee_msat;
	}
	if (s->st.last_update_sec == s->now) {
		s->acc_msat = 0;
		s->acc_fwd = 0;
	}
}

#endif
