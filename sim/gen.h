/* Topology generation: expands the scenario's optional "generate" object
 * into external nodes and channels added to the network, deterministically
 * from the seed. The shape follows /work/notes/simulators.md section (e)
 * "Topology": preferential attachment from a small clique (CLoTH style),
 * ~40 % degree-1 nodes, log-normal capacities, fee policies drawn from
 * the real spread (median ~85 ppm with a long tail, base fee mix), channels
 * starting mostly on the opener's side, implementation-specific HTLC
 * limits, and traffic roles (some nodes mostly send, some mostly receive).
 * Fleet nodes (already in the network) get channels to hubs, and every
 * channel of a fleet node is given competing routes: fees cannot matter
 * where a sender has no alternative.
 *
 *   "generate": {                       (every field optional)
 *     "nodes": 60,                external nodes to add (alias genNNNN)
 *     "channels_per_node": 3.5,   mean channels a joining node opens
 *                                 (mean degree ~7, as 2 x 52k / 14k)
 *     "degree1_share": 0.6,       joining nodes opening a single channel
 *                                 (later joiners attach to some of them:
 *                                 ~40 % of nodes end with degree 1)
 *     "seed_clique": 4,           fully connected first nodes
 *     "uniform_attach": 0.02,     targets drawn uniformly, not by degree
 *     "capacity_median_sat": 1000000, "capacity_sigma": 1.9,
 *     "capacity_min_sat": 20000, "capacity_max_sat": 1000000000,
 *     "base_zero_share": 0.4,     base fee 0 msat; "base_1000_share": 0.5
 *                                 1000 msat; the rest log-uniform 1-10000
 *     "ppm_median": 85, "ppm_sigma": 1.6, "ppm_zero_share": 0.1,
 *     "ppm_block_share": 0.01,    blocking fees, log-uniform 5000-50000
 *     "opener_balance_min": 0.5, "opener_balance_max": 1.0,
 *                                 opener's share of a new channel
 *     "impl": {"lnd": 0.75, "cln": 0.15, "ldk": 0.05, "eclair": 0.05},
 *                                 max_accepted_htlcs 483/30/50/30,
 *                                 cltv delta 80/34/72/144, htlc_min
 *                                 1000 msat on lnd else 1
 *     "source_share": 0.1, "sink_share": 0.1, "role_factor": 5,
 *                                 send_weight (sources) or recv_weight
 *                                 (sinks) of generated nodes
 *     "fleet_channels": 0,        channels each fleet node opens to
 *                                 generated nodes (by degree)
 *     "fleet_capacity_sat": 2000000, "fleet_local_share": 0.5,
 *     "fleet_base_msat": 1000, "fleet_ppm": 100,
 *     "competing_paths": 3,       for every channel F-X of a fleet node F,
 *                                 at least this many of F's other external
 *                                 peers Y reach X in <= 2 hops avoiding F
 *                                 (channels are added until they do)
 *     "competitor_capacity": 1,   ... over channels of at least this times
 *                                 the capacity of F-X (a path that cannot
 *                                 carry what F-X carries competes for
 *                                 nothing that matters)
 *     "age_days_max": 730
 *   }
 */
#ifndef HIVE_SIM_GEN_H
#define HIVE_SIM_GEN_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net;

/* What an expansion added (for reports and tests). */
struct gen_summary {
	size_t nodes, channels, fleet_channels, competition_channels;
};

/* Check @generate (NULL: nothing to do) and add its nodes and channels to
 * @net; the network is left untouched on a configuration error. Needs
 * keys_init() (node keys). False with *err (caller frees) naming the
 * field, e.g. "generate.nodes: must be an integer in [0, 100000]". */
bool gen_expand(struct net *net, const json_t *generate, uint64_t seed,
		struct gen_summary *summary, char **err);

#endif
