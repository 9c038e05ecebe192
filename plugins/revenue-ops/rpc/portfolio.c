/* Portfolio RPCs (spec §2.8, §4.13): revenue-portfolio,
 * revenue-portfolio-summary, revenue-portfolio-rebalance and
 * revenue-portfolio-correlations. Read-only analysis of where our
 * outbound liquidity sits against what each channel earns, over daily
 * returns of the last 14 complete UTC days (raw forwards and daily
 * rollups alike, so the window is complete whatever the retention). The
 * maths and its choices are in portfolio_math.h. */
#include "common/errcode.h"
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/acct_live.h"
#include "plugins/revenue-ops/store/acct_db.h"
#include "plugins/revenue-ops/rpc/portfolio_math.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOOKBACK_DAYS 14
#define MAX_ITER 5000
/* A move smaller than this is noise, not a recommendation. */
#define MIN_MOVE_SAT 10000
#define MIN_MOVE_FRACTION 0.01

enum pf_kind { PF_FULL, PF_SUMMARY, PF_REBALANCE, PF_CORRELATIONS };

struct pf_chan {
	const struct acct_live_chan *c;
	struct acct_scids scids;
	double mean, vol, sharpe;
	uint64_t active_days;
	int64_t fee_msat;
	uint64_t local_sat, cap_sat;
};

struct pf {
	size_t k, days;
	uint64_t from_day;
	struct pf_chan *ch;
	double *series; /* k rows of @days */
	double *mu, *cov, *ub, *w0, *w;
	double lambda;
	uint64_t total_local_sat, total_cap_sat;
	double u0, u1, ret0, vol0, ret1, vol1;
	size_t iterations;
	bool ok;
	const char *why; /* when !ok */
};

struct pf_req {
	struct command *cmd;
	enum pf_kind kind;
	double lambda;
	int64_t max_recs;
	double min_corr;
};

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *num(double v, int places)
{
	double f = pow(10, places);
	if (!isfinite(v))
		v = 0;
	return json_real(round(v * f) / f);
}

static void pf_free(struct pf *p)
{
	for (size_t i = 0; i < p->k; i++)
		free(p->ch[i].scids.v);
	free(p->ch);
	free(p->series);
	free(p->mu);
	free(p->cov);
	free(p->ub);
	free(p->w0);
	free(p->w);
}

static void add_fee(const char *scid, uint64_t day, int64_t fee_msat, void *arg)
{
	struct pf *p = arg;
	size_t d;

	if (day < p->from_day)
		return;
	d = (size_t)((day - p->from_day) / ACCT_DAY);
	if (d >= p->days)
		return;
	for (size_t i = 0; i < p->k; i++) {
		for (size_t s = 0; s < p->ch[i].scids.n; s++) {
			if (strcmp(p->ch[i].scids.v[s], scid))
				continue;
			p->ch[i].fee_msat += fee_msat;
			/* Annualised % yield on the channel's capacity. */
			p->series[i * p->days + d] +=
			    (double)fee_msat /
			    ((double)p->ch[i].cap_sat * 1000.0) * 365.0 * 100.0;
			return;
		}
	}
}

static double sharpe(double ret, double vol)
{
	return vol > 0 ? ret / vol : 0;
}

