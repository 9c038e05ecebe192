/* Checked reading of the scenario's "traffic" and "generate" objects: every
 * field optional with a default, every problem reported once as
 * "<base>.<field>: <what is wrong>" (e.g. "traffic.amount_median_sat: must
 * be a positive number"), unknown fields rejected so a typo is not
 * silently ignored. Used by sim/payments_demand.c and sim/gen.c. */
#ifndef HIVE_SIM_PAY_CFG_H
#define HIVE_SIM_PAY_CFG_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg {
	const json_t *obj; /* borrowed; NULL reads every default */
	const char *base;  /* "traffic", "generate", "traffic.senders" */
	char *err;	   /* first error (owned; the caller takes it) */
};

/* Start reading @obj (NULL: all defaults) named @base. Fails (and sets
 * c->err) if @obj is not an object or has a field not in @known. */
bool cfg_open(struct cfg *c, const json_t *obj, const char *base,
	      const char *const *known);

/* A number in [min, max] (min excluded when @min_open). */
bool cfg_num(struct cfg *c, const char *key, double def, double min,
	     bool min_open, double max, double *out);
/* A non-negative integer in [min, max]. */
bool cfg_u64(struct cfg *c, const char *key, uint64_t def, uint64_t min,
	     uint64_t max, uint64_t *out);
bool cfg_bool(struct cfg *c, const char *key, bool def, bool *out);
/* An object of non-negative weights named by @names (n of them), e.g.
 * {"lnd": 0.6, "ldk": 0.4}: absent names weigh 0, the weights are
 * normalised to sum 1. Absent object: @def (already normalised). */
bool cfg_mix(struct cfg *c, const char *key, const char *const *names,
	     size_t n, const double *def, double *out);

/* Record an error at "<base>.<key>" (first one wins); returns false. */
bool cfg_fail(struct cfg *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
