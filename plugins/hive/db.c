/* cl-hive's schema: append-only migrations (never edit a shipped one; add
 * the next). */
#include "common/store.h"
#include "common/util.h"
#include "plugins/hive/hive.h"

static const char *const migrations[] = {
	/* 1: membership and gossip state. */
	"CREATE TABLE hive_members ("
	"  peer_id TEXT PRIMARY KEY,"
	"  tier TEXT NOT NULL DEFAULT 'neophyte'"
	"    CHECK (tier IN ('neophyte', 'member')),"
	"  joined_at INTEGER NOT NULL,"
	"  promoted_at INTEGER,"
	"  contribution_ratio REAL NOT NULL DEFAULT 0,"
	"  uptime_pct REAL NOT NULL DEFAULT 0,"
	"  vouch_count INTEGER NOT NULL DEFAULT 0,"
	"  last_seen INTEGER,"
	"  metadata TEXT,"
	"  addresses TEXT"
	");"
	"CREATE TABLE hive_state ("
	"  peer_id TEXT PRIMARY KEY,"
	"  capacity_sats INTEGER NOT NULL DEFAULT 0,"
	"  available_sats INTEGER NOT NULL DEFAULT 0,"
	"  fee_policy TEXT,"
	"  topology TEXT,"
	"  last_gossip INTEGER,"
	"  state_hash TEXT,"
	"  version INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE metadata ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");",
};

struct store *hive_db_open(const char *path, char **err)
{
	return store_open(path, migrations, ARRAY_SIZE(migrations), 5000, err);
}