static bool pf_build(struct revenue *r, const struct acct_live *v,
		     double lambda, struct pf *p, char **err)
{
	uint64_t today = v->now / ACCT_DAY * ACCT_DAY;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	p->lambda = lambda;
	p->days = LOOKBACK_DAYS;
	p->from_day = today - LOOKBACK_DAYS * ACCT_DAY;
	p->ch = xzalloc(sizeof(*p->ch) * (v->n + 1));
	for (size_t i = 0; i < v->n; i++) {
		const struct acct_live_chan *c = &v->chans[i];
		if (!c->ci.active || c->ci.capacity_msat < 1000)
			continue;
		p->ch[n].c = c;
		p->ch[n].cap_sat = c->ci.capacity_msat / 1000;
		p->ch[n].local_sat = c->ci.to_us_msat / 1000;
		if (!acct_db_scids(r->db, c->ci.channel_id, c->ci.scid,
				   &p->ch[n].scids, err)) {
			p->k = n;
			return false;
		}
		p->total_local_sat += p->ch[n].local_sat;
		p->total_cap_sat += p->ch[n].cap_sat;
		n++;
	}
	p->k = n;
	p->series = xzalloc(sizeof(double) * (n * p->days + 1));
	p->mu = xzalloc(sizeof(double) * (n + 1));
	p->cov = xzalloc(sizeof(double) * (n * n + 1));
	p->ub = xzalloc(sizeof(double) * (n + 1));
	p->w0 = xzalloc(sizeof(double) * (n + 1));
	p->w = xzalloc(sizeof(double) * (n + 1));
	if (!acct_db_daily_fees(r->db, p->from_day, today, add_fee, p, err))
		return false;
	for (size_t i = 0; i < n; i++) {
		struct pf_chan *c = &p->ch[i];
		double var;
		pf_stats(p->series + i * p->days, p->days, &c->mean, &var);
		c->vol = sqrt(var);
		c->sharpe = sharpe(c->mean, c->vol);
		for (size_t d = 0; d < p->days; d++)
			c->active_days += p->series[i * p->days + d] > 0;
		p->mu[i] = c->mean;
	}
	if (n < 2) {
		p->why = "need at least two active channels";
		return true;
	}
	if (p->total_local_sat == 0) {
		p->why = "no outbound liquidity to allocate";
		return true;
	}
	pf_covariance(p->series, n, p->days, p->cov);
	for (size_t i = 0; i < n; i++) {
		p->w0[i] =
		    (double)p->ch[i].local_sat / (double)p->total_local_sat;
		/* A channel holds at most its capacity of our liquidity. */
		p->ub[i] =
		    (double)p->ch[i].cap_sat / (double)p->total_local_sat;
		if (p->ub[i] > 1)
			p->ub[i] = 1;
		p->w[i] = p->w0[i];
	}
	p->iterations =
	    pf_optimize(p->mu, p->cov, p->ub, n, lambda, MAX_ITER, p->w);
	p->u0 = pf_utility(p->mu, p->cov, p->w0, n, lambda);
	p->u1 = pf_utility(p->mu, p->cov, p->w, n, lambda);
	/* The optimiser stops near the optimum; never report it as worse
	 * than where we stand. */
	if (p->u1 < p->u0) {
		memcpy(p->w, p->w0, sizeof(double) * n);
		p->u1 = p->u0;
	}
	pf_portfolio(p->mu, p->cov, p->w0, n, &p->ret0, &p->vol0);
	pf_portfolio(p->mu, p->cov, p->w, n, &p->ret1, &p->vol1);
	p->ok = true;
	return true;
}

/* Relative gain in utility of the optimum over today's allocation. */
static double improvement_pct(const struct pf *p)
{
	if (!p->ok)
		return 0;
	if (fabs(p->u0) > 1e-12)
		return (p->u1 - p->u0) / fabs(p->u0) * 100.0;
	return p->u1 > p->u0 + 1e-12 ? 100.0 : 0.0;
}

static double effective_n(const double *w, size_t k)
{
	double s = 0;
	for (size_t i = 0; i < k; i++)
		s += w[i] * w[i];
	return s > 0 ? 1 / s : 0;
}

static json_t *side_json(const struct pf *p, const double *w, double ret,
			 double vol, double u)
{
	json_t *o = json_object();
	set(o, "expected_return_pct", num(ret, 4));
	set(o, "volatility_pct", num(vol, 4));
	set(o, "sharpe_ratio", num(sharpe(ret, vol), 4));
	set(o, "utility", num(u, 4));
	set(o, "effective_channels", num(effective_n(w, p->k), 2));
	return o;
}

static json_t *summary_json(const struct pf *p)
{
	json_t *s = json_object();

	set(s, "channel_count", json_integer((json_int_t)p->k));
	set(s, "lookback_days", json_integer((json_int_t)p->days));
	set(s, "risk_aversion", num(p->lambda, 4));
	set(s, "total_local_sats",
	    json_integer((json_int_t)p->total_local_sat));
	set(s, "total_capacity_sats",
	    json_integer((json_int_t)p->total_cap_sat));
	set(s, "return_unit", json_string("annualized_pct_of_capacity"));
	if (p->ok) {
		set(s, "current", side_json(p, p->w0, p->ret0, p->vol0, p->u0));
		set(s, "optimal", side_json(p, p->w, p->ret1, p->vol1, p->u1));
		set(s, "optimizer_iterations",
		    json_integer((json_int_t)p->iterations));
	}
	set(s, "improvement_potential_pct", num(improvement_pct(p), 2));
	return s;
}

