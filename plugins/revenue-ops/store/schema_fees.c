/* Migration 3: tables of the flow analysis, the fee controller and the
 * per-peer policies (store/flow_state.c, fee_state.c, policy.c, peers.c,
 * clboss.c); migration 5: the operator's fee anchors (anchor.c). Channels
 * are keyed by short_channel_id (the reference's `channel_id` column
 * name); the 64-hex channel id is kept beside it so learned state follows
 * a channel through a splice, whose scid changes. */
#include "plugins/revenue-ops/store/schema.h"

const char revenue_migration_3_fees[] =
	/* One row per open channel: the flow cycle's latest analysis plus
	 * the hysteresis state (last_*) the next analysis needs. */
	"CREATE TABLE channel_states ("
	"  channel_id TEXT PRIMARY KEY,"
	"  full_channel_id TEXT,"
	"  peer_id TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  basis TEXT,"
	"  flow_ratio REAL NOT NULL,"
	"  daily_ratio REAL NOT NULL DEFAULT 0,"
	"  sats_in INTEGER NOT NULL,"
	"  sats_out INTEGER NOT NULL,"
	"  capacity INTEGER NOT NULL,"
	"  local_sats INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL,"
	"  confidence REAL NOT NULL DEFAULT 1.0,"
	"  velocity REAL NOT NULL DEFAULT 0.0,"
	"  flow_multiplier REAL NOT NULL DEFAULT 1.0,"
	"  ema_decay REAL NOT NULL DEFAULT 0.8,"
	"  forward_count INTEGER NOT NULL DEFAULT 0,"
	"  in_count INTEGER NOT NULL DEFAULT 0,"
	"  out_count INTEGER NOT NULL DEFAULT 0,"
	"  last_forward INTEGER NOT NULL DEFAULT 0,"
	"  kalman_flow_ratio REAL NOT NULL DEFAULT 0.0,"
	"  kalman_velocity REAL NOT NULL DEFAULT 0.0," /* per day */
	"  kalman_uncertainty REAL NOT NULL DEFAULT 0.1,"
	"  kalman_regime_change INTEGER NOT NULL DEFAULT 0,"
	"  balance_position REAL NOT NULL DEFAULT 0,"
	"  turnover REAL NOT NULL DEFAULT 0,"
	"  role TEXT,"
	"  is_congested INTEGER NOT NULL DEFAULT 0,"
	"  htlc_util REAL NOT NULL DEFAULT 0,"
	"  last_class INTEGER NOT NULL DEFAULT 0,"
	"  last_ratio REAL NOT NULL DEFAULT 0,"
	"  last_velocity REAL NOT NULL DEFAULT 0,"
	"  last_ratio_sec INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX channel_states_peer ON channel_states (peer_id);"
	"CREATE INDEX channel_states_cid ON channel_states (full_channel_id);"
	/* engine/kalman.h struct kalman_state, one row per channel. */
	"CREATE TABLE kalman_state ("
	"  channel_id TEXT PRIMARY KEY,"
	"  ratio REAL NOT NULL,"
	"  velocity_per_hour REAL NOT NULL,"
	"  p00 REAL NOT NULL, p01 REAL NOT NULL, p11 REAL NOT NULL,"
	"  innovation_variance REAL NOT NULL,"
	"  last_innovation REAL NOT NULL,"
	"  observation_count INTEGER NOT NULL,"
	"  last_update INTEGER NOT NULL"
	");"
	/* Peers with several channels, summed (flow_aggregate_peer). */
	"CREATE TABLE peer_flow_states ("
	"  peer_id TEXT PRIMARY KEY,"
	"  n_channels INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  flow_ratio REAL NOT NULL,"
	"  outbound_ratio REAL NOT NULL,"
	"  confidence REAL NOT NULL,"
	"  capacity INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	/* The fee controller's learned state: fee_ctl_state_serialise()
	 * doubles, little-endian IEEE 754, as a BLOB. */
	"CREATE TABLE fee_state ("
	"  channel_id TEXT PRIMARY KEY,"
	"  full_channel_id TEXT,"
	"  peer_id TEXT,"
	"  state BLOB NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE INDEX fee_state_cid ON fee_state (full_channel_id);"
	/* Every fee change we made, adopted or (dry run) would have made.
	 * source: controller | manual | external | policy. applied = 0
	 * for a dry run or a decision that lacked authority. */
	"CREATE TABLE fee_changes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  channel_id TEXT NOT NULL,"
	"  peer_id TEXT NOT NULL,"
	"  old_fee_ppm INTEGER NOT NULL,"
	"  new_fee_ppm INTEGER NOT NULL,"
	"  old_base_msat INTEGER,"
	"  new_base_msat INTEGER,"
	"  reason TEXT,"
	"  reason_code TEXT,"
	"  source TEXT NOT NULL,"
	"  manual INTEGER NOT NULL DEFAULT 0,"
	"  dry_run INTEGER NOT NULL DEFAULT 0,"
	"  applied INTEGER NOT NULL DEFAULT 1,"
	"  timestamp INTEGER NOT NULL"
	");"
	"CREATE INDEX fee_changes_channel ON fee_changes (channel_id, timestamp);"
	"CREATE INDEX fee_changes_time ON fee_changes (timestamp);"
	/* Operator policies per peer (tags: a JSON array of strings). */
	"CREATE TABLE peer_policies ("
	"  peer_id TEXT PRIMARY KEY,"
	"  strategy TEXT NOT NULL DEFAULT 'dynamic',"
	"  rebalance_mode TEXT NOT NULL DEFAULT 'enabled',"
	"  fee_ppm_target INTEGER,"
	"  fee_multiplier_min REAL,"
	"  fee_multiplier_max REAL,"
	"  tags TEXT NOT NULL DEFAULT '[]',"
	"  updated_at INTEGER NOT NULL,"
	"  expires_at INTEGER"
	");"
	"CREATE TABLE policy_changes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  peer_id TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  policy TEXT,"
	"  timestamp INTEGER NOT NULL"
	");"
	"CREATE INDEX policy_changes_time ON policy_changes (timestamp);"
	/* Reputation counts are REAL and decay with elapsed time
	 * (engine/reputation.h, defects 1 and 2). */
	"CREATE TABLE peer_reputation ("
	"  peer_id TEXT PRIMARY KEY,"
	"  successes REAL NOT NULL,"
	"  failures REAL NOT NULL,"
	"  last_update INTEGER NOT NULL"
	");"
	/* connected / disconnected / snapshot. Pruning keeps each peer's
	 * latest event (defect 33). */
	"CREATE TABLE peer_events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  peer_id TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  timestamp INTEGER NOT NULL"
	");"
	"CREATE INDEX peer_events_peer ON peer_events (peer_id, timestamp);"
	/* One opening-feerate sample per fee cycle (Vegas moving average). */
	"CREATE TABLE mempool_samples ("
	"  timestamp INTEGER NOT NULL,"
	"  sat_per_vbyte REAL NOT NULL"
	");"
	"CREATE INDEX mempool_samples_time ON mempool_samples (timestamp);"
	/* Peers we asked CLBOSS to leave alone, per tag. */
	"CREATE TABLE clboss_unmanaged ("
	"  peer_id TEXT NOT NULL,"
	"  tag TEXT NOT NULL,"
	"  unmanaged_at INTEGER NOT NULL,"
	"  PRIMARY KEY (peer_id, tag)"
	");";

