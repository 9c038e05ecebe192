/* Checked amount arithmetic. Every sum, difference and product of msat or
 * sat values goes through these: each returns false (leaving *out
 * untouched) instead of wrapping, so an overflow becomes a handled error
 * rather than a wrong fee or a runaway budget. */
#ifndef HIVE_COMMON_AMOUNT_H
#define HIVE_COMMON_AMOUNT_H
#include <stdbool.h>
#include <stdint.h>

#define MSAT_PER_SAT 1000ULL
/* 21M BTC in msat: no real amount is larger. */
#define AMOUNT_MSAT_MAX (21000000ULL * 100000000ULL * 1000ULL)

static inline bool __attribute__((warn_unused_result))
amount_msat_add(uint64_t *out, uint64_t a, uint64_t b)
{
	uint64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

static inline bool __attribute__((warn_unused_result))
amount_msat_sub(uint64_t *out, uint64_t a, uint64_t b)
{
	if (b > a)
		return false;
	*out = a - b;
	return true;
}

static inline bool __attribute__((warn_unused_result))
amount_msat_mul(uint64_t *out, uint64_t a, uint64_t b)
{
	uint64_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

/* Signed msat (profit and loss can be negative). */
static inline bool __attribute__((warn_unused_result))
amount_smsat_add(int64_t *out, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

static inline bool __attribute__((warn_unused_result))
amount_smsat_sub(int64_t *out, int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

static inline bool __attribute__((warn_unused_result))
amount_sat_to_msat(uint64_t *out, uint64_t sat)
{
	return amount_msat_mul(out, sat, MSAT_PER_SAT);
}

static inline uint64_t amount_msat_to_sat_floor(uint64_t msat)
{
	return msat / MSAT_PER_SAT;
}

static inline uint64_t amount_msat_to_sat_ceil(uint64_t msat)
{
	return msat / MSAT_PER_SAT + (msat % MSAT_PER_SAT != 0);
}

/* Fee a channel charges to forward @amount_msat: base + amount * ppm / 1e6,
 * rounded down as BOLT 7 specifies. */
static inline bool __attribute__((warn_unused_result))
amount_fee_msat(uint64_t *out, uint64_t amount_msat, uint64_t base_msat,
		uint64_t ppm)
{
	unsigned __int128 prop = (unsigned __int128)amount_msat * ppm / 1000000;
	if (prop > UINT64_MAX)
		return false;
	return amount_msat_add(out, base_msat, (uint64_t)prop);
}

/* @part / @whole in parts per million (0 when @whole is 0), rounded
 * down; never overflows (saturates at UINT64_MAX). */
static inline uint64_t amount_ppm_of(uint64_t part, uint64_t whole)
{
	unsigned __int128 r;

	if (whole == 0)
		return 0;
	r = (unsigned __int128)part * 1000000 / whole;
	/* part/whole above ~1.8e13 does not fit: saturate, not wrap. */
	return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

#endif
