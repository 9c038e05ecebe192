/* Unit tests for common/amount.h: checked msat arithmetic, BOLT 7 fee
 * computation and ppm ratios, including the overflow and underflow edges. */
#include "common/amount.h"
#include "tests/check.h"
#include <inttypes.h>
#include <string.h>

enum op { ADD, SUB, MUL };

struct u_case {
	enum op op;
	uint64_t a, b;
	bool ok;
	uint64_t want;
};

static const char *op_name(enum op op)
{
	return op == ADD ? "add" : op == SUB ? "sub" : "mul";
}

static void test_unsigned(void)
{
	static const struct u_case cases[] = {
		{.op = ADD, .a = 0, .b = 0, .ok = true, .want = 0},
		{.op = ADD, .a = 1, .b = 2, .ok = true, .want = 3},
		{.op = ADD, .a = UINT64_MAX - 1, .b = 1, .ok = true,
		 .want = UINT64_MAX},
		{.op = ADD, .a = UINT64_MAX, .b = 1, .ok = false},
		{.op = ADD, .a = 1ULL << 63, .b = 1ULL << 63, .ok = false},
		{.op = ADD, .a = AMOUNT_MSAT_MAX, .b = AMOUNT_MSAT_MAX,
		 .ok = true, .want = 2 * AMOUNT_MSAT_MAX},
		{.op = SUB, .a = 5, .b = 5, .ok = true, .want = 0},
		{.op = SUB, .a = 5, .b = 6, .ok = false},
		{.op = SUB, .a = 0, .b = 1, .ok = false},
		{.op = SUB, .a = UINT64_MAX, .b = UINT64_MAX - 7, .ok = true,
		 .want = 7},
		{.op = MUL, .a = 0, .b = UINT64_MAX, .ok = true, .want = 0},
		{.op = MUL, .a = 1ULL << 32, .b = (1ULL << 32) - 1, .ok = true,
		 .want = (1ULL << 32) * ((1ULL << 32) - 1)},
		{.op = MUL, .a = 1ULL << 32, .b = 1ULL << 32, .ok = false},
		{.op = MUL, .a = UINT64_MAX, .b = 2, .ok = false},
		{.op = MUL, .a = 3, .b = 7, .ok = true, .want = 21},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct u_case *c = &cases[i];
		uint64_t out = 0xDEADBEEF;
		bool ok;
		switch (c->op) {
		case ADD:
			ok = amount_msat_add(&out, c->a, c->b);
			break;
		case SUB:
			ok = amount_msat_sub(&out, c->a, c->b);
			break;
		default:
			ok = amount_msat_mul(&out, c->a, c->b);
			break;
		}
		CHECK_EQ_INT(ok, c->ok, "msat_%s(%" PRIu64 ", %" PRIu64 ") ok",
			     op_name(c->op), c->a, c->b);
		if (c->ok)
			CHECK(out == c->want,
			      "msat_%s(%" PRIu64 ", %" PRIu64 ") = %" PRIu64
			      " (want %" PRIu64 ")",
			      op_name(c->op), c->a, c->b, out, c->want);
		else
			CHECK(out == 0xDEADBEEF,
			      "msat_%s(%" PRIu64 ", %" PRIu64
			      ") failure leaves *out untouched (%" PRIu64 ")",
			      op_name(c->op), c->a, c->b, out);
	}
}

struct s_case {
	bool sub;
	int64_t a, b;
	bool ok;
	int64_t want;
};

