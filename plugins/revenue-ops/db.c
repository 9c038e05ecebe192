/* cl-revenue-ops' schema: append-only migrations (never edit a shipped
 * one; add the next). Amounts are INTEGER msat, times INTEGER seconds. */
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/revenue.h"

static const char *const migrations[] = {
	/* 1: runtime configuration overrides (revenue-config set). */
	"CREATE TABLE config_overrides ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");",
};

struct store *revenue_db_open(const char *path, char **err)
{
	return store_open(path, migrations, ARRAY_SIZE(migrations), 5000, err);
}
