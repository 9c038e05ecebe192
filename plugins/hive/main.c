/* cl-hive: the fleet plugin. This file holds the tables lightningd sees
 * (options, methods, subscriptions, hooks) and the plugin's lifecycle;
 * behaviour lives in the modules beside it. */
#include "common/errcode.h"
#include "common/json_util.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/hive/hive.h"
#include <stdio.h>
#include <string.h>

static const char *const governance_modes[] = {"advisor", "failsafe", NULL};
static const char *const transport_modes[] = {"any", "vpn-only",
					      "vpn-preferred", NULL};

/* Option names and defaults are the reference plugin's, so existing
 * configuration files keep working. Types are declared precisely (the
 * reference declared every option a string and parsed it itself), so
 * lightningd rejects a malformed value at startup. */
static const struct plugin_option options[] = {
	{"hive-db-path", POPT_STRING, "cl_hive.db",
	 "SQLite database file (relative to the lightning-dir unless "
	 "absolute; ~ is expanded)."},
	{"hive-governance-mode", POPT_STRING, "advisor",
	 "advisor: proposals wait for operator approval; failsafe: "
	 "emergency actions run automatically within budget.",
	 .dynamic = true, .choices = governance_modes},
	{"hive-neophyte-fee-discount", POPT_DOUBLE, "0.5",
	 "Fee discount for neophytes (accepted for compatibility; hive "
	 "members route at zero fee).",
	 .dynamic = true, .has_range = true, .min = 0, .max = 1},
	{"hive-member-fee-ppm", POPT_INT, "0",
	 "Fee charged to full members (accepted for compatibility; the "
	 "hive policy is zero fee).",
	 .dynamic = true, .has_range = true, .min = 0, .max = 100000},
	{"hive-probation-days", POPT_INT, "30",
	 "Minimum days as neophyte before promotion.", .dynamic = true,
	 .has_range = true, .min = 1, .max = 365},
	{"hive-vouch-threshold", POPT_DOUBLE, "0.51",
	 "Share of members whose vouches promote a neophyte.",
	 .dynamic = true, .has_range = true, .min = 0.5, .max = 1},
	{"hive-min-vouch-count", POPT_INT, "3",
	 "Minimum number of vouches for a promotion.", .dynamic = true,
	 .has_range = true, .min = 1, .max = 100},
	{"hive-max-members", POPT_INT, "50", "Maximum members in the hive.",
	 .dynamic = true, .has_range = true, .min = 2, .max = 100},
	{"hive-market-share-cap", POPT_DOUBLE, "0.20",
	 "Maximum hive share of one target's capacity.", .dynamic = true,
	 .has_range = true, .min = 0, .max = 1},
	{"hive-membership-enabled", POPT_BOOL, "true",
	 "Run the membership and promotion protocol.", .dynamic = true},
	{"hive-auto-vouch", POPT_BOOL, "true",
	 "Vouch automatically for eligible neophytes.", .dynamic = true},
	{"hive-auto-join", POPT_BOOL, "false",
	 "Greet newly connected peers with a join request when not in a "
	 "hive.",
	 .dynamic = true},
	{"hive-auto-promote", POPT_BOOL, "true",
	 "Promote a neophyte once the vouch quorum is reached.",
	 .dynamic = true},
	{"hive-ban-autotrigger", POPT_BOOL, "false",
	 "Propose a ban automatically for sustained leeching.",
	 .dynamic = true},
	{"hive-intent-hold-seconds", POPT_INT, "60",
	 "Seconds an intent is held before it commits.", .dynamic = true,
	 .has_range = true, .min = 10, .max = 600},
	{"hive-gossip-threshold", POPT_DOUBLE, "0.10",
	 "Relative capacity change that triggers a state broadcast.",
	 .dynamic = true, .has_range = true, .min = 0.01, .max = 0.5},
	{"hive-heartbeat-interval", POPT_INT, "300",
	 "Seconds between forced state broadcasts.", .dynamic = true,
	 .has_range = true, .min = 60, .max = 3600},
	{"hive-planner-interval", POPT_INT, "3600",
	 "Seconds between planner cycles.", .dynamic = true,
	 .has_range = true, .min = 300, .max = 86400},
	{"hive-planner-enable-expansions", POPT_BOOL, "false",
	 "Let the planner propose channel opens.", .dynamic = true},
	{"hive-planner-min-channel-sats", POPT_INT, "1000000",
	 "Smallest channel the planner proposes.", .dynamic = true,
	 .has_range = true, .min = 100000, .max = 100000000},
	{"hive-planner-max-channel-sats", POPT_INT, "50000000",
	 "Largest channel the planner proposes.", .dynamic = true,
	 .has_range = true, .min = 1000000, .max = 1000000000},
	{"hive-planner-default-channel-sats", POPT_INT, "5000000",
	 "Default size of a proposed channel.", .dynamic = true,
	 .has_range = true, .min = 100000, .max = 500000000},
	{"hive-failsafe-budget-per-day", POPT_INT, "10000000",
	 "Daily on-chain budget (sat) for failsafe and expansion actions.",
	 .dynamic = true, .has_range = true, .min = 100000,
	 .max = 10000000},
	{"hive-budget-reserve-pct", POPT_DOUBLE, "0.20",
	 "Fraction of confirmed on-chain funds always kept in reserve.",
	 .dynamic = true, .has_range = true, .min = 0.05, .max = 0.5},
	{"hive-budget-max-per-channel-pct", POPT_DOUBLE, "0.50",
	 "Largest fraction of the daily budget one channel may use.",
	 .dynamic = true, .has_range = true, .min = 0.1, .max = 1},
	{"hive-max-expansion-feerate", POPT_INT, "5000",
	 "Highest opening feerate (sat/kB) for expansions; 0 disables the "
	 "check.",
	 .dynamic = true, .has_range = true, .min = 0, .max = 100000},
	{"hive-transport-mode", POPT_STRING, "any",
	 "any, vpn-only or vpn-preferred.", .dynamic = true,
	 .choices = transport_modes},
	{"hive-vpn-subnets", POPT_STRING, "",
	 "Comma-separated VPN subnets (CIDR), at most 10.", .dynamic = true},
	{"hive-vpn-bind", POPT_STRING, "",
	 "VPN address (ip:port) for hive traffic.", .dynamic = true},
	{"hive-vpn-peers", POPT_STRING, "",
	 "Comma-separated pubkey@ip:port VPN peer mappings, at most 100.",
	 .dynamic = true},
	{"hive-vpn-required-messages", POPT_STRING, "all",
	 "Message classes that must use the VPN: all, gossip, intent, "
	 "sync, none (comma-separated).",
	 .dynamic = true},
};

