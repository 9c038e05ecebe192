/* A tiny test harness: TAP output ("ok N - name" / "not ok N - name"),
 * which tests/run-all counts. CHECK keeps going after a failure so one run
 * shows every mismatch; the exit status is non-zero if any failed. */
#ifndef HIVE_TESTS_CHECK_H
#define HIVE_TESTS_CHECK_H
#include <stdio.h>

static int check_count, check_failed;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		check_count++;                                                \
		if (cond) {                                                   \
			printf("ok %d - ", check_count);                      \
		} else {                                                      \
			check_failed++;                                       \
			printf("not ok %d - %s:%d: (%s) ", check_count,       \
			       __FILE__, __LINE__, #cond);                    \
		}                                                             \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
	} while (0)

#define CHECK_EQ_INT(a, b, ...)                                               \
	do {                                                                  \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);\
		CHECK(check_a_ == check_b_, __VA_ARGS__);                     \
		if (check_a_ != check_b_)                                     \
			printf("#   got %lld, want %lld\n", check_a_, check_b_); \
	} while (0)

#define CHECK_EQ_STR(a, b, ...)                                               \
	do {                                                                  \
		const char *check_a_ = (a), *check_b_ = (b);                  \
		int check_eq_ = check_a_ && check_b_ &&                       \
				strcmp(check_a_, check_b_) == 0;              \
		CHECK(check_eq_, __VA_ARGS__);                                \
		if (!check_eq_)                                               \
			printf("#   got '%s', want '%s'\n",                   \
			       check_a_ ? check_a_ : "(null)",                \
			       check_b_ ? check_b_ : "(null)");               \
	} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_count);
	return check_failed ? 1 : 0;
}

#endif
