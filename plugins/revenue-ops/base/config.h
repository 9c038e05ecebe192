/* cl-revenue-ops configuration: one table is the single source of truth for
 * every setting — its plugin option (name, type, default, range), its
 * runtime key for `revenue-config`, and whether it may change at runtime.
 *
 * Precedence, highest first: a `revenue-config set` override stored in the
 * database; the option value from lightningd's config (or setconfig); the
 * built-in default. `revenue-config reset` deletes the override and the
 * option/default value applies again at once. */
#ifndef HIVE_REVENUE_OPS_CONFIG_H
#define HIVE_REVENUE_OPS_CONFIG_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct plugin;
struct plugin_option;

enum cfg_key {
	/* core */
	CFG_DB_PATH,
	CFG_FLOW_INTERVAL,
	CFG_FEE_INTERVAL,
	CFG_REBALANCE_INTERVAL,
	CFG_DRY_RUN,
	CFG_RPC_TIMEOUT_SECONDS,
	CFG_RESERVATION_TIMEOUT_HOURS,
	CFG_MIN_WALLET_RESERVE,
	CFG_FEE_AUTHORITY_ENABLED,
	CFG_PAUSED,
	CFG_BACKUP_SAFE,
	/* fees */
	CFG_MIN_FEE_PPM,
	CFG_MAX_FEE_PPM,
	CFG_MIN_FEE_PPM_SATURATED,
	CFG_BASE_FEE_MSAT,
	CFG_FEE_PROFILE,
	CFG_ENABLE_VEGAS_REFLEX,
	CFG_VEGAS_DECAY_RATE,
	CFG_ENABLE_SCARCITY_PRICING,
	CFG_SCARCITY_THRESHOLD,
	CFG_HIVE_FEE_PPM,
	CFG_ENABLE_DYNAMIC_HTLCMAX,
	CFG_HTLCMAX_SOURCE_PCT,
	CFG_HTLCMAX_SINK_PCT,
	CFG_HTLCMAX_BALANCED_PCT,
	CFG_FIRE_SALE_ENABLED,
	CFG_ZERO_FEE_PROBE_ENABLED,
	CFG_GOSSIP_HYSTERESIS_PCT,
	CFG_NEIGHBOR_MEDIAN_MIN_COMPETITORS,
	/* flow and reputation */
	CFG_FLOW_WINDOW_DAYS,
	CFG_HTLC_CONGESTION_THRESHOLD,
	CFG_ENABLE_REPUTATION,
	CFG_REPUTATION_DECAY,
	CFG_SOURCE_THRESHOLD,
	CFG_SINK_THRESHOLD,
	CFG_LOW_LIQUIDITY_THRESHOLD,
	CFG_HIGH_LIQUIDITY_THRESHOLD,
	CFG_FORWARD_RETENTION_DAYS,
	/* Thompson sampling and AIMD */
	CFG_THOMPSON_PRIOR_STD_FEE,
	CFG_THOMPSON_OBSERVATION_DECAY_HOURS,
	CFG_THOMPSON_MAX_OBSERVATIONS,
	CFG_THOMPSON_MIN_OBSERVATIONS,
	CFG_FEE_MIN_OBSERVATION_HOURS,
	CFG_FEE_MAX_OBSERVATION_HOURS,
	CFG_AIMD_FAILURE_THRESHOLD,
	CFG_AIMD_SUCCESS_THRESHOLD,
	CFG_AIMD_MULTIPLICATIVE_DECREASE,
	CFG_AIMD_ADDITIVE_INCREASE_PPM,
	CFG_AIMD_MIN_DECREASE_INTERVAL,
	/* budgets */
	CFG_DAILY_BUDGET_SATS,
	CFG_WEEKLY_BUDGET_SATS,
	CFG_ENABLE_PROPORTIONAL_BUDGET,
	CFG_PROPORTIONAL_BUDGET_PCT,
	CFG_ENABLE_KELLY,
	CFG_KELLY_FRACTION,
	/* rebalancer */
	CFG_REBALANCE_MIN_PROFIT,
	CFG_REBALANCE_MAX_AMOUNT,
	CFG_REBALANCE_MIN_AMOUNT,
	CFG_REBALANCE_COOLDOWN_HOURS,
	CFG_INBOUND_FEE_ESTIMATE_PPM,
	CFG_MAX_CONCURRENT_JOBS,
	CFG_HIVE_REBALANCE_TOLERANCE,
	CFG_REBALANCE_EMERGENCY_LOCAL_RATIO,
	CFG_ESTIMATED_OPEN_COST_SATS,
	/* integrations */
	CFG_CLBOSS_ENABLED,
	CFG_HIVE_ENABLED,
	CFG_NUM
};

