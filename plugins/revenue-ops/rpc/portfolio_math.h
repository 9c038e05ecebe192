/* Mean-variance maths for the channel portfolio (spec §4.13, whose
 * optimiser maths the reference does not pin down; the choices are
 * documented here and in doc/cl-revenue-ops.md).
 *
 * Each channel is an asset whose daily return is the fee revenue it
 * earned as the exit that day, per sat of its capacity, annualised in
 * percent (r = fee_msat / (capacity_sat * 1000) * 365 * 100). Weights
 * are the shares of our outbound liquidity placed in each channel. The
 * optimal allocation maximises the textbook mean-variance utility
 *
 *     U(w) = w'mu - (lambda / 2) w' Sigma w
 *
 * over the capped simplex { sum w = 1, 0 <= w_i <= ub_i } (a channel
 * cannot hold more of our liquidity than its capacity), with lambda the
 * operator's risk aversion (0..10) in the same %-units. It is concave,
 * so accelerated projected gradient ascent (FISTA with adaptive restart,
 * step 1/L, L = lambda * max row sum |Sigma|) converges to the optimum;
 * lambda = 0 is linear and solved exactly by filling the best channels
 * first. Pure: no I/O, deterministic. */
#ifndef HIVE_REVENUE_OPS_PORTFOLIO_MATH_H
#define HIVE_REVENUE_OPS_PORTFOLIO_MATH_H
#include <stdbool.h>
#include <stddef.h>

/* Sample mean and variance (n - 1 denominator; 0 when n < 2). */
void pf_stats(const double *x, size_t n, double *mean, double *var);

/* Pearson correlation of two series of @n points. False (no
 * correlation defined) when n < 2 or either series is constant. */
bool pf_correlation(const double *x, const double *y, size_t n, double *rho);

/* Sample covariance matrix of @k series of @n points each (@series is
 * k rows of n, row-major); @cov is k x k, row-major. */
void pf_covariance(const double *series, size_t k, size_t n, double *cov);

/* Euclidean projection of @v onto { sum w = 1, 0 <= w_i <= ub_i }.
 * False (and w = ub scaled to what fits) when sum ub < 1. */
bool pf_project(const double *v, const double *ub, size_t k, double *w);

/* U(w) as above. */
double pf_utility(const double *mu, const double *cov, const double *w,
		  size_t k, double lambda);
/* w'mu and sqrt(w' Sigma w). */
void pf_portfolio(const double *mu, const double *cov, const double *w,
		  size_t k, double *ret, double *vol);

/* Maximise U over the capped simplex. @w: in, a starting point (any;
 * it is projected first); out, the optimum. Returns the iterations
 * used (0 for the exact lambda = 0 solution). */
size_t pf_optimize(const double *mu, const double *cov, const double *ub,
		   size_t k, double lambda, size_t max_iter, double *w);

#endif