/* Migration 5: the operator's fee anchors (revenue-fee-anchor, anchor.c):
 * at most one per channel, keyed by scid with the 64-hex channel id beside
 * it (a splice keeps the anchor, as it keeps fee_state). An anchor is
 * active while expires_at > now; expired rows are ignored by every read
 * and deleted by the next write (an anchor write or a fee cycle). The
 * CHECKs are the RPC's own limits, so no row can reach the controller
 * that the RPC would have refused. */
const char revenue_migration_5_fee_anchors[] =
	"CREATE TABLE fee_anchors ("
	"  channel_id TEXT PRIMARY KEY,"
	"  full_channel_id TEXT,"
	"  peer_id TEXT,"
	"  target_fee_ppm INTEGER NOT NULL"
	"    CHECK (target_fee_ppm BETWEEN 0 AND 100000),"
	"  confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),"
	"  base_weight REAL NOT NULL CHECK (base_weight BETWEEN 0 AND 1),"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");"
	"CREATE INDEX fee_anchors_cid ON fee_anchors (full_channel_id);"
	"CREATE INDEX fee_anchors_expiry ON fee_anchors (expires_at);";

const struct revenue_channel_table revenue_channel_tables[] = {
	{"channel_states", "channel_id"},
	{"kalman_state", "channel_id"},
	{"fee_state", "channel_id"},
	{"fee_anchors", "channel_id"},
};
const unsigned revenue_num_channel_tables =
	sizeof(revenue_channel_tables) / sizeof(revenue_channel_tables[0]);