static json_t *statistics_json(const struct pf *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->k; i++) {
		const struct pf_chan *c = &p->ch[i];
		json_t *o = json_object();
		set(o, "channel_id", json_string(c->c->ci.scid));
		set(o, "peer_id", json_string(c->c->ci.peer_id));
		set(o, "capacity_sats", json_integer((json_int_t)c->cap_sat));
		set(o, "local_sats", json_integer((json_int_t)c->local_sat));
		set(o, "fees_earned_sats",
		    json_integer(pnl_msat_to_sat_ceil(c->fee_msat)));
		set(o, "mean_return_pct", num(c->mean, 4));
		set(o, "volatility_pct", num(c->vol, 4));
		set(o, "sharpe_ratio", num(c->sharpe, 4));
		set(o, "active_days", json_integer((json_int_t)c->active_days));
		set(o, "current_weight", num(p->ok ? p->w0[i] : 0, 4));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *allocations_json(const struct pf *p)
{
	json_t *a = json_array();

	for (size_t i = 0; p->ok && i < p->k; i++) {
		double target = p->w[i] * (double)p->total_local_sat;
		json_t *o = json_object();
		set(o, "channel_id", json_string(p->ch[i].c->ci.scid));
		set(o, "peer_id", json_string(p->ch[i].c->ci.peer_id));
		set(o, "current_weight", num(p->w0[i], 4));
		set(o, "optimal_weight", num(p->w[i], 4));
		set(o, "current_local_sats",
		    json_integer((json_int_t)p->ch[i].local_sat));
		set(o, "target_local_sats", json_integer((json_int_t)target));
		set(o, "delta_sats",
		    json_integer(
			(json_int_t)(target - (double)p->ch[i].local_sat)));
		json_array_append_new(a, o);
	}
	return a;
}

struct delta {
	size_t i;
	double sat; /* > 0: add liquidity, < 0: take it out */
};

static int by_sat_asc(const void *a, const void *b)
{
	double x = ((const struct delta *)a)->sat,
	       y = ((const struct delta *)b)->sat;
	return x < y ? -1 : x > y;
}

/* Pair the most over-allocated channels with the most under-allocated:
 * move liquidity from one to the other (a circular rebalance). */
static json_t *recommendations_json(const struct pf *p, size_t max)
{
	struct delta *over, *under;
	size_t no = 0, nu = 0, a = 0, b = 0;
	double min_move = (double)p->total_local_sat * MIN_MOVE_FRACTION;
	json_t *recs = json_array();

	if (!p->ok)
		return recs;
	if (min_move < MIN_MOVE_SAT)
		min_move = MIN_MOVE_SAT;
	over = xzalloc(sizeof(*over) * (p->k + 1));
	under = xzalloc(sizeof(*under) * (p->k + 1));
	for (size_t i = 0; i < p->k; i++) {
		double d = (p->w[i] - p->w0[i]) * (double)p->total_local_sat;
		/* What can really move: our side out of @over, their side
		 * into @under. */
		if (d < 0) {
			double have = (double)p->ch[i].local_sat;
			over[no++] = (struct delta){i, -d < have ? d : -have};
		} else if (d > 0) {
			double room =
			    (double)(p->ch[i].cap_sat -
				     (p->ch[i].local_sat < p->ch[i].cap_sat
					  ? p->ch[i].local_sat
					  : p->ch[i].cap_sat));
			under[nu++] = (struct delta){i, d < room ? d : room};
		}
	}
	qsort(over, no, sizeof(*over), by_sat_asc); /* most negative first */
	qsort(under, nu, sizeof(*under), by_sat_asc);
	/* under: largest first */
	for (size_t i = 0; i < nu / 2; i++) {
		struct delta t = under[i];
		under[i] = under[nu - 1 - i];
		under[nu - 1 - i] = t;
	}
	while (a < no && b < nu && json_array_size(recs) < max) {
		const struct pf_chan *from = &p->ch[over[a].i];
		const struct pf_chan *to = &p->ch[under[b].i];
		double amount =
		    -over[a].sat < under[b].sat ? -over[a].sat : under[b].sat;
		if (amount >= min_move) {
			json_t *o = json_object();
			double gain = (p->mu[under[b].i] - p->mu[over[a].i]) *
				      amount / (double)p->total_local_sat;
			set(o, "from_channel", json_string(from->c->ci.scid));
			set(o, "from_peer", json_string(from->c->ci.peer_id));
			set(o, "to_channel", json_string(to->c->ci.scid));
			set(o, "to_peer", json_string(to->c->ci.peer_id));
			set(o, "amount_sats", json_integer((json_int_t)amount));
			set(o, "from_weight",
			    json_pack("{s:o,s:o}", "current",
				      num(p->w0[over[a].i], 4), "optimal",
				      num(p->w[over[a].i], 4)));
			set(o, "to_weight",
			    json_pack("{s:o,s:o}", "current",
				      num(p->w0[under[b].i], 4), "optimal",
				      num(p->w[under[b].i], 4)));
			set(o, "expected_return_gain_pct", num(gain, 4));
			set(o, "reason",
			    json_sprintf("%s holds more of our liquidity than "
					 "its returns and risk justify; %s "
					 "earns more per sat",
					 from->c->ci.scid, to->c->ci.scid));
			json_array_append_new(recs, o);
		}
		over[a].sat += amount;
		under[b].sat -= amount;
		if (-over[a].sat < 1)
			a++;
		if (under[b].sat < 1)
			b++;
		if (amount < 1) {
			/* Nothing moved: both sides exhausted already. */
			a++;
			b++;
		}
	}
	free(over);
	free(under);
	return recs;
}

/* Pairs with a defined correlation; @t = |min_correlation|. */
static void correlations_json(const struct pf *p, double t, json_t **all,
			      json_t **hedging, json_t **concentration,
			      size_t *total)
{
	*all = json_array();
	*hedging = json_array();
	*concentration = json_array();
	*total = 0;
	for (size_t i = 0; i < p->k; i++) {
		for (size_t j = i + 1; j < p->k; j++) {
			double rho;
			const char *rel;
			json_t *o;
			if (!pf_correlation(p->series + i * p->days,
					    p->series + j * p->days, p->days,
					    &rho))
				continue;
			(*total)++;
			rel = rho <= -t	 ? "hedging"
			      : rho >= t ? "correlated"
					 : "independent";
			o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "channel_a",
				      p->ch[i].c->ci.scid, "channel_b",
				      p->ch[j].c->ci.scid, "peer_a",
				      p->ch[i].c->ci.peer_id, "peer_b",
				      p->ch[j].c->ci.peer_id, "correlation",
				      num(rho, 4), "relationship", rel);
			if (!strcmp(rel, "hedging"))
				json_array_append(*hedging, o);
			else if (!strcmp(rel, "correlated"))
				json_array_append(*concentration, o);
			json_array_append_new(*all, o);
		}
	}
}