static struct hive *H(struct plugin *p)
{
	return plugin_app(p);
}

static void json_hive_status(struct command *cmd, const json_t *params)
{
	static const struct param none[] = {{NULL}};
	struct hive *h = H(command_plugin(cmd));
	struct plugin *p = command_plugin(cmd);
	char *err = NULL;
	sqlite3_stmt *st;
	int total = 0, members = 0, neophytes = 0;
	json_t *membership = json_null();

	if (!command_params(cmd, params, none))
		return;
	st = store_stmt(h->db,
			"SELECT tier, COUNT(*) FROM hive_members GROUP BY tier",
			&err);
	if (!st) {
		command_fail(cmd, ERR_DATABASE, NULL, "%s", err);
		free(err);
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *tier = (const char *)sqlite3_column_text(st, 0);
		int n = sqlite3_column_int(st, 1);
		total += n;
		if (tier && !strcmp(tier, "member"))
			members += n;
		else
			neophytes += n;
	}
	store_done(st);
	json_decref(membership);
	membership = json_null();
	json_t *res = json_pack(
		"{s:s,s:s,s:o,s:{s:i,s:i,s:i},s:{s:I,s:f},s:s}", "status",
		total ? "active" : "no_members", "governance_mode",
		plugin_opt_str(p, "hive-governance-mode"), "membership",
		membership, "members", "total", total, "member", members,
		"neophyte", neophytes, "limits", "max_members",
		(json_int_t)plugin_opt_int(p, "hive-max-members"),
		"market_share_cap",
		plugin_opt_double(p, "hive-market-share-cap"), "version",
		HIVE_VERSION);
	json_object_set_new(res, "database",
			    json_pack("{s:s,s:i}", "path", h->db_path,
				      "schema_version",
				      store_schema_version(h->db)));
	command_ok(cmd, res);
}

static const struct plugin_method methods[] = {
	{"hive-status", json_hive_status, "",
	 "Show hive membership, governance mode and limits."},
};

static char *expand_path(const char *path)
{
	const char *home = getenv("HOME");
	if (path[0] == '~' && path[1] == '/' && home)
		return xfmt("%s%s", home, path + 1);
	return xstrdup(path);
}

static char *hive_init(struct plugin *p, const json_t *config)
{
	struct hive *h = H(p);
	char *err = NULL;

	h->plugin = p;
	h->db_path = expand_path(plugin_opt_str(p, "hive-db-path"));
	h->db = hive_db_open(h->db_path, &err);
	if (!h->db)
		return err;
	plugin_log(p, PLOG_INFO, "cl-hive %s started (database %s, schema "
				 "v%d)",
		   HIVE_VERSION, h->db_path, store_schema_version(h->db));
	(void)config;
	return NULL;
}

static void hive_shutdown(struct plugin *p)
{
	struct hive *h = H(p);
	store_close(h->db);
	h->db = NULL;
	free(h->db_path);
	h->db_path = NULL;
}

static const struct plugin_spec spec = {
	.name = "cl-hive",
	.options = options,
	.num_options = ARRAY_SIZE(options),
	.methods = methods,
	.num_methods = ARRAY_SIZE(methods),
	.dynamic = true,
	.lenient_option_types = true,
	.init = hive_init,
	.shutdown = hive_shutdown,
};

int main(int argc, char **argv)
{
	struct hive h = {0};
	return plugin_main(&spec, argc, argv, &h);
}
