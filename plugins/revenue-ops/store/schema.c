/* cl-revenue-ops' schema: append-only migrations (never edit a shipped
 * one; add the next). Amounts are INTEGER msat, times INTEGER seconds. */
#include "plugins/revenue-ops/store/schema.h"
#include "common/store.h"
#include "common/util.h"

static const char *const migrations[] = {
	/* 1: runtime configuration overrides (revenue-config set). */
	"CREATE TABLE config_overrides ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");",
	/* 2: forwards, their daily rollups, reconciliation cursors. A
	 * forward is (in_channel, in_htlc_id); times are seconds, hold_ms
	 * the HTLC's resolution time. */
	"CREATE TABLE forwards ("
	"  in_channel TEXT NOT NULL,"
	"  in_htlc_id INTEGER NOT NULL,"
	"  created_index INTEGER,"
	"  out_channel TEXT,"
	"  in_msat INTEGER NOT NULL,"
	"  out_msat INTEGER NOT NULL DEFAULT 0,"
	"  fee_msat INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL,"
	"  failcode INTEGER,"
	"  received_time INTEGER NOT NULL,"
	"  hold_ms INTEGER,"
	"  PRIMARY KEY (in_channel, in_htlc_id)"
	") WITHOUT ROWID;"
	/* The key also serves lookups by incoming channel (htlc ids grow
	 * with time), so only two more indexes: bulk hydration of a million
	 * forwards pays for every index it maintains. */
	"CREATE INDEX forwards_time ON forwards (received_time);"
	"CREATE INDEX forwards_out ON forwards (out_channel, received_time);"
	"CREATE TABLE forward_daily ("
	"  day INTEGER NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  direction INTEGER NOT NULL," /* 0: out view, 1: in view */
	"  settled INTEGER NOT NULL DEFAULT 0,"
	"  in_msat INTEGER NOT NULL DEFAULT 0,"
	"  out_msat INTEGER NOT NULL DEFAULT 0,"
	"  fee_msat INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (day, channel, direction)"
	");"
	"CREATE INDEX forward_daily_channel ON forward_daily (channel, day);"
	"CREATE TABLE sync_state ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL"
	");",
	revenue_migration_3_fees,
	revenue_migration_4_accounting,
	revenue_migration_5_fee_anchors,
	/* 6: each channel's temporal profile (engine/temporal.h), written
	 * by the flow cycle as JSON (flow_temporal_json, with computed_at);
	 * NULL while the channel has no forwards in the profile's window.
	 * The fee cycle reads it for the controller's time context. */
	"ALTER TABLE channel_states ADD COLUMN temporal_profile_json TEXT;",
};

struct store *revenue_db_open(const char *path, char **err)
{
	return store_open(path, migrations, ARRAY_SIZE(migrations), 5000, err);
}
