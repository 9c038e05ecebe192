/* The accounting cycle's state, owned by accounting.c (accounting_start
 * creates r->acct), and what the accounting files share of it: the chain
 * tip the live view notes (acct_live.c) to date channels we never saw
 * open (acct_pnl.c, acct_apply.c), and a log that unit tests can run
 * without a plugin. Only for cycle/acct*.c and cycle/accounting.c. */
#ifndef HIVE_REVENUE_OPS_ACCT_H
#define HIVE_REVENUE_OPS_ACCT_H
#include "common/plugin.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct acct_job;
struct cycle;

struct accounting {
	struct revenue *r;
	struct cycle *cycle;
	struct acct_job *head, *tail; /* waiting lifecycle jobs */
	struct acct_job *running;
	/* The chain tip last seen, to date channels we never saw open. */
	uint32_t tip_height;
	uint64_t tip_sec;
	bool bkpr_missing_logged;
};

#define ACCT_BLOCK_SEC 600ULL

/* Record the chain tip (getinfo) seen at @now. */
static inline void acct_note_tip(struct revenue *r, uint32_t height,
				 uint64_t now)
{
	if (!r->acct || !height)
		return;
	r->acct->tip_height = height;
	r->acct->tip_sec = now;
}

/* When a channel confirmed in @block opened, from the last tip seen
 * (10-minute blocks); 0 when unknown. */
static inline uint64_t acct_block_time(const struct revenue *r,
				       uint32_t block)
{
	const struct accounting *a = r->acct;
	uint64_t back;

	if (!a || !a->tip_height || !block)
		return 0;
	if (block >= a->tip_height)
		return a->tip_sec;
	back = (uint64_t)(a->tip_height - block) * ACCT_BLOCK_SEC;
	return back < a->tip_sec ? a->tip_sec - back : 0;
}

/* Log when running as a plugin (unit tests apply events without one). */
static inline void PRINTF_FMT(3, 4)
    alog(struct revenue *r, enum plugin_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!r->plugin)
		return;
	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	plugin_log(r->plugin, level, "%s", msg);
	free(msg);
}

#endif
