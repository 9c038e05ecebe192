/* Migration 4: tables of the accounting (channel costs, rebalance costs,
 * closed channels, splices, financial snapshots). */
#include "plugins/revenue-ops/schema.h"

const char revenue_migration_4_accounting[] =
	"-- accounting tables\n";
