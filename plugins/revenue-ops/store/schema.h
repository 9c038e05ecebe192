/* The database schema, one migration per string (append-only: never edit
 * a migration that has shipped; add the next). Migrations 3 and 4 live
 * beside the code that owns their tables; 5 beside 3; 6 (one column) in
 * db.c itself. */
#ifndef HIVE_REVENUE_OPS_SCHEMA_H
#define HIVE_REVENUE_OPS_SCHEMA_H

/* 3: flow, fee controller and policy state (flow_cycle.c, fee_cycle.c). */
extern const char revenue_migration_3_fees[];
/* 4: accounting: costs, closures, snapshots (accounting.c). */
extern const char revenue_migration_4_accounting[];
/* 5: the operator's fee anchors (anchor.c, schema_fees.c). */
extern const char revenue_migration_5_fee_anchors[];

/* The operational per-channel tables (migrations 3 and 5) and the column
 * that holds the channel's scid: what `revenue-cleanup-closed` removes
 * once a channel is archived. Accounting tables are never in it. */
struct store;

/* Open (and migrate) the database. NULL with *err on failure. */
struct store *revenue_db_open(const char *path, char **err);

struct revenue_channel_table {
	const char *table, *column;
};
extern const struct revenue_channel_table revenue_channel_tables[];
extern const unsigned revenue_num_channel_tables;

#endif
