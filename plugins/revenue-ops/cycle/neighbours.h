/* What other nodes charge to reach a peer (engine/market.h), asked of
 * lightningd's gossip for the channels that need it: those with no fee
 * state yet whose live fee is Core Lightning's stock 1000 msat + 10 ppm
 * (a new channel, or one nobody ever priced). Their first decision then
 * samples around the market instead of 10 ppm. A channel whose fee was
 * chosen (by the operator or another tool) keeps that as its evidence,
 * and costs no call. */
#ifndef HIVE_REVENUE_OPS_NEIGHBOURS_H
#define HIVE_REVENUE_OPS_NEIGHBOURS_H
#include "engine/market.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;
struct node_view;
struct neighbour_priors;

/* The quotes of a `listchannels destination=<peer>` result: every
 * half-channel toward @peer_id except @our_id's own. Malformed entries are
 * skipped. Caller frees *out. */
bool neighbours_parse(const json_t *result, const char *our_id,
		      const char *peer_id, struct market_quote **out,
		      size_t *n, char **err) __attribute__((warn_unused_result));

/* Ask for the medians the channels of @v need (at most a few calls at a
 * time, chained to @parent_id), then call @done once with the priors (the
 * callee's to free; never NULL). A failed call only leaves its peer
 * without a prior; a database error is given as @err. */
void neighbours_fetch(struct revenue *r, const char *parent_id,
		      const struct node_view *v, uint64_t now,
		      void (*done)(struct revenue *r,
				   struct neighbour_priors *np,
				   const char *err, void *arg),
		      void *arg);

/* The median toward @peer_id in ppm, or -1 when there is none. */
int64_t neighbours_prior(const struct neighbour_priors *np,
			 const char *peer_id);

void neighbours_free(struct neighbour_priors *np);

#endif
