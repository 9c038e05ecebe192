/* xoshiro256** with splitmix64 seeding; see rng.h. */
#include "common/rng.h"
#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
	r->has_spare = 0;
	r->spare_normal = 0;
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_unit(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Rejection sampling removes the modulo bias. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;
	do
		v = rng_u64(r);
	while (v >= limit);
	return v % n;
}

double rng_normal(struct rng *r)
{
	double u, v, s;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare_normal;
	}
	/* Marsaglia polar method: exact, no trig. */
	do {
		u = rng_unit(r) * 2.0 - 1.0;
		v = rng_unit(r) * 2.0 - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	s = sqrt(-2.0 * log(s) / s);
	r->spare_normal = v * s;
	r->has_spare = 1;
	return u * s;
}

double rng_lognormal(struct rng *r, double mu, double sigma)
{
	return exp(mu + sigma * rng_normal(r));
}

double rng_exponential(struct rng *r, double mean)
{
	return -mean * log(1.0 - rng_unit(r));
}

void rng_fork(const struct rng *r, uint64_t stream, struct rng *out)
{
	uint64_t x = r->s[0] ^ rotl(r->s[1], 13) ^ rotl(r->s[2], 29) ^
		     rotl(r->s[3], 47) ^ (stream * 0xD1B54A32D192ED03ULL);
	rng_seed(out, x);
}