static void pf_live(struct revenue *r, struct acct_live *v, const char *err,
		    void *arg)
{
	struct pf_req *q = arg;
	struct pf p;
	json_t *res, *all, *hedge, *conc, *recs;
	size_t total;
	char *e = NULL;

	if (!v) {
		command_fail(q->cmd, ERR_RPC_FAILED, NULL, "%s", err);
		free(q);
		return;
	}
	if (!pf_build(r, v, q->lambda, &p, &e)) {
		command_fail(q->cmd, ERR_DATABASE, NULL, "database: %s", e);
		free(e);
		goto out;
	}
	correlations_json(&p, fabs(q->min_corr), &all, &hedge, &conc, &total);
	recs = recommendations_json(&p, (size_t)q->max_recs);
	res = json_object();
	set(res, "status", json_string(p.ok ? "ok" : "insufficient_data"));
	if (!p.ok)
		set(res, "message", json_string(p.why));
	set(res, "generated_at", json_integer((json_int_t)v->now));
	switch (q->kind) {
	case PF_FULL:
		set(res, "summary", summary_json(&p));
		set(res, "channel_statistics", statistics_json(&p));
		set(res, "optimal_allocations", allocations_json(&p));
		set(res, "recommendations", recs);
		{
			/* Every pair past the threshold, either sign. */
			json_t *corr = json_array();
			json_array_extend(corr, hedge);
			json_array_extend(corr, conc);
			set(res, "correlations", corr);
		}
		set(res, "hedging_opportunities", hedge);
		set(res, "concentration_risks", conc);
		json_decref(all);
		break;
	case PF_SUMMARY:
		set(res, "summary", summary_json(&p));
		set(res, "improvement_potential_pct",
		    num(improvement_pct(&p), 2));
		set(res, "recommendation_count",
		    json_integer((json_int_t)json_array_size(recs)));
		set(res, "hedging_opportunities",
		    json_integer((json_int_t)json_array_size(hedge)));
		set(res, "concentration_risks",
		    json_integer((json_int_t)json_array_size(conc)));
		json_decref(recs);
		json_decref(all);
		json_decref(hedge);
		json_decref(conc);
		break;
	case PF_REBALANCE:
		set(res, "recommendation_count",
		    json_integer((json_int_t)json_array_size(recs)));
		set(res, "recommendations", recs);
		json_decref(all);
		json_decref(hedge);
		json_decref(conc);
		break;
	case PF_CORRELATIONS:
		set(res, "min_correlation", num(fabs(q->min_corr), 4));
		set(res, "total_pairs", json_integer((json_int_t)total));
		set(res, "hedging_opportunities", hedge);
		set(res, "concentration_risks", conc);
		set(res, "all_correlations", all);
		json_decref(recs);
		break;
	}
	command_ok(q->cmd, res);
out:
	pf_free(&p);
	acct_live_free(v);
	free(q);
}

