/* One simulation: the network built from a scenario, and a fake lightningd
 * (with its plugins) for every fleet node. Shared by `serve` and `run`. */
#ifndef HIVE_SIM_SIM_H
#define HIVE_SIM_SIM_H
#include "common/rng.h"
#include "sim/evq.h"
#include "sim/pricing.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct net;
struct lnd;
struct payments;
struct scenario;

struct sim_opts {
	const char *dir;	/* node directories go in DIR/<alias> */
	const char *plugin_dir; /* where plugin names are looked up */
	bool sim_clock;		/* plugins on simulated time */
	bool baseline;		/* start no plugins at all */
	/* Replaces the scenario's competitors.share when >= 0. */
	double competitor_share;
	const char *const *disabled; /* plugin names not to start */
	size_t ndisabled;
	json_t *plugin_opts;	/* name -> value for every fleet plugin */
	bool echo_logs;
	int plugin_timeout_ms;
	uint64_t seed;		/* overrides the scenario's when non-zero */
	/* Every node appends the notifications and hook calls it makes to
	 * <node dir>/notifications.jsonl (also on when the environment has
	 * HIVE_SIM_NOTIFY_LOG=1, so `serve` needs no flag). */
	bool notify_log;
};

/* A mempool feerate change the scenario's "chain" scripts. */
struct sim_fee_step {
	uint64_t from_ms, to_ms; /* to_ms UINT64_MAX: until the next step */
	uint32_t perkw;
	bool spike;		 /* overrides steps while it lasts */
};

/* Events the simulation schedules on its queue (the payment engine's are
 * >= PAY_EVENT_BASE). a = node index. */
enum sim_event_type {
	SIM_EV_PEER_OFFLINE = 1,
	SIM_EV_PEER_ONLINE = 2,
	SIM_EV_SAMPLE = 3,	/* `run`'s hourly time-series row */
};

struct sim {
	struct loop *loop;
	struct clock *clk;
	struct net *net;
	const struct scenario *sc;
	struct sim_opts opts;
	struct lnd **lnds;	/* one per node; NULL for external nodes */
	size_t nlnds;
	/* The payment engine, scheduling on @q. */
	struct payments *pay;
	/* Fee policies of reacting competitors and baselines. */
	struct pricing *pricing;
	struct baseline_cfg baseline_cfg; /* the scenario's "baselines" */
	struct evq q;
	/* Simulated time, and the chain's rhythm ("chain" object). */
	uint64_t now_ms;
	uint64_t next_block_ms;	/* sim_advance mines a block then */
	uint32_t block_interval_sec;
	uint32_t base_feerate_perkw;
	double daily_swing;	/* feerate * (1 + swing * sin(day phase)) */
	struct sim_fee_step *fee_steps;
	size_t nfee_steps;
	uint64_t traffic_until_ms; /* demand generated up to (sim_advance) */
	bool started;		   /* sim_start ran: plugins exist */
	/* serve: simulated time = start + wall time elapsed + offset_ms,
	 * where dev-sim-advance adds to the offset. */
	uint64_t offset_ms;
	struct sim_advance_req {
		struct lnd_req *req;
		uint64_t ms;
	} *advances;
	size_t nadvances, capadvances;
	struct rng gossip_rng;	   /* channel_update propagation delays */
};

/* Build the network (no processes yet). NULL with *err on failure. */
struct sim *sim_new(const struct scenario *sc, const struct sim_opts *opts,
		    char **err);
/* Start a fake lightningd and its plugins for each fleet node. */
bool sim_start(struct sim *sim, char **err) __attribute__((warn_unused_result));
/* Stop every plugin and free everything. Returns a failure report (a
 * plugin that crashed or exited non-zero) for the caller to free, or
 * NULL. */
char *sim_free(struct sim *sim);

/* ----- the run loop's interface (sim/run.c, and dev-sim-advance) -----
 *
 * A run on simulated time does, in order, until the end:
 *   t = min(evq_next_ms(&sim->q), sim->next_block_ms, plugins' deadline)
 *   sim_set_time(sim, t);
 *   if t is the block time: sim_new_block(sim);
 *                           sim->next_block_ms += block_interval_sec*1000
 *   else pop the event and sim_handle_event(sim, &ev);
 *   lnd_sync(each lnd, t)   (delivers queued notifications, ticks plugins)
 * with payments_start(sim->pay, start, end) once before: sim_play(). */

/* Move simulated time to @now_ms (never backwards): the clock in the
 * network, the mempool feerate the "chain" object scripts for that time,
 * and gossip that has become visible. */
void sim_set_time(struct sim *sim, uint64_t now_ms);
/* Mine a block: height + 1, block_added to every fleet node, opens that
 * reach their depth, closes that confirm or are forgotten (with their
 * channel_state_changed notifications to both fleet ends). */
void sim_new_block(struct sim *sim);
/* Handle an event popped from sim->q: the simulation's own (peer
 * outages) or the payment engine's. False if nobody knows its type. */
bool sim_handle_event(struct sim *sim, const struct event *ev);
/* Take node @node offline or back online as its peers see it:
 * disconnect / connect notifications and the peer_connected hook at
 * every fleet peer (and at @node itself if it is a fleet node). */
void sim_set_online(struct sim *sim, uint32_t node, bool online);
/* Play events, blocks and (on simulated time, once started) plugin syncs
 * up to @until_ms, as described above; events of a type the simulation
 * does not know go to @other (which returns false if it does not know
 * them either). The plugins are in sync at @until_ms on return. */
bool sim_play(struct sim *sim, uint64_t until_ms,
	      bool (*other)(void *arg, const struct event *ev), void *arg,
	      char **err) __attribute__((warn_unused_result));
/* Generate demand up to @until_ms, then sim_play (serve: advancing with
 * the wall clock, and dev-sim-advance). */
bool sim_advance(struct sim *sim, uint64_t until_ms, char **err)
	__attribute__((warn_unused_result));
/* Carry out queued dev-sim-advance requests and answer them; called by
 * serve's top-level loop, never from a callback. */
void sim_serve_pending(struct sim *sim);

/* Resolve a plugin name to a path (plugin_dir/<name> unless it has a
 * '/'). Caller frees. */
char *sim_plugin_path(const struct sim *sim, const char *name);

#endif
