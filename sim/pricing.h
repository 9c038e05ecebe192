/* Fee policies the simulator runs itself, for nodes that have no plugin:
 *
 *  - competitors: a share of the external routing nodes adjust their fees
 *    as simple tools do, so a price a fleet node sets meets a market that
 *    moves (the scenario's "competitors" object);
 *  - baselines: what a fleet node's operator could run instead of our
 *    plugins (`hive-sim run --baseline KIND`), for a fair comparison.
 *
 * Each policy prices the fee rate (ppm) of one direction of a channel and
 * keeps its base fee and HTLC limits, as the plugin does by default. A
 * change takes effect at the node at once and reaches senders after a
 * gossip delay, exactly like a plugin's `setchannel`, and counts in the
 * node's fee_updates.
 *
 *   "competitors": {                    (every field optional)
 *     "share": 0,              external routing nodes (two or more
 *                              channels) that adjust their fees, 0..1
 *     "mix": {"proportional": 0.5, "hill_climb": 0.5},
 *     "proportional_min": 0.5, "proportional_max": 1.5,
 *                              charge-lnd's proportional strategy: fee =
 *                              initial x (min + (max - min) x (1 - local
 *                              share of the channel)), so a drained
 *                              channel costs more
 *     "proportional_hours": 4, how often it runs
 *     "hill_step": 0.15,       revenue hill-climbing: each period the fee
 *     "hill_hours": 24,        moves by this share, in the same direction
 *                              while the period's revenue does not fall,
 *                              reversed when it does
 *     "hill_range": 4          fees stay within initial / range and
 *                              initial x range
 *   }
 * Channels at 0 ppm or at a blocking fee (>= 5000 ppm) are left alone.
 * Which nodes take part, and each node's phase within its period, are
 * drawn from the seed. */
#ifndef HIVE_SIM_PRICING_H
#define HIVE_SIM_PRICING_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evq;
struct event;
struct net;
struct pricing;

/* Event types the pricing policies use. */
#define PRICING_EVENT_BASE 2000
#define PRICING_EVENT_LAST 2000

/* The baselines `hive-sim run --baseline KIND` offers. */
enum baseline_kind {
	BASELINE_NONE,		/* the plugins run */
	BASELINE_STOCK,		/* no plugin: the initial fees stay */
	BASELINE_MARKET_MEDIAN, /* once, each channel at its market median */
	BASELINE_PROPORTIONAL,	/* charge-lnd's proportional strategy */
	BASELINE_ORACLE,	/* the hindsight-best static fee (sim/oracle.h) */
	BASELINE_FIXED,		/* given fees, set once (the oracle's runs) */
};

/* "stock", "market-median", "balance-proportional", "oracle" ("plugins"
 * for BASELINE_NONE, "fixed" for BASELINE_FIXED). */
const char *baseline_name(enum baseline_kind k);
/* The kind named @name (the first four above); false if unknown. */
bool baseline_parse(const char *name, enum baseline_kind *out);

/* The scenario's "baselines" object tunes the baselines (every field
 * optional):
 *   "baselines": {"proportional_min": 0.5, "proportional_max": 1.5,
 *                 "proportional_hours": 4}
 * balance-proportional: fee = market median x (min + (max - min) x
 * (1 - local share)), run every proportional_hours. */
struct baseline_cfg {
	double prop_min, prop_max, prop_hours;
};

/* Check @baselines (NULL: defaults) into @out; false with *err (caller
 * frees) naming the field. */
bool baseline_cfg_parse(const json_t *baselines, struct baseline_cfg *out,
			char **err);

/* Check @competitors (NULL: no competitor reacts) and pick the nodes that
 * take part, from @seed. @share_override in [0, 1] replaces its "share"
 * (< 0: keep it). NULL with *err (caller frees) naming the field, e.g.
 * "competitors.share: must be a number in [0, 1]". Borrows @net and @q. */
struct pricing *pricing_new(struct net *net, struct evq *q,
			    const json_t *competitors, double share_override,
			    uint64_t seed, char **err);
void pricing_free(struct pricing *pr);

/* Start the competitors' periodic runs at @now_ms. They go on for ever:
 * a caller that pops events until its queue is empty must stop at its own
 * end time (sim_play does). */
void pricing_start(struct pricing *pr, uint64_t now_ms);

/* Put fleet node @node under baseline @kind from now on (the measured
 * period starts). BASELINE_FIXED takes @fixed_ppm[k] for the node's k-th
 * channel (net_node.chans order); other kinds ignore it. STOCK and NONE
 * do nothing. */
void pricing_set_baseline(struct pricing *pr, uint32_t node,
			  enum baseline_kind kind, const struct baseline_cfg *cfg,
			  const uint32_t *fixed_ppm);

/* The market median of the direction of @chan that @node forwards out:
 * the median ppm that the other nodes' channels toward the same peer
 * charge (enabled channels of non-fleet nodes), or the network's median
 * ppm when the peer has no other channel. */
uint32_t pricing_market_median_ppm(const struct net *net, uint32_t chan,
				   uint32_t node);

/* How many external nodes react, and how many channel directions they
 * price (for reports and tests). */
void pricing_counts(const struct pricing *pr, size_t *nodes, size_t *dirs);

/* Handle an event the caller popped; false if it is not pricing's. */
bool pricing_handle(struct pricing *pr, const struct event *ev);

#endif