static void test_signed(void)
{
	static const struct s_case cases[] = {
		{.sub = false, .a = -5, .b = 3, .ok = true, .want = -2},
		{.sub = false, .a = INT64_MAX, .b = 1, .ok = false},
		{.sub = false, .a = INT64_MIN, .b = -1, .ok = false},
		{.sub = false, .a = INT64_MIN, .b = INT64_MAX, .ok = true,
		 .want = -1},
		{.sub = true, .a = 3, .b = 5, .ok = true, .want = -2},
		{.sub = true, .a = INT64_MIN, .b = 1, .ok = false},
		{.sub = true, .a = 0, .b = INT64_MIN, .ok = false},
		{.sub = true, .a = -1, .b = INT64_MIN, .ok = true,
		 .want = INT64_MAX},
		{.sub = true, .a = INT64_MAX, .b = -1, .ok = false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct s_case *c = &cases[i];
		int64_t out = 12345;
		bool ok = c->sub ? amount_smsat_sub(&out, c->a, c->b)
				 : amount_smsat_add(&out, c->a, c->b);
		CHECK_EQ_INT(ok, c->ok, "smsat_%s(%" PRId64 ", %" PRId64 ") ok",
			     c->sub ? "sub" : "add", c->a, c->b);
		CHECK_EQ_INT(out, c->ok ? c->want : 12345,
			     "smsat_%s(%" PRId64 ", %" PRId64 ") value",
			     c->sub ? "sub" : "add", c->a, c->b);
	}
}

static void test_sat_conversions(void)
{
	uint64_t out = 0;

	CHECK(amount_sat_to_msat(&out, 21) && out == 21000,
	      "21 sat = 21000 msat (%" PRIu64 ")", out);
	CHECK(amount_sat_to_msat(&out, UINT64_MAX / 1000) &&
		      out == (UINT64_MAX / 1000) * 1000,
	      "largest convertible sat amount");
	out = 7;
	CHECK(!amount_sat_to_msat(&out, UINT64_MAX / 1000 + 1) && out == 7,
	      "sat_to_msat overflow refused, *out untouched");
	CHECK_EQ_INT(amount_msat_to_sat_floor(1999), 1, "floor(1999 msat)");
	CHECK_EQ_INT(amount_msat_to_sat_ceil(1999), 2, "ceil(1999 msat)");
	CHECK_EQ_INT(amount_msat_to_sat_ceil(2000), 2, "ceil(2000 msat)");
	CHECK_EQ_INT(amount_msat_to_sat_ceil(0), 0, "ceil(0 msat)");
	CHECK_EQ_INT(amount_msat_to_sat_floor(999), 0, "floor(999 msat)");
	CHECK(amount_msat_to_sat_ceil(UINT64_MAX) == UINT64_MAX / 1000 + 1,
	      "ceil(UINT64_MAX msat) does not wrap");
}

struct fee_case {
	uint64_t amount, base, ppm;
	bool ok;
	uint64_t want;
};

static void test_fee(void)
{
	static const struct fee_case cases[] = {
		/* 1,000,000 msat at 100 ppm = 100 msat, plus base. */
		{.amount = 1000000, .base = 1000, .ppm = 100, .ok = true,
		 .want = 1100},
		{.amount = 0, .base = 1000, .ppm = 5000, .ok = true,
		 .want = 1000},
		{.amount = 123456789, .base = 0, .ppm = 0, .ok = true,
		 .want = 0},
		/* Rounding down: 999 * 1000 / 1e6 = 0.999 -> 0. */
		{.amount = 999, .base = 1, .ppm = 1000, .ok = true, .want = 1},
		/* 1,500,000 * 1 / 1e6 = 1.5 -> 1. */
		{.amount = 1500000, .base = 0, .ppm = 1, .ok = true,
		 .want = 1},
		/* 1,999,999 * 1 / 1e6 = 1.999999 -> 1. */
		{.amount = 1999999, .base = 0, .ppm = 1, .ok = true,
		 .want = 1},
		{.amount = 2000000, .base = 0, .ppm = 1, .ok = true,
		 .want = 2},
		/* 100% fee rate. */
		{.amount = 5000000, .base = 7, .ppm = 1000000, .ok = true,
		 .want = 5000007},
		/* A whole 21M BTC at 5000 ppm: the intermediate product
		 * (2.1e18 * 5000) overflows 64 bits, the result does not. */
		{.amount = AMOUNT_MSAT_MAX, .base = 1000, .ppm = 5000,
		 .ok = true, .want = AMOUNT_MSAT_MAX / 200 + 1000},
		{.amount = UINT64_MAX, .base = 0, .ppm = 1000000, .ok = true,
		 .want = UINT64_MAX},
		{.amount = UINT64_MAX, .base = 1, .ppm = 1000000, .ok = false},
		{.amount = UINT64_MAX, .base = 0, .ppm = 2000000, .ok = false},
		{.amount = 0, .base = UINT64_MAX, .ppm = UINT64_MAX, .ok = true,
		 .want = UINT64_MAX},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fee_case *c = &cases[i];
		uint64_t out = 42;
		bool ok = amount_fee_msat(&out, c->amount, c->base, c->ppm);
		CHECK_EQ_INT(ok, c->ok,
			     "fee(amount=%" PRIu64 ", base=%" PRIu64
			     ", ppm=%" PRIu64 ") ok",
			     c->amount, c->base, c->ppm);
		CHECK(out == (c->ok ? c->want : 42),
		      "fee(amount=%" PRIu64 ", base=%" PRIu64 ", ppm=%" PRIu64
		      ") = %" PRIu64 " (want %" PRIu64 ")",
		      c->amount, c->base, c->ppm, out, c->ok ? c->want : 42);
	}
}

struct ppm_case {
	uint64_t part, whole, want;
};

static void test_ppm_of(void)
{
	static const struct ppm_case cases[] = {
		{.part = 1, .whole = 3, .want = 333333},
		{.part = 2, .whole = 3, .want = 666666},
		{.part = 0, .whole = 0, .want = 0},
		{.part = 5, .whole = 0, .want = 0},
		{.part = 50, .whole = 100, .want = 500000},
		{.part = 100, .whole = 100, .want = 1000000},
		{.part = 300, .whole = 100, .want = 3000000},
		{.part = UINT64_MAX, .whole = UINT64_MAX, .want = 1000000},
		{.part = UINT64_MAX - 1, .whole = UINT64_MAX, .want = 999999},
		{.part = 1, .whole = UINT64_MAX, .want = 0},
		{.part = AMOUNT_MSAT_MAX, .whole = AMOUNT_MSAT_MAX / 4,
		 .want = 4000000},
		/* Ratios whose ppm does not fit 64 bits saturate instead of
		 * wrapping ("never overflows"). */
		{.part = UINT64_MAX, .whole = 1, .want = UINT64_MAX},
		{.part = 1ULL << 63, .whole = 1, .want = UINT64_MAX},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ppm_case *c = &cases[i];
		uint64_t got = amount_ppm_of(c->part, c->whole);
		CHECK(got == c->want,
		      "ppm_of(%" PRIu64 ", %" PRIu64 ") = %" PRIu64
		      " (want %" PRIu64 ")",
		      c->part, c->whole, got, c->want);
	}
}

int main(void)
{
	test_unsigned();
	test_signed();
	test_sat_conversions();
	test_fee();
	test_ppm_of();
	return check_done();
}
