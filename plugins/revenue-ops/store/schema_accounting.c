/* Migration 4: tables of the accounting (acct_db.c, acct_archive.c):
 * channel open costs, the short_channel_ids a channel has had (a splice
 * changes it), splices, rebalance costs, closures, the frozen P&L of
 * closed channels, and daily financial snapshots.
 *
 * Conventions: amounts INTEGER msat (sat only where a column says so:
 * capacity and on-chain wallet funds, which are whole satoshis); times
 * INTEGER unix seconds. `channel_id` is lightningd's 64-hex channel id,
 * which a splice does not change; `scid` is a short_channel_id. Every
 * table here is accounting history: none is ever pruned except
 * financial_snapshots (365 days), and revenue-cleanup-closed never
 * touches them. Revenue is not copied here: it is read from forwards and
 * forward_daily (migration 2), which are never deleted either. */
#include "plugins/revenue-ops/store/schema.h"

const char revenue_migration_4_accounting[] =
    /* One row per channel we accounted: how it was opened and what that
     * cost us. open_cost_source: bookkeeper | feerate_estimate |
     * configured_estimate | peer_opened. */
    "CREATE TABLE channel_costs ("
    "  channel_id TEXT PRIMARY KEY,"
    "  scid TEXT,"
    "  peer_id TEXT NOT NULL,"
    "  opener TEXT NOT NULL DEFAULT 'unknown',"
    "  capacity_sat INTEGER NOT NULL DEFAULT 0,"
    "  funding_txid TEXT,"
    "  opened_at INTEGER NOT NULL,"
    "  open_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  open_cost_source TEXT NOT NULL,"
    "  recorded_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX channel_costs_scid ON channel_costs (scid);"
    "CREATE INDEX channel_costs_peer ON channel_costs (peer_id);"
    "CREATE INDEX channel_costs_recorded ON channel_costs (recorded_at);"
    /* Every short_channel_id a channel has had, so its forwards and
     * rebalances before a splice stay its own. */
    "CREATE TABLE channel_scids ("
    "  scid TEXT PRIMARY KEY,"
    "  channel_id TEXT NOT NULL,"
    "  first_seen INTEGER NOT NULL"
    ");"
    "CREATE INDEX channel_scids_channel ON channel_scids (channel_id);"
    /* Splices: amount_sat signed (+ in, - out); fee_msat what we paid. */
    "CREATE TABLE channel_splices ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  channel_id TEXT NOT NULL,"
    "  old_scid TEXT,"
    "  new_scid TEXT,"
    "  splice_txid TEXT,"
    "  splice_type TEXT NOT NULL,"
    "  amount_sat INTEGER NOT NULL DEFAULT 0,"
    "  fee_msat INTEGER NOT NULL DEFAULT 0,"
    "  cost_source TEXT NOT NULL,"
    "  timestamp INTEGER NOT NULL,"
    "  UNIQUE (channel_id, new_scid)"
    ");"
    "CREATE INDEX channel_splices_time ON channel_splices (timestamp);"
    /* Successful rebalances and circular payments: the fee is a cost of
     * the destination channel (the one that got the liquidity). */
    "CREATE TABLE rebalance_costs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  dest_scid TEXT NOT NULL,"
    "  src_scid TEXT,"
    "  peer_id TEXT,"
    "  amount_msat INTEGER NOT NULL,"
    "  cost_msat INTEGER NOT NULL,"
    "  timestamp INTEGER NOT NULL"
    ");"
    "CREATE INDEX rebalance_costs_dest ON rebalance_costs "
    "(dest_scid, timestamp);"
    "CREATE INDEX rebalance_costs_time ON rebalance_costs (timestamp);"
    /* What closing a channel cost. close_type: mutual | local_unilateral
     * | remote_unilateral | unknown; closer (who started it): local |
     * remote | unknown; cost_source: bookkeeper | listclosedchannels |
     * feerate_estimate | default_estimate | peer_paid. */
    "CREATE TABLE channel_closure_costs ("
    "  channel_id TEXT PRIMARY KEY,"
    "  scid TEXT,"
    "  peer_id TEXT NOT NULL,"
    "  close_type TEXT NOT NULL,"
    "  closer TEXT NOT NULL DEFAULT 'unknown',"
    "  closure_fee_msat INTEGER NOT NULL DEFAULT 0,"
    "  htlc_sweep_fee_msat INTEGER NOT NULL DEFAULT 0,"
    "  penalty_fee_msat INTEGER NOT NULL DEFAULT 0,"
    "  total_closure_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  cost_source TEXT NOT NULL,"
    "  funding_txid TEXT,"
    "  closing_txid TEXT,"
    "  closed_at INTEGER NOT NULL,"
    "  resolution_complete INTEGER NOT NULL DEFAULT 0,"
    "  bkpr_account TEXT,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX channel_closure_costs_time ON channel_closure_costs "
    "(closed_at);"
    "CREATE INDEX channel_closure_costs_peer ON channel_closure_costs "
    "(peer_id);"
    /* The final P&L of a closed channel, frozen at archive time (and
     * refreshed while its on-chain resolution completes). revenue_msat is
     * every exit fee it earned, rolled-up days included. cleaned_at: when
     * revenue-cleanup-closed removed its operational rows. */
    "CREATE TABLE closed_channels ("
    "  channel_id TEXT PRIMARY KEY,"
    "  scid TEXT,"
    "  peer_id TEXT NOT NULL,"
    "  capacity_sat INTEGER NOT NULL DEFAULT 0,"
    "  opener TEXT NOT NULL DEFAULT 'unknown',"
    "  opened_at INTEGER,"
    "  closed_at INTEGER NOT NULL,"
    "  close_type TEXT NOT NULL,"
    "  closer TEXT NOT NULL DEFAULT 'unknown',"
    "  open_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  closure_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  splice_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  rebalance_cost_msat INTEGER NOT NULL DEFAULT 0,"
    "  revenue_msat INTEGER NOT NULL DEFAULT 0,"
    "  sourced_fee_msat INTEGER NOT NULL DEFAULT 0,"
    "  volume_routed_msat INTEGER NOT NULL DEFAULT 0,"
    "  sourced_volume_msat INTEGER NOT NULL DEFAULT 0,"
    "  forward_count INTEGER NOT NULL DEFAULT 0,"
    "  sourced_forward_count INTEGER NOT NULL DEFAULT 0,"
    "  net_pnl_msat INTEGER NOT NULL DEFAULT 0,"
    "  days_open INTEGER NOT NULL DEFAULT 0,"
    "  funding_txid TEXT,"
    "  closing_txid TEXT,"
    "  archived_at INTEGER NOT NULL,"
    "  cleaned_at INTEGER"
    ");"
    "CREATE INDEX closed_channels_peer ON closed_channels (peer_id);"
    "CREATE INDEX closed_channels_time ON closed_channels (closed_at);"
    "CREATE INDEX closed_channels_scid ON closed_channels (scid);"
    /* One row per UTC day (the latest snapshot of that day wins). */
    "CREATE TABLE financial_snapshots ("
    "  day INTEGER PRIMARY KEY,"
    "  timestamp INTEGER NOT NULL,"
    "  total_local_balance_msat INTEGER NOT NULL,"
    "  total_remote_balance_msat INTEGER NOT NULL,"
    "  total_onchain_sat INTEGER NOT NULL,"
    "  total_capacity_sat INTEGER NOT NULL,"
    "  total_revenue_accumulated_msat INTEGER NOT NULL,"
    "  total_costs_accumulated_msat INTEGER NOT NULL,"
    "  total_rebalance_cost_accumulated_msat INTEGER NOT NULL,"
    "  channel_count INTEGER NOT NULL"
    ");";
