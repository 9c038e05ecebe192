/* The live view of the node that the accounting and the reports read:
 * listpeerchannels and getinfo (and listfunds, listclosedchannels when
 * asked), fetched in parallel; each channel both as the node view's
 * chan_info and as the accounting's acct_chan. Fetching notes the chain
 * tip (acct.h). */
#ifndef HIVE_REVENUE_OPS_ACCT_LIVE_H
#define HIVE_REVENUE_OPS_ACCT_LIVE_H
#include "plugins/revenue-ops/base/node.h"
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;

struct acct_live_chan {
	struct chan_info ci;
	struct acct_chan ac;
};

struct acct_live {
	struct acct_live_chan *chans; /* listpeerchannels entries with scid */
	size_t n;
	uint32_t tip;
	uint64_t onchain_sat; /* confirmed, unreserved wallet outputs */
	json_t *closed;	      /* listclosedchannels result, when asked */
	uint64_t now;
};

enum acct_live_need {
	ACCT_LIVE_FUNDS = 1,
	ACCT_LIVE_CLOSED = 2,
};

/* Fetch listpeerchannels and getinfo (and listfunds / listclosedchannels
 * per @need) in parallel, chained to @parent_id. @done gets the view
 * (callee frees with acct_live_free) or NULL and the error text
 * ("<method>: <message> (code N)") of the first call that failed. */
void acct_live_fetch(struct revenue *r, const char *parent_id, unsigned need,
		     void (*done)(struct revenue *r, struct acct_live *v,
				  const char *err, void *arg),
		     void *arg);
void acct_live_free(struct acct_live *v);

#endif
