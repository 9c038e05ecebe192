/* Unit tests of the portfolio maths (portfolio_math.c): sample
 * statistics, correlation, the capped-simplex projection, and the
 * mean-variance optimiser against closed-form optima, plus a fixed-seed
 * property loop: no feasible allocation beats the optimiser's. */
#include "common/rng.h"
#include "common/util.h"
#include "plugins/revenue-ops/rpc/portfolio_math.h"
#include "tests/check.h"
#include <math.h>
#include <string.h>

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static double sum(const double *w, size_t k)
{
	double s = 0;
	for (size_t i = 0; i < k; i++)
		s += w[i];
	return s;
}

static void test_stats(void)
{
	const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
	const double up[] = {1, 2, 3, 4}, down[] = {8, 6, 4, 2};
	const double flat[] = {3, 3, 3, 3};
	double m, v, rho;

	pf_stats(x, 8, &m, &v);
	CHECK(near(m, 5, 1e-12) && near(v, 32.0 / 7, 1e-12),
	      "mean 5, sample variance 32/7 (got %g %g)", m, v);
	pf_stats(x, 1, &m, &v);
	CHECK(m == 2 && v == 0, "one point: no variance");
	CHECK(pf_correlation(up, up, 4, &rho) && near(rho, 1, 1e-12),
	      "a series with itself: 1");
	CHECK(pf_correlation(up, down, 4, &rho) && near(rho, -1, 1e-12),
	      "opposite: -1");
	CHECK(!pf_correlation(up, flat, 4, &rho),
	      "a constant series has no correlation");
	CHECK(!pf_correlation(up, down, 1, &rho), "one point: none");
	{
		double series[8] = {1, 2, 3, 4, 8, 6, 4, 2}, cov[4];
		pf_covariance(series, 2, 4, cov);
		CHECK(near(cov[0], 5.0 / 3, 1e-12) &&
			  near(cov[3], 20.0 / 3, 1e-12) &&
			  near(cov[1], -10.0 / 3, 1e-12) && cov[1] == cov[2],
		      "covariance matrix");
	}
}

static void test_projection(void)
{
	const double v1[] = {0.5, 0.5, 0.5}, ub1[] = {1, 1, 1};
	const double v2[] = {1, 0, 0}, ub2[] = {0.2, 1, 1};
	const double ub3[] = {0.2, 0.3, 0.4};
	double w[3];

	CHECK(pf_project(v1, ub1, 3, w) && near(w[0], 1.0 / 3, 1e-9) &&
		  near(w[2], 1.0 / 3, 1e-9),
	      "equal values: equal weights");
	CHECK(pf_project(v2, ub2, 3, w) && near(w[0], 0.2, 1e-9) &&
		  near(w[1], 0.4, 1e-9) && near(w[2], 0.4, 1e-9),
	      "a capped channel keeps its cap, the rest shares (%g %g %g)",
	      w[0], w[1], w[2]);
	CHECK(near(sum(w, 3), 1, 1e-9), "sums to one");
	CHECK(!pf_project(v1, ub3, 3, w) && w[2] == 0.4,
	      "infeasible caps: everything at its cap");
}

static void test_optimizer(void)
{
	/* Two uncorrelated channels, variances 1 and 4. */
	const double cov[] = {1, 0, 0, 4};
	const double ub[] = {1, 1};
	const double mu_eq[] = {3, 3}, mu[] = {2, 1};
	const double cov_eq[] = {1, 0, 0, 1};
	const double caps[] = {0.3, 1};
	double w[2] = {0.5, 0.5};

	/* Equal returns: the linear term is constant on the simplex, so
	 * the optimum is the minimum variance: weights ~ 1/variance. */
	pf_optimize(mu_eq, cov, ub, 2, 5, 10000, w);
	CHECK(near(w[0], 0.8, 1e-6) && near(w[1], 0.2, 1e-6),
	      "minimum variance 0.8/0.2 (got %g %g)", w[0], w[1]);
	/* w* = (mu1 - mu2 + lambda s2) / (lambda (s1 + s2)) = 3/4. */
	w[0] = w[1] = 0.5;
	pf_optimize(mu, cov_eq, ub, 2, 2, 10000, w);
	CHECK(near(w[0], 0.75, 1e-6), "closed form 0.75 (got %g)", w[0]);
	/* lambda 1: the formula says 1: all in the better channel. */
	w[0] = w[1] = 0.5;
	pf_optimize(mu, cov_eq, ub, 2, 1, 10000, w);
	CHECK(near(w[0], 1, 1e-6), "corner optimum (got %g)", w[0]);
	/* lambda 0: linear, filled best first up to the caps. */
	w[0] = w[1] = 0.5;
	CHECK(pf_optimize(mu, cov_eq, caps, 2, 0, 100, w) == 0 &&
		  near(w[0], 0.3, 1e-12) && near(w[1], 0.7, 1e-12),
	      "lambda 0: greedy under caps");
}

/* Fixed seed: for random 4-channel problems, no random feasible point
 * has a higher utility than the optimiser's answer. */
static void test_property(void)
{
	struct rng rng;
	size_t bad = 0, cases = 0;

	rng_seed(&rng, 42);
	for (int c = 0; c < 200; c++) {
		enum { K = 4, N = 14 };
		double series[K * N], cov[K * K], mu[K], ub[K], w[K], var;
		double best;
		for (size_t i = 0; i < K * N; i++)
			series[i] =
			    rng_unit(&rng) < 0.4 ? 0 : rng_unit(&rng) * 10;
		pf_covariance(series, K, N, cov);
		for (size_t i = 0; i < K; i++) {
			pf_stats(series + i * N, N, &mu[i], &var);
			ub[i] = 0.3 + rng_unit(&rng);
			w[i] = 1.0 / K;
		}
		double lambda = rng_unit(&rng) * 2;
		pf_optimize(mu, cov, ub, K, lambda, 5000, w);
		best = pf_utility(mu, cov, w, K, lambda);
		if (!near(sum(w, K), 1, 1e-6))
			bad++;
		for (int t = 0; t < 50; t++) {
			double v[K], p[K];
			for (size_t i = 0; i < K; i++)
				v[i] = rng_unit(&rng);
			pf_project(v, ub, K, p);
			cases++;
			if (pf_utility(mu, cov, p, K, lambda) > best + 1e-6)
				bad++;
		}
	}
	CHECK(bad == 0,
	      "optimum beats %zu random feasible allocations "
	      "(%zu worse)",
	      cases, bad);
}

int main(void)
{
	test_stats();
	test_projection();
	test_optimizer();
	test_property();
	return check_done();
}
