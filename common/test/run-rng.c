/* Unit tests for common/rng.c: reproducibility from a seed, rng_below's
 * bounds and rough uniformity, the moments of the normal draw, the median
 * of the lognormal, the exponential's mean, and rng_fork's independent but
 * reproducible streams. Fixed seeds throughout, so a failure is stable. */
#include "common/rng.h"
#include "tests/check.h"
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_reproducible(void)
{
	struct rng a, b, c;
	int same = 0, differ = 0;

	rng_seed(&a, 12345);
	rng_seed(&b, 12345);
	rng_seed(&c, 12346);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_u64(&a), y = rng_u64(&b), z = rng_u64(&c);
		same += x == y;
		differ += x != z;
	}
	CHECK_EQ_INT(same, 1000, "same seed, same 1000 u64 draws");
	CHECK(differ >= 999, "seed+1 differs on %d of 1000 draws", differ);

	/* Mixed draws also replay exactly (the spare normal included). */
	rng_seed(&a, 99);
	rng_seed(&b, 99);
	same = 0;
	for (int i = 0; i < 500; i++) {
		double x1 = rng_normal(&a), y1 = rng_normal(&b);
		double x2 = rng_unit(&a), y2 = rng_unit(&b);
		uint64_t x3 = rng_below(&a, 17), y3 = rng_below(&b, 17);
		same += x1 == y1 && x2 == y2 && x3 == y3;
	}
	CHECK_EQ_INT(same, 500, "same seed replays mixed draws");

	/* Reseeding resets the spare normal: a seed gives the same first
	 * normal whatever was drawn before. */
	rng_seed(&a, 5);
	double first = rng_normal(&a);
	rng_seed(&a, 5);
	CHECK(rng_normal(&a) == first, "reseeding restarts the stream");
	rng_seed(&a, 6);
	(void)rng_normal(&a); /* leaves a spare */
	rng_seed(&a, 5);
	CHECK(rng_normal(&a) == first, "reseeding discards a pending spare");

	/* Seed 0 is a valid seed (splitmix64 expands it). */
	rng_seed(&a, 0);
	CHECK(rng_u64(&a) != 0 || rng_u64(&a) != 0, "seed 0 is not stuck");
}

static void test_unit(void)
{
	struct rng r;
	double lo = 1, hi = 0, sum = 0;
	const int n = 100000;

	rng_seed(&r, 7);
	for (int i = 0; i < n; i++) {
		double u = rng_unit(&r);
		if (u < lo)
			lo = u;
		if (u > hi)
			hi = u;
		sum += u;
	}
	CHECK(lo >= 0.0 && hi < 1.0, "rng_unit in [0,1): min %g max %g", lo,
	      hi);
	CHECK(lo < 0.001 && hi > 0.999, "rng_unit covers [0,1): %g..%g", lo,
	      hi);
	CHECK(fabs(sum / n - 0.5) < 0.005, "rng_unit mean %g ~ 0.5",
	      sum / n);
}

