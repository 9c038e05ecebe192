/* The oracle baseline: the hindsight-best *static* fee rate of every fleet
 * channel for one scenario, seed and market, found by search and cached.
 * It is the upper bound of any static pricing, so a plugin is measured
 * against the best an operator who knew the future could have set once.
 *
 * The search plays the scenario without plugins (the same payments every
 * run: demand depends only on the seed), each fleet channel at a fixed
 * ppm from the start of the measured period, and maximises the fleet's
 * fees earned over that period:
 *   1. start from the best of the initial fees and the market median
 *      times 0.5, 0.75, 1, 1.5, 2 and 3 (so the oracle is at least as
 *      good as every static baseline);
 *   2. coordinate descent: each channel in turn over a coarse fee grid,
 *      the others fixed, keeping the best;
 *   3. then passes over a fine grid (the neighbours of each channel's
 *      fee) until a whole pass improves nothing, at most 6 passes.
 * Runs of one step are independent and spread over worker processes; the
 * result does not depend on how many.
 *
 * The cache is a JSON file holding everything the result depends on (the
 * scenario's content hash, seed, days, warm-up, fee sensitivity,
 * competitor share and the model version) with the fees found; a cache
 * that does not match is an error, never silently reused. */
#ifndef HIVE_SIM_ORACLE_H
#define HIVE_SIM_ORACLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scenario;

/* What a run depends on (besides the fees). */
struct oracle_setup {
	const struct scenario *sc; /* fee_sensitivity already applied */
	uint64_t seed;		   /* 0: the scenario's */
	double days, warmup_days;
	double competitor_share;   /* < 0: the scenario's */
	int jobs;		   /* worker processes; 0: the cores */
};

/* What one run measured over the period after warm-up. */
struct oracle_eval {
	uint64_t fees_earned_msat;  /* the fleet's */
	uint64_t forwarded_msat;
	uint64_t forwards_settled;
	uint64_t fee_updates;
};

/* Play @s with fleet channel k (fleet nodes in order, each node's
 * channels in order) at @ppm[k] from the measured period's start (NULL:
 * the initial fees). False with *err (caller frees). */
bool oracle_run(const struct oracle_setup *s, const uint32_t *ppm,
		struct oracle_eval *out, char **err)
	__attribute__((warn_unused_result));

/* Fleet channels the search prices (the length of a ppm array). */
size_t oracle_channels(const struct oracle_setup *s, char **err);

struct oracle_result {
	uint32_t *ppm;		  /* owned; one per fleet channel */
	size_t n;
	struct oracle_eval best;
	unsigned runs;		  /* runs the search took (cached: then) */
	bool from_cache;
	char *cache_path;	  /* owned */
};

/* The oracle for @s: read from @cache_path (NULL: a file named after the
 * scenario and seed under $HIVE_SIM_CACHE, else $XDG_CACHE_HOME/hive-sim,
 * else ~/.cache/hive-sim) when it holds this setup's result, else search
 * and write it there. A cache file for another setup is an error naming
 * what differs. @progress (may be NULL) gets a line per search step. */
bool oracle_find(const struct oracle_setup *s, const char *cache_path,
		 void (*progress)(const char *line), struct oracle_result *out,
		 char **err) __attribute__((warn_unused_result));
void oracle_result_free(struct oracle_result *r);

#endif