enum cfg_type { CT_INT, CT_DOUBLE, CT_BOOL, CT_STR };

enum cfg_flags {
	CF_RUNTIME = 1,	  /* settable with `revenue-config set` */
	CF_DYNAMIC = 2,	  /* settable with lightningd's `setconfig` */
	CF_IMMUTABLE = 4, /* fixed at startup (db path, dry-run) */
};

struct cfg_def {
	const char *key;    /* runtime key, e.g. "min_fee_ppm" */
	const char *option; /* "revenue-ops-min-fee-ppm", or NULL */
	enum cfg_type type;
	const char *def;    /* default as text */
	double min, max;    /* inclusive range for numbers */
	const char *const *choices; /* allowed strings, NULL-terminated */
	unsigned flags;
	const char *description;
};

/* Options accepted only so existing configuration files keep loading:
 * features of the reference plugin we do not have (Boltz, LN+, the
 * capacity planner, ...). Their values are ignored, with a log line. */
struct cfg_compat_option {
	const char *option;
	const char *def;
	const char *why;
};

extern const struct cfg_def cfg_defs[CFG_NUM];
extern const struct cfg_compat_option cfg_compat_options[];
extern const size_t cfg_num_compat_options;

union cfg_value {
	int64_t i;
	double d;
	bool b;
	char *s; /* owned */
};

struct ro_config {
	union cfg_value v[CFG_NUM];
	bool overridden[CFG_NUM]; /* value comes from a database override */
	uint64_t version;	  /* bumps on every change */
};

/* Build the plugin option table (every cfg_def with an option, then the
 * compatibility options). Caller frees with free(). */
struct plugin_option *config_plugin_options(size_t *n);

void config_init_defaults(struct ro_config *c);
void config_free(struct ro_config *c);

/* Take option values from the running plugin (after init). Returns NULL or
 * an error naming the option. Also logs each compatibility option that was
 * set to something other than its default. */
char *config_from_options(struct ro_config *c, struct plugin *p);

/* Parse @text for @k (type, range, choices). NULL on success with *out
 * filled (a string is newly allocated), or an error (caller frees). */
char *config_parse(enum cfg_key k, const char *text, union cfg_value *out);

/* Would setting @k to @val break a cross-field rule (min <= max, ...)?
 * NULL if fine, else the error (caller frees). */
char *config_cross_check(const struct ro_config *c, enum cfg_key k,
			 const union cfg_value *val);

/* Replace the value of @k (takes ownership of a string) and bump the
 * version. */
void config_set(struct ro_config *c, enum cfg_key k, union cfg_value val,
		bool overridden);

/* Look up a runtime key; -1 if unknown. */
int config_key_lookup(const char *key);
/* Look up by option name ("revenue-ops-..."); -1 if not a cfg option. */
int config_option_lookup(const char *option);

json_t *config_value_json(const struct ro_config *c, enum cfg_key k);
/* Text form of a value of @k / of @k's current value (caller frees). */
char *config_text_of(enum cfg_key k, const union cfg_value *v);
char *config_value_text(const struct ro_config *c, enum cfg_key k);

static inline int64_t cfg_i(const struct ro_config *c, enum cfg_key k)
{
	return c->v[k].i;
}
static inline double cfg_d(const struct ro_config *c, enum cfg_key k)
{
	return c->v[k].d;
}
static inline bool cfg_b(const struct ro_config *c, enum cfg_key k)
{
	return c->v[k].b;
}
static inline const char *cfg_s(const struct ro_config *c, enum cfg_key k)
{
	return c->v[k].s;
}

#endif
