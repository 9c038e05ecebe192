/* Mean-variance portfolio maths; see portfolio_math.h. */
#include "plugins/revenue-ops/rpc/portfolio_math.h"
#include "common/util.h"
#include <math.h>
#include <string.h>

void pf_stats(const double *x, size_t n, double *mean, double *var)
{
	double s = 0, ss = 0, m;

	*mean = 0;
	*var = 0;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	m = s / (double)n;
	*mean = m;
	if (n < 2)
		return;
	/* Two passes: stable for the lumpy, mostly-zero series fees are. */
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*var = ss / (double)(n - 1);
}

bool pf_correlation(const double *x, const double *y, size_t n, double *rho)
{
	double mx, my, vx, vy, c = 0;

	*rho = 0;
	if (n < 2)
		return false;
	pf_stats(x, n, &mx, &vx);
	pf_stats(y, n, &my, &vy);
	if (vx <= 0 || vy <= 0)
		return false;
	for (size_t i = 0; i < n; i++)
		c += (x[i] - mx) * (y[i] - my);
	c /= (double)(n - 1);
	*rho = c / sqrt(vx * vy);
	/* Rounding can step just outside [-1, 1]. */
	if (*rho > 1)
		*rho = 1;
	if (*rho < -1)
		*rho = -1;
	return true;
}

void pf_covariance(const double *series, size_t k, size_t n, double *cov)
{
	double *mean = xzalloc(sizeof(double) * (k + 1));

	for (size_t i = 0; i < k; i++) {
		double v;
		pf_stats(series + i * n, n, &mean[i], &v);
	}
	for (size_t i = 0; i < k; i++) {
		for (size_t j = i; j < k; j++) {
			double c = 0;
			for (size_t d = 0; n >= 2 && d < n; d++)
				c += (series[i * n + d] - mean[i]) *
				     (series[j * n + d] - mean[j]);
			c = n >= 2 ? c / (double)(n - 1) : 0;
			cov[i * k + j] = cov[j * k + i] = c;
		}
	}
	free(mean);
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

bool pf_project(const double *v, const double *ub, size_t k, double *w)
{
	double lo = INFINITY, hi = -INFINITY, total = 0;

	for (size_t i = 0; i < k; i++)
		total += ub[i] > 0 ? ub[i] : 0;
	if (k == 0)
		return false;
	if (total < 1.0) {
		/* Infeasible: everything at its cap is the closest we can
		 * get to a full allocation. */
		for (size_t i = 0; i < k; i++)
			w[i] = ub[i] > 0 ? ub[i] : 0;
		return false;
	}
	/* w_i(tau) = clamp(v_i - tau, 0, ub_i) sums to 1 at one tau; the
	 * sum falls as tau rises, so bisect. */
	for (size_t i = 0; i < k; i++) {
		if (v[i] - ub[i] < lo)
			lo = v[i] - ub[i];
		if (v[i] > hi)
			hi = v[i];
	}
	lo -= 1;
	for (int it = 0; it < 200; it++) {
		double mid = (lo + hi) / 2, s = 0;
		for (size_t i = 0; i < k; i++)
			s += clamp(v[i] - mid, 0, ub[i] > 0 ? ub[i] : 0);
		if (s > 1)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = 0; i < k; i++)
		w[i] = clamp(v[i] - (lo + hi) / 2, 0, ub[i] > 0 ? ub[i] : 0);
	return true;
}

static double quad(const double *cov, const double *w, size_t k)
{
	double q = 0;

	for (size_t i = 0; i < k; i++) {
		double row = 0;
		for (size_t j = 0; j < k; j++)
			row += cov[i * k + j] * w[j];
		q += w[i] * row;
	}
	return q;
}

double pf_utility(const double *mu, const double *cov, const double *w,
		  size_t k, double lambda)
{
	double ret = 0;

	for (size_t i = 0; i < k; i++)
		ret += w[i] * mu[i];
	return ret - lambda / 2 * quad(cov, w, k);
}

void pf_portfolio(const double *mu, const double *cov, const double *w,
		  size_t k, double *ret, double *vol)
{
	double q = quad(cov, w, k);

	*ret = 0;
	for (size_t i = 0; i < k; i++)
		*ret += w[i] * mu[i];
	*vol = q > 0 ? sqrt(q) : 0;
}

/* lambda = 0: fill the highest-return channels to their caps. */
static void greedy(const double *mu, const double *ub, size_t k, double *w)
{
	bool *used = xzalloc(sizeof(bool) * (k + 1));
	double left = 1;

	memset(w, 0, sizeof(double) * k);
	while (left > 0) {
		size_t best = k;
		for (size_t i = 0; i < k; i++)
			if (!used[i] && ub[i] > 0 &&
			    (best == k || mu[i] > mu[best]))
				best = i;
		if (best == k)
			break;
		used[best] = true;
		w[best] = ub[best] < left ? ub[best] : left;
		left -= w[best];
	}
	free(used);
}

size_t pf_optimize(const double *mu, const double *cov, const double *ub,
		   size_t k, double lambda, size_t max_iter, double *w)
{
	double *y, *g, *next, L = 0, t = 1, u;
	size_t it;

	if (k == 0)
		return 0;
	for (size_t i = 0; i < k; i++) {
		double row = 0;
		for (size_t j = 0; j < k; j++)
			row += fabs(cov[i * k + j]);
		if (row > L)
			L = row;
	}
	L *= lambda;
	if (lambda <= 0 || L <= 0) {
		greedy(mu, ub, k, w);
		return 0;
	}
	y = xzalloc(sizeof(double) * k);
	g = xzalloc(sizeof(double) * k);
	next = xzalloc(sizeof(double) * k);
	pf_project(w, ub, k, next);
	memcpy(w, next, sizeof(double) * k);
	memcpy(y, w, sizeof(double) * k);
	u = pf_utility(mu, cov, w, k, lambda);
	for (it = 1; it <= max_iter; it++) {
		double t_next, un, delta = 0;
		/* Gradient of U at y: mu - lambda Sigma y. */
		for (size_t i = 0; i < k; i++) {
			double row = 0;
			for (size_t j = 0; j < k; j++)
				row += cov[i * k + j] * y[j];
			g[i] = y[i] + (mu[i] - lambda * row) / L;
		}
		pf_project(g, ub, k, next);
		un = pf_utility(mu, cov, next, k, lambda);
		if (un < u) {
			/* Momentum overshot: restart from the last point. */
			t = 1;
			memcpy(y, w, sizeof(double) * k);
			continue;
		}
		t_next = (1 + sqrt(1 + 4 * t * t)) / 2;
		for (size_t i = 0; i < k; i++) {
			double d = next[i] - w[i];
			if (fabs(d) > delta)
				delta = fabs(d);
			y[i] = next[i] + (t - 1) / t_next * d;
			w[i] = next[i];
		}
		t = t_next;
		u = un;
		if (delta < 1e-10)
			break;
	}
	free(y);
	free(g);
	free(next);
	return it > max_iter ? max_iter : it;
}