static void pf_start(struct command *cmd, enum pf_kind kind, double lambda,
		     int64_t max_recs, double min_corr)
{
	struct revenue *r = plugin_app(command_plugin(cmd));
	struct pf_req *q;

	if (!r->db || !r->acct) {
		command_fail(cmd, ERR_NOT_READY, NULL,
			     "cl-revenue-ops is not initialised");
		return;
	}
	q = xzalloc(sizeof(*q));
	q->cmd = cmd;
	q->kind = kind;
	/* The reference clamps these rather than refusing them. */
	q->lambda = lambda < 0 ? 0 : lambda > 10 ? 10 : lambda;
	q->max_recs = max_recs < 1 ? 1 : max_recs > 100 ? 100 : max_recs;
	q->min_corr = min_corr < -1 ? -1 : min_corr > 1 ? 1 : min_corr;
	acct_live_fetch(r, command_id(cmd), 0, pf_live, q);
}

void json_revenue_portfolio(struct command *cmd, const json_t *params)
{
	double lambda = 1.0;
	const struct param specs[] = {
	    {"risk_aversion", PARAM_DOUBLE, false, &lambda},
	    {NULL},
	};

	if (!command_params(cmd, params, specs))
		return;
	pf_start(cmd, PF_FULL, lambda, 5, 0.3);
}

void json_revenue_portfolio_summary(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};

	if (!command_params(cmd, params, none))
		return;
	pf_start(cmd, PF_SUMMARY, 1.0, 5, 0.3);
}

void json_revenue_portfolio_rebalance(struct command *cmd, const json_t *params)
{
	int64_t max = 5;
	const struct param specs[] = {
	    {"max_recommendations", PARAM_INT, false, &max},
	    {NULL},
	};

	if (!command_params(cmd, params, specs))
		return;
	pf_start(cmd, PF_REBALANCE, 1.0, max, 0.3);
}

void json_revenue_portfolio_correlations(struct command *cmd,
					 const json_t *params)
{
	double min = 0.3;
	const struct param specs[] = {
	    {"min_correlation", PARAM_DOUBLE, false, &min},
	    {NULL},
	};

	if (!command_params(cmd, params, specs))
		return;
	pf_start(cmd, PF_CORRELATIONS, 1.0, 5, min);
}
