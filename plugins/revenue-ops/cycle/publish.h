/* What cl-revenue-ops publishes in lightningd's datastore, for other
 * plugins and dashboards (`lightning-cli listdatastore revenue`), after
 * each fee cycle (spec §4.6.0 step 6, §4.10):
 *
 *   [revenue, status]                 operator controls and the cycle's
 *                                     decision summary (every cycle)
 *   [revenue, fee-bounds]             {min, max, mid} ppm (every cycle)
 *   [revenue, dashboard]              revenue-dashboard, 30 days
 *   [revenue, profitability-summary]  every channel's class, ROI, fee
 *                                     multiplier and counters
 *
 * The last two need lightningd's channel and wallet listings and a P&L
 * pass over every channel (about 0.3 s on a 2,000-channel node), and their
 * 30-day and lifetime figures move slowly, so they are refreshed at most
 * every PUBLISH_REPORTS_SEC (6 hours). Each value is a JSON
 * object with a `timestamp`, written create-or-replace. Publishing never
 * fails a cycle: a refused write is logged once (until one succeeds). */
#ifndef HIVE_REVENUE_OPS_PUBLISH_H
#define HIVE_REVENUE_OPS_PUBLISH_H
#include <jansson.h>
#include <stdint.h>

struct revenue;

#define PUBLISH_MAX_BYTES 60000
#define PUBLISH_REPORTS_SEC 21600

/* @payload as the text to store, with `timestamp` @now added when it has
 * none; NULL with *why set (static text) for a payload that is not an
 * object, carries an `error` member (a failure is not data), or is over
 * PUBLISH_MAX_BYTES. Borrows @payload (it may gain `timestamp`). */
char *publish_text(json_t *payload, uint64_t now, const char **why);

/* One publication: done is called once every write it started has been
 * answered (the fee cycle ends then, so a caller of revenue-cycle reads
 * what it published). */
struct publish_run;

/* Write [revenue, @name] = @payload (stolen) as part of @pr. */
void publish_push(struct revenue *r, struct publish_run *pr, const char *name,
		  json_t *payload);

/* After a successful fee cycle at @now; @done(@r, @arg) once it is all
 * written (or refused). */
void publish_after_fee_cycle(struct revenue *r, uint64_t now,
			     void (*done)(struct revenue *r, void *arg),
			     void *arg);

/* Hold @pr open for work not started yet / release it. */
void publish_hold(struct publish_run *pr);
void publish_release(struct publish_run *pr);

#endif
