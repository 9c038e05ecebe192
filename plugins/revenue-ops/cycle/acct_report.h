/* The accounting figures as the reports show them, shared by the report
 * RPCs (rpc/reports.c and beside it) and the datastore publication
 * (cycle/publish.c): the dashboard, a channel's entry in the
 * profitability summary, and the output units of spec §0.2 (every number
 * is computed in msat and converted only here: fees, costs and revenue
 * round up, volumes, balances and capacity down, signed nets toward
 * zero). */
#ifndef HIVE_REVENUE_OPS_ACCT_REPORT_H
#define HIVE_REVENUE_OPS_ACCT_REPORT_H
#include "engine/pnl.h"
#include "plugins/revenue-ops/cycle/acct_pnl.h"
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;

static inline json_t *sat_ceil(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_ceil(msat));
}

static inline json_t *sat_floor(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_floor(msat));
}

static inline json_t *sat_trunc(int64_t msat)
{
	return json_integer(pnl_msat_to_sat_trunc(msat));
}

/* Two (four) decimals; JSON has no NaN or infinity. */
static inline json_t *num2(double v)
{
	if (!isfinite(v))
		v = 0;
	return json_real(round(v * 100.0) / 100.0);
}

static inline json_t *num4(double v)
{
	if (!isfinite(v))
		v = 0;
	return json_real(round(v * 10000.0) / 10000.0);
}

/* {financial_health, period, warnings, bleeder_count, ...} over the last
 * @days of @v, from the P&L of its active channels @arr (new reference;
 * NULL with *err on a database error). */
json_t *report_dashboard_json(struct revenue *r, const struct acct_live *v,
			      const struct acct_chan_pnl *arr, size_t n,
			      uint32_t days, char **err);

/* A channel's entry in channels_by_class (revenue-profitability) and in
 * the datastore's profitability summary (new reference). */
json_t *report_class_entry_json(const struct acct_chan_pnl *p);

#endif
