/* Applying one lifecycle event (accounting.h) to the accounting store:
 * everything the event's writes depend on is gathered first; the writes
 * are one transaction. */
#ifndef HIVE_REVENUE_OPS_ACCT_APPLY_H
#define HIVE_REVENUE_OPS_ACCT_APPLY_H
#include "plugins/revenue-ops/cycle/acct_parse.h"
#include <stdbool.h>
#include <stdint.h>

struct revenue;

enum acct_event_kind {
	ACCT_EV_OPEN,	/* reached CHANNELD_NORMAL now: record the open */
	ACCT_EV_ADOPT,	/* make sure it has an open record (not "now") */
	ACCT_EV_SPLICE, /* a splice completed */
	ACCT_EV_CLOSE,	/* closing or closed: closure cost and archive */
};

/* Everything an event's writes depend on, gathered beforehand. Strings
 * may be NULL or "" when unknown, except channel_id (64-hex). */
struct acct_event {
	enum acct_event_kind kind;
	const char *channel_id, *scid, *peer_id;
	const char *old_state, *new_state, *cause;
	uint64_t at_sec;	      /* when it happened; 0: now */
	bool from_listing;	      /* @ch came from a listing alone */
	const struct acct_chan *ch;   /* lightningd's entry, or NULL */
	const struct acct_bkpr *bkpr; /* bookkeeper's events, or NULL */
	const struct acct_fee_estimates *est; /* may be NULL */
};

/* Apply @ev at @now in one transaction (all its writes or none). */
bool acct_apply_event(struct revenue *r, const struct acct_event *ev,
		      uint64_t now, char **err)
    __attribute__((warn_unused_result));

#endif
