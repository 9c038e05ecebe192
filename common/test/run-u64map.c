/* Unit tests for common/u64map.c: random insert/replace/get/delete
 * against a reference array (fixed seed), clusters that wrap around the
 * end of the table so deletion's backward shift is exercised, growth, and
 * draining with pop_any. */
#include "common/u64map.h"
#include "tests/check.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static uint64_t prng_state;

static uint64_t prng(void)
{
	uint64_t z = (prng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Values are addresses inside this array, so each is distinct and
 * non-NULL. */
static char tokens[4096];

#define NKEYS 3000

/* Reference: key i is keys[i]; present[i] says whether it is in the map,
 * and with which value. */
static uint64_t keys[NKEYS];
static void *ref[NKEYS];

static int verify_all(const struct u64map *m, const char *when)
{
	size_t count = 0;
	int bad = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		void *got = u64map_get(m, keys[i]);
		if (ref[i])
			count++;
		if (got != ref[i]) {
			if (bad < 5)
				printf("# %s: key %" PRIu64 " got %p want %p\n",
				       when, keys[i], got, ref[i]);
			bad++;
		}
	}
	if (count != u64map_count(m)) {
		printf("# %s: count %zu want %zu\n", when, u64map_count(m),
		       count);
		bad++;
	}
	return bad;
}

static void test_random_ops(void)
{
	struct u64map *m = u64map_new();
	int bad = 0;
	size_t dels = 0, puts = 0, replaces = 0, misses = 0;

	prng_state = 42;
	/* Distinct keys including the extremes. */
	for (size_t i = 0; i < NKEYS; i++) {
		keys[i] = i < 2 ? (i ? UINT64_MAX : 0)
				: (prng() % 2 ? prng() : i * 1024);
		ref[i] = NULL;
		for (size_t j = 0; j < i; j++)
			if (keys[j] == keys[i])
				keys[i] = keys[i] * 3 + 1;
	}
	for (int op = 0; op < 60000; op++) {
		size_t i = prng() % NKEYS;
		uint64_t what = prng() % 10;
		if (what < 6) {
			void *v = &tokens[prng() % sizeof(tokens)];
			if (ref[i])
				replaces++;
			u64map_put(m, keys[i], v);
			ref[i] = v;
			puts++;
		} else {
			void *got = u64map_del(m, keys[i]);
			if (got != ref[i]) {
				if (bad < 5)
					printf("# del %" PRIu64
					       " got %p want %p\n",
					       keys[i], got, ref[i]);
				bad++;
			}
			if (!ref[i])
				misses++;
			ref[i] = NULL;
			dels++;
		}
		if (op % 1000 == 999)
			bad += verify_all(m, "random ops");
	}
	CHECK_EQ_INT(bad, 0,
		     "60000 random ops match the reference (%zu puts, %zu "
		     "replaces, %zu dels, %zu misses)",
		     puts, replaces, dels, misses);
	CHECK(replaces > 0 && misses > 0 && u64map_count(m) > 1000,
	      "the random run covered replace, delete-miss and growth "
	      "(count %zu)", u64map_count(m));

	/* Drain with pop_any: each popped key/value is one the reference
	 * holds, exactly once. */
	{
		size_t n = u64map_count(m), popped = 0;
		uint64_t k;
		void *v;
		int wrong = 0;
		while ((v = u64map_pop_any(m, &k)) != NULL) {
			size_t i;
			for (i = 0; i < NKEYS && keys[i] != k; i++)
				;
			if (i == NKEYS || ref[i] != v)
				wrong++;
			else
				ref[i] = NULL;
			popped++;
			if (popped % 97 == 0)
				wrong += verify_all(m, "draining");
		}
		CHECK_EQ_INT(popped, n, "pop_any drained every entry");
		CHECK_EQ_INT(wrong, 0, "pop_any returned matching key/value");
		CHECK_EQ_INT(u64map_count(m), 0, "map empty after draining");
		CHECK(u64map_pop_any(m, &k) == NULL, "pop_any on empty map");
		CHECK(u64map_pop_any(m, NULL) == NULL,
		      "pop_any on empty map, NULL key");
	}
	u64map_free(m);
	u64map_free(NULL);
}

/* The map's hash, reproduced to build colliding keys: a test that wants
 * long probe runs cannot rely on chance. */
static size_t bucket_of(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static void test_clusters(void)
{
	/* With the initial 16 slots and growth at 3/4, 11 keys stay in 16
	 * slots. Home buckets 13,13,13,14,15,15,0,0,1,14,13 make one run
	 * that wraps from the end of the table to its start. */
	static const size_t homes[] = {13, 13, 13, 14, 15, 15, 0, 0, 1, 14, 13};
	enum { N = sizeof(homes) / sizeof(homes[0]) };
	uint64_t ck[N];
	int bad = 0, rounds = 0;
	uint64_t next = 1;

	for (size_t i = 0; i < N; i++) {
		while (bucket_of(next, 16) != homes[i])
			next++;
		ck[i] = next++;
	}

	prng_state = 7;
	/* Insert all, delete in many random orders, checking every
	 * remaining key after each deletion. */
	for (int round = 0; round < 300; round++) {
		struct u64map *m = u64map_new();
		size_t order[N];
		bool in[N];

		for (size_t i = 0; i < N; i++) {
			u64map_put(m, ck[i], &tokens[i]);
			in[i] = true;
			order[i] = i;
		}
		for (size_t i = N - 1; i > 0; i--) {
			size_t j = prng() % (i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (size_t d = 0; d < N; d++) {
			size_t victim = order[d];
			if (u64map_del(m, ck[victim]) != &tokens[victim])
				bad++;
			in[victim] = false;
			for (size_t i = 0; i < N; i++) {
				void *want = in[i] ? &tokens[i] : NULL;
				if (u64map_get(m, ck[i]) != want) {
					if (bad < 5)
						printf("# round %d: after "
						       "deleting #%zu, key #%zu "
						       "(home %zu) lost\n",
						       round, victim, i,
						       homes[i]);
					bad++;
				}
			}
			if (u64map_count(m) != N - d - 1)
				bad++;
			/* Re-inserting and deleting a deleted key in the
			 * middle of the run must not disturb the others. */
			if (d % 3 == 0) {
				u64map_put(m, ck[victim], &tokens[victim]);
				if (u64map_del(m, ck[victim]) != &tokens[victim])
					bad++;
			}
		}
		u64map_free(m);
		rounds++;
	}
	CHECK_EQ_INT(bad, 0,
		     "%d rounds of deleting a wrapping 11-key cluster in random "
		     "order keep every other key reachable",
		     rounds);
}

static void test_basics(void)
{
	struct u64map *m = u64map_new();
	int a, b;

	CHECK(u64map_get(m, 5) == NULL, "get on empty map");
	CHECK(u64map_del(m, 5) == NULL, "del on empty map");
	u64map_put(m, 5, &a);
	u64map_put(m, 5, &b);
	CHECK(u64map_get(m, 5) == &b, "put replaces");
	CHECK_EQ_INT(u64map_count(m), 1, "replace does not add");
	CHECK(u64map_del(m, 5) == &b, "del returns the value");
	CHECK(u64map_del(m, 5) == NULL, "second del returns NULL");
	CHECK_EQ_INT(u64map_count(m), 0, "empty again");
	u64map_put(m, 0, &a);
	u64map_put(m, UINT64_MAX, &b);
	CHECK(u64map_get(m, 0) == &a && u64map_get(m, UINT64_MAX) == &b,
	      "keys 0 and UINT64_MAX");
	u64map_free(m);
}

int main(void)
{
	test_basics();
	test_random_ops();
	test_clusters();
	return check_done();
}
