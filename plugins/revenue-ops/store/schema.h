/* The database schema, one migration per string (append-only: never edit
 * a migration that has shipped; add the next). Migrations 1, 2 and 6 (one
 * column) are in schema.c; 3 and 5 in schema_fees.c, 4 in
 * schema_accounting.c. Each table is written by one store (see
 * doc/architecture.md). */
#ifndef HIVE_REVENUE_OPS_SCHEMA_H
#define HIVE_REVENUE_OPS_SCHEMA_H

/* 3: flow, fee controller, policy, peer and CLBOSS state (flow_state.c,
 * fee_state.c, policy.c, peers.c, clboss.c). */
extern const char revenue_migration_3_fees[];
/* 4: accounting: costs, closures, snapshots (acct_db.c, acct_archive.c). */
extern const char revenue_migration_4_accounting[];
/* 5: the operator's fee anchors (anchor.c). */
extern const char revenue_migration_5_fee_anchors[];

struct store;

/* Open (and migrate) the database. NULL with *err on failure. */
struct store *revenue_db_open(const char *path, char **err);

/* The operational per-channel tables (migrations 3 and 5) and the column
 * that holds the channel's scid: what `revenue-cleanup-closed` removes
 * once a channel is archived. Accounting tables are never in it. */
struct revenue_channel_table {
	const char *table, *column;
};
extern const struct revenue_channel_table revenue_channel_tables[];
extern const unsigned revenue_num_channel_tables;

#endif
