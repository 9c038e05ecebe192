/* A seedable pseudo-random generator (xoshiro256**, seeded through
 * splitmix64), passed explicitly to everything random so each decision
 * and each simulation is reproducible from its seed. Not for keys.
 *
 * It lives in common/ because both the engine (its decisions) and the
 * simulator (the model that judges them) draw from it, each from
 * generators of its own: they share the algorithm, never a stream. libc
 * only, no clock, as engine/ requires (scripts/check-layering). */
#ifndef HIVE_COMMON_RNG_H
#define HIVE_COMMON_RNG_H
#include <stdint.h>

struct rng {
	uint64_t s[4];
	double spare_normal;
	int has_spare;
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_u64(struct rng *r);
/* Uniform in [0, 1). */
double rng_unit(struct rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal (mean 0, sd 1). */
double rng_normal(struct rng *r);
/* exp(N(mu, sigma)). */
double rng_lognormal(struct rng *r, double mu, double sigma);
/* Exponential with the given mean. */
double rng_exponential(struct rng *r, double mean);
/* An independent generator derived from @r and @stream (for per-item
 * streams that stay stable when other items are added). */
void rng_fork(const struct rng *r, uint64_t stream, struct rng *out);

#endif
