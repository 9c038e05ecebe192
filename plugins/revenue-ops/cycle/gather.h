/* Gathering: the calls that fetch the node view (base/node.h) from
 * lightningd for a cycle or an RPC. */
#ifndef HIVE_REVENUE_OPS_GATHER_H
#define HIVE_REVENUE_OPS_GATHER_H
#include "plugins/revenue-ops/base/node.h"

struct revenue;

/* Issue listpeerchannels, getinfo, feerates and listfunds in parallel
 * (chained to @parent_id) and call @done once with the view, or with an
 * error text (the view then NULL). The view is the callee's to free. */
void gather_node(struct revenue *r, const char *parent_id,
		 void (*done)(struct revenue *r, struct node_view *v,
			      const char *err, void *arg),
		 void *arg);

#endif
