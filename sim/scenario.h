/* Scenario files: the network a simulation plays. JSON, checked field by
 * field; every problem is reported as "<file>: <path>: <what is wrong>"
 * (e.g. "fleet.json: channels[3].b: unknown node 'carol'").
 *
 *   {
 *     "name": "single-node", "seed": 1,
 *     "start_time": 1767225600, "start_height": 900000,
 *     "nodes": [ {"alias": "hub", "fleet": true,
 *                 "plugins": ["cl-revenue-ops"], "options": {...},
 *                 "onchain_sat": 10000000}, ... ],
 *     "channels": [ {"a": "hub", "b": "ext1", "capacity_sat": 2000000,
 *                    "a_balance_sat": 1500000, "opener": "a",
 *                    "a_fee": {"base_msat": 1000, "ppm": 100},
 *                    "b_fee": {...}, "age_days": 90}, ... ],
 *     "generate": {...}, "traffic": {...}   (see sim/README in doc/)
 *     "chain": {...}, "events": [...]       (checked by sim/sim.c)
 *   }
 */
#ifndef HIVE_SIM_SCENARIO_H
#define HIVE_SIM_SCENARIO_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sc_fee {
	uint64_t base_msat;
	uint32_t ppm;
	bool given;
};

struct sc_node {
	char *alias;
	bool fleet;
	char **plugins; /* plugin names or paths */
	size_t nplugins;
	json_t *options; /* object name -> value (owned) */
	uint64_t onchain_sat;
	double send_weight, recv_weight;
	uint16_t max_htlcs;
	int64_t generate_channels; /* -1: generate.fleet_channels */
};

struct sc_channel {
	size_t a, b;	       /* indices into nodes */
	uint64_t capacity_sat;
	uint64_t a_balance_sat;
	int opener;	       /* 0 = a, 1 = b */
	struct sc_fee fee[2];  /* a's and b's policy */
	double age_days;
};

struct scenario {
	char *path;
	char *name;
	uint64_t seed;
	uint64_t start_time;
	uint32_t start_height;
	struct sc_node *nodes;
	size_t nnodes;
	struct sc_channel *chans;
	size_t nchans;
	json_t *generate; /* owned, may be NULL: expanded by sim/gen.c */
	json_t *traffic;  /* owned, may be NULL */
	json_t *raw;	  /* the whole document (owned) */
};

/* Load and check @path. NULL with *err (caller frees) on any problem. */
struct scenario *scenario_load(const char *path, char **err);
/* Check an already-parsed document (for tests). @path names it in errors. */
struct scenario *scenario_from_json(const char *path, const json_t *doc,
				    char **err);
void scenario_free(struct scenario *sc);
/* Set traffic.@key to @value (stolen), as if the file said so (a
 * command-line override such as --sensitivity). */
void scenario_set_traffic(struct scenario *sc, const char *key,
			  json_t *value);
ssize_t scenario_node_index(const struct scenario *sc, const char *alias);

#endif