static void test_below(void)
{
	struct rng r;
	static const uint64_t bounds[] = {1, 2, 3, 7, 10, 1000,
					  (1ULL << 63) + 1, UINT64_MAX / 3 * 2,
					  UINT64_MAX};
	rng_seed(&r, 2024);
	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		uint64_t n = bounds[k], max = 0;
		int out_of_range = 0;
		for (int i = 0; i < 20000; i++) {
			uint64_t v = rng_below(&r, n);
			if (v >= n)
				out_of_range++;
			if (v > max)
				max = v;
		}
		CHECK_EQ_INT(out_of_range, 0, "rng_below(%" PRIu64 ") < bound",
			     n);
		if (n <= 1000)
			CHECK(max == n - 1,
			      "rng_below(%" PRIu64 ") reaches n-1 (max %" PRIu64
			      ")",
			      n, max);
	}

	/* For n = 2/3 of 2^64, a plain modulo would hit [0, n/2) with
	 * probability 2/3; rejection sampling keeps it at 1/2. */
	{
		uint64_t n = UINT64_MAX / 3 * 2;
		int lower = 0;
		for (int i = 0; i < 20000; i++)
			lower += rng_below(&r, n) < n / 2;
		CHECK(lower > 9700 && lower < 10300,
		      "rng_below(2^64*2/3): %d of 20000 in the lower half "
		      "(a modulo bias would give ~13333)",
		      lower);
	}

	/* Rough uniformity: chi-square over 10 buckets, 100k draws. With 9
	 * degrees of freedom, P(chi2 > 27.9) = 0.001. */
	{
		int counts[10] = {0};
		double chi2 = 0;
		const int n = 100000;
		for (int i = 0; i < n; i++)
			counts[rng_below(&r, 10)]++;
		for (int b = 0; b < 10; b++) {
			double d = counts[b] - n / 10.0;
			chi2 += d * d / (n / 10.0);
		}
		CHECK(chi2 < 27.9, "rng_below(10) chi-square %.2f < 27.9 "
		      "(counts %d %d %d %d %d %d %d %d %d %d)",
		      chi2, counts[0], counts[1], counts[2], counts[3],
		      counts[4], counts[5], counts[6], counts[7], counts[8],
		      counts[9]);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_normal(void)
{
	struct rng r;
	const int n = 100000;
	double sum = 0, sumsq = 0, within1 = 0, within2 = 0;

	rng_seed(&r, 31337);
	for (int i = 0; i < n; i++) {
		double x = rng_normal(&r);
		sum += x;
		sumsq += x * x;
		within1 += fabs(x) < 1;
		within2 += fabs(x) < 2;
	}
	double mean = sum / n, sd = sqrt(sumsq / n - mean * mean);
	/* Standard error of the mean is 1/sqrt(1e5) ~ 0.0032. */
	CHECK(fabs(mean) < 0.015, "normal mean %.4f ~ 0", mean);
	CHECK(fabs(sd - 1) < 0.015, "normal sd %.4f ~ 1", sd);
	CHECK(fabs(within1 / n - 0.6827) < 0.01,
	      "normal: %.4f within 1 sd (want 0.6827)", within1 / n);
	CHECK(fabs(within2 / n - 0.9545) < 0.005,
	      "normal: %.4f within 2 sd (want 0.9545)", within2 / n);
}

static void test_lognormal(void)
{
	struct rng r;
	enum { N = 100001 };
	double *v = malloc(sizeof(double) * N);
	int nonpos = 0;
	const double mu = 2.0, sigma = 0.5;

	rng_seed(&r, 8);
	for (int i = 0; i < N; i++) {
		v[i] = rng_lognormal(&r, mu, sigma);
		nonpos += v[i] <= 0;
	}
	qsort(v, N, sizeof(double), cmp_double);
	CHECK_EQ_INT(nonpos, 0, "lognormal draws are positive");
	/* Median of exp(N(mu, sigma)) is exp(mu) = 7.389. */
	CHECK(fabs(v[N / 2] / exp(mu) - 1) < 0.01,
	      "lognormal median %.4f ~ exp(2) = %.4f", v[N / 2], exp(mu));
	/* The 84.1% quantile is exp(mu + sigma). */
	CHECK(fabs(v[(int)(N * 0.8413)] / exp(mu + sigma) - 1) < 0.02,
	      "lognormal 84th percentile %.4f ~ %.4f", v[(int)(N * 0.8413)],
	      exp(mu + sigma));
	free(v);

	/* sigma 0 is deterministic. */
	rng_seed(&r, 8);
	CHECK(fabs(rng_lognormal(&r, 1.0, 0.0) - exp(1.0)) < 1e-12,
	      "lognormal with sigma 0 is exp(mu)");
}

static void test_exponential(void)
{
	struct rng r;
	const int n = 100000;
	double sum = 0;
	int negative = 0, infinite = 0;

	rng_seed(&r, 11);
	for (int i = 0; i < n; i++) {
		double x = rng_exponential(&r, 3.0);
		sum += x;
		negative += x < 0;
		infinite += !isfinite(x);
	}
	CHECK_EQ_INT(negative, 0, "exponential draws are non-negative");
	CHECK_EQ_INT(infinite, 0, "exponential draws are finite");
	CHECK(fabs(sum / n - 3.0) < 0.05, "exponential mean %.4f ~ 3",
	      sum / n);
}

static void test_fork(void)
{
	struct rng parent, p2, f1, f1b, f2, f1_later;
	int equal12 = 0, equal1p = 0, replay = 0;
	double corr_xy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
	const int n = 10000;

	rng_seed(&parent, 555);
	p2 = parent;
	rng_fork(&parent, 1, &f1);
	rng_fork(&parent, 1, &f1b);
	rng_fork(&parent, 2, &f2);
	CHECK(memcmp(parent.s, p2.s, sizeof(parent.s)) == 0,
	      "fork does not advance the parent");
	for (int i = 0; i < n; i++) {
		uint64_t a = rng_u64(&f1), b = rng_u64(&f1b), c = rng_u64(&f2);
		uint64_t p = rng_u64(&parent);
		double x, y;
		replay += a == b;
		equal12 += a == c;
		equal1p += a == p;
		x = (double)(a >> 11) * 0x1.0p-53;
		y = (double)(c >> 11) * 0x1.0p-53;
		sx += x;
		sy += y;
		sxx += x * x;
		syy += y * y;
		corr_xy += x * y;
	}
	CHECK_EQ_INT(replay, n, "same parent + stream: same sequence");
	CHECK_EQ_INT(equal12, 0, "streams 1 and 2 differ");
	CHECK_EQ_INT(equal1p, 0, "a fork differs from its parent");
	{
		double cov = corr_xy / n - (sx / n) * (sy / n);
		double vx = sxx / n - (sx / n) * (sx / n);
		double vy = syy / n - (sy / n) * (sy / n);
		double rho = cov / sqrt(vx * vy);
		CHECK(fabs(rho) < 0.05,
		      "streams 1 and 2 uncorrelated (rho %.4f)", rho);
	}

	/* Reproducible from the seed alone: a fresh parent forks the same
	 * stream; forking after the parent moved gives a different one. */
	{
		struct rng again, g1;
		rng_seed(&again, 555);
		rng_fork(&again, 1, &g1);
		rng_seed(&f1, 555);
		rng_fork(&f1, 1, &f1);
		CHECK(rng_u64(&g1) == rng_u64(&f1),
		      "fork reproducible from the seed");
		(void)rng_u64(&again);
		rng_fork(&again, 1, &f1_later);
		rng_seed(&p2, 555);
		rng_fork(&p2, 1, &g1);
		CHECK(rng_u64(&f1_later) != rng_u64(&g1),
		      "fork depends on the parent's state");
	}

	/* Many streams from one parent: no two first draws collide. */
	{
		enum { S = 1000 };
		uint64_t *first = malloc(sizeof(uint64_t) * S);
		int collisions = 0;
		rng_seed(&parent, 1);
		for (int s = 0; s < S; s++) {
			struct rng f;
			rng_fork(&parent, (uint64_t)s, &f);
			first[s] = rng_u64(&f);
			for (int t = 0; t < s; t++)
				collisions += first[t] == first[s];
		}
		CHECK_EQ_INT(collisions, 0, "1000 forked streams all differ");
		free(first);
	}
}

int main(void)
{
	test_reproducible();
	test_unit();
	test_below();
	test_normal();
	test_lognormal();
	test_exponential();
	test_fork();
	return check_done();
}
