/* Unit tests for common/plugin.c.
 *
 * (a) plugin_manifest_json from static specs, compared as exact JSON.
 * (b) plugin_option_parse for every option type, table-driven.
 * (c) The protocol end to end: a child process runs plugin_main() with a
 *     test spec, its stdin/stdout on pipes; the parent plays lightningd
 *     (getmanifest, init, commands, setconfig, hooks, notifications,
 *     garbage, shutdown) and serves a fake "lightning-rpc" socket in a
 *     temporary directory. Every byte the child writes to stdout is kept
 *     and checked to be JSON messages each followed by "\n\n". */
#include "common/errcode.h"
#include "common/jsonrpc_io.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "tests/check.h"
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The test plugin (runs in the child).                                */

static const char *const level_choices[] = {"low", "medium", "high", NULL};

static const struct plugin_option test_options[] = {
	{.name = "t-str", .type = POPT_STRING, .def = "hello",
	 .description = "a string", .dynamic = true},
	{.name = "t-int", .type = POPT_INT, .def = "30",
	 .description = "an int", .dynamic = true, .has_range = true,
	 .min = 1, .max = 100},
	{.name = "t-bool", .type = POPT_BOOL, .def = "true",
	 .description = "a bool", .dynamic = true},
	{.name = "t-bool-off", .type = POPT_BOOL, .def = "false",
	 .description = "a bool defaulting off"},
	{.name = "t-flag", .type = POPT_FLAG, .description = "a flag",
	 .dynamic = true},
	{.name = "t-double", .type = POPT_DOUBLE, .def = "0.05",
	 .description = "a double", .dynamic = true, .has_range = true,
	 .min = 0, .max = 1},
	{.name = "t-choice", .type = POPT_STRING, .def = "medium",
	 .description = "a choice", .dynamic = true,
	 .choices = level_choices},
	{.name = "t-smulti", .type = POPT_STRING_MULTI,
	 .description = "strings"},
	{.name = "t-imulti", .type = POPT_INT_MULTI, .description = "ints"},
	{.name = "t-static", .type = POPT_INT, .def = "5",
	 .description = "not dynamic"},
	{.name = "t-nodef", .type = POPT_STRING, .description = "no default"},
};

/* State the child's handlers keep, reported back by "t-last". */
static json_t *last_notif, *last_flat, *last_hook;
static int notif_count, flat_count, hook_count;
static char *init_dir, *init_cwd;

static void m_echo(struct command *cmd, const json_t *params)
{
	const char *name = NULL, *scid = NULL;
	int64_t count = -1;
	uint64_t amount = 0;
	bool enabled = false, have_count = false;
	const struct param specs[] = {
		{.name = "name", .type = PARAM_STRING, .required = true,
		 .out = &name},
		{.name = "count", .type = PARAM_INT, .out = &count,
		 .present = &have_count},
		{.name = "amount", .type = PARAM_MSAT, .out = &amount},
		{.name = "enabled", .type = PARAM_BOOL, .out = &enabled},
		{.name = "scid", .type = PARAM_SCID, .out = &scid},
		{.name = NULL},
	};

	if (!command_params(cmd, params, specs))
		return;
	command_ok(cmd, json_pack("{s:s,s:I,s:b,s:I,s:b,s:s?,s:s,s:s}", "name",
				  name, "count", (json_int_t)count,
				  "have_count", have_count, "amount_msat",
				  (json_int_t)amount, "enabled", enabled,
				  "scid", scid, "id", command_id(cmd),
				  "method", command_method(cmd)));
}

static json_t *multi_json(struct plugin *p, const char *name)
{
	const char *const *vals;
	size_t n = plugin_opt_multi(p, name, &vals);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(vals[i]));
	return a;
}

static void m_opts(struct command *cmd, const json_t *params)
{
	struct plugin *p = command_plugin(cmd);
	json_t *r = json_object();

	json_object_set_new(r, "t-str", json_string(plugin_opt_str(p, "t-str")));
	json_object_set_new(r, "t-int",
			    json_integer(plugin_opt_int(p, "t-int")));
	json_object_set_new(r, "t-bool",
			    json_boolean(plugin_opt_bool(p, "t-bool")));
	json_object_set_new(r, "t-bool-off",
			    json_boolean(plugin_opt_bool(p, "t-bool-off")));
	json_object_set_new(r, "t-flag",
			    json_boolean(plugin_opt_bool(p, "t-flag")));
	json_object_set_new(r, "t-double",
			    json_real(plugin_opt_double(p, "t-double")));
	json_object_set_new(r, "t-choice",
			    json_string(plugin_opt_str(p, "t-choice")));
	json_object_set_new(r, "t-smulti", multi_json(p, "t-smulti"));
	json_object_set_new(r, "t-imulti", multi_json(p, "t-imulti"));
	json_object_set_new(r, "t-static",
			    json_integer(plugin_opt_int(p, "t-static")));
	json_object_set_new(r, "t-nodef",
			    plugin_opt_str(p, "t-nodef")
				    ? json_string(plugin_opt_str(p, "t-nodef"))
				    : json_null());
	json_object_set_new(r, "json-t-int", plugin_opt_json(p, "t-int"));
	json_object_set_new(r, "json-t-nodef", plugin_opt_json(p, "t-nodef"));
	json_object_set_new(
		r, "set",
		json_pack("{s:b,s:b,s:b,s:b}", "t-str",
			  plugin_opt_is_set(p, "t-str"), "t-int",
			  plugin_opt_is_set(p, "t-int"), "t-static",
			  plugin_opt_is_set(p, "t-static"), "t-bool-off",
			  plugin_opt_is_set(p, "t-bool-off")));
	json_object_set_new(r, "booted",
			    json_boolean(plugin_started_at_boot(p)));
	json_object_set_new(r, "name", json_string(plugin_name(p)));
	command_ok(cmd, r);
}

static void rpc_done(struct rpc *rpc, const struct rpc_reply *r, void *arg)
{
	struct command *cmd = arg;
	if (r->error) {
		char *t = rpc_reply_errtext(r);
		command_fail(cmd, ERR_RPC_FAILED, NULL, "%s", t);
		free(t);
		return;
	}
	command_ok(cmd, json_pack("{s:O}", "getinfo", (json_t *)r->result));
}

static void m_rpc(struct command *cmd, const json_t *params)
{
	rpc_call(plugin_rpc(command_plugin(cmd)), command_id(cmd), "getinfo",
		 NULL, rpc_done, cmd);
}

static void m_log(struct command *cmd, const json_t *params)
{
	struct plugin *p = command_plugin(cmd);
	plugin_log(p, PLOG_INFO, "hello %d", 42);
	plugin_log(p, PLOG_DEBUG, "line one\nline two");
	plugin_log(p, PLOG_ERROR, "an error");
	plugin_notify(p, "t-event", json_pack("{s:i}", "x", 1));
	command_ok(cmd, json_object());
}

static void m_fail(struct command *cmd, const json_t *params)
{
	command_fail(cmd, ERR_NOT_FOUND, json_pack("{s:s}", "scid", "1x2x3"),
		     "no channel %s", "1x2x3");
}

static void m_last(struct command *cmd, const json_t *params)
{
	command_ok(cmd,
		   json_pack("{s:O?,s:i,s:O?,s:i,s:O?,s:i,s:s?,s:s?}",
			     "notif", last_notif, "notif_count", notif_count,
			     "flat", last_flat, "flat_count", flat_count,
			     "hook", last_hook, "hook_count", hook_count,
			     "init_dir", init_dir, "init_cwd", init_cwd));
}

static const struct plugin_method test_methods[] = {
	{.name = "t-echo", .handler = m_echo,
	 .usage = "name [count] [amount] [enabled] [scid]",
	 .description = "Echo typed parameters"},
	{.name = "t-opts", .handler = m_opts, .usage = "",
	 .description = "Option values"},
	{.name = "t-rpc", .handler = m_rpc, .usage = "",
	 .description = "Call getinfo"},
	{.name = "t-log", .handler = m_log, .usage = NULL,
	 .description = "Log and notify"},
	{.name = "t-fail", .handler = m_fail, .usage = "",
	 .description = "Always fails"},
	{.name = "t-last", .handler = m_last, .usage = "",
	 .description = "What notifications and hooks saw"},
};

static void on_connect(struct plugin *p, const json_t *payload)
{
	json_decref(last_notif);
	last_notif = json_deep_copy(payload);
	notif_count++;
}

static void on_flat(struct plugin *p, const json_t *payload)
{
	json_decref(last_flat);
	last_flat = json_deep_copy(payload);
	flat_count++;
}

static const struct plugin_subscription test_subs[] = {
	{.topic = "connect", .handler = on_connect},
	{.topic = "t-flat", .handler = on_flat},
};

static void on_custommsg(struct plugin *p, const json_t *params)
{
	json_decref(last_hook);
	last_hook = json_deep_copy(params);
	hook_count++;
}

static const char *const before_names[] = {"a-plugin", NULL};
static const char *const after_names[] = {"b-plugin", "c-plugin", NULL};
static const int msg_filters[] = {32769, 32771};

static const struct plugin_hook test_hooks[] = {
	{.name = "custommsg", .handler = on_custommsg, .filters = msg_filters,
	 .num_filters = 2},
	{.name = "peer_connected", .handler = NULL, .before = before_names,
	 .after = after_names},
};

static const char *const test_topics[] = {"t-event"};
static const int test_custommsgs[] = {32769, 32771};

static char *t_init(struct plugin *p, const json_t *conf)
{
	char buf[512];
	const char *dir = json_string_value(json_object_get(conf, "lightning-dir"));
	init_dir = dir ? strdup(dir) : NULL;
	init_cwd = getcwd(buf, sizeof(buf)) ? strdup(buf) : NULL;
	/* As the plugins do: a call lightningd never answers fails. */
	rpc_set_timeout(plugin_rpc(p), 5000);
	return NULL;
}

static char *t_setconfig(struct plugin *p, const char *name)
{
	if (!strcmp(name, "t-str") &&
	    !strcmp(plugin_opt_str(p, "t-str"), "reject-me"))
		return strdup("t-str: the application refused reject-me");
	return NULL;
}

static void t_shutdown(struct plugin *p)
{
	plugin_log(p, PLOG_INFO, "shutdown callback ran");
	json_decref(last_notif);
	json_decref(last_flat);
	json_decref(last_hook);
	free(init_dir);
	free(init_cwd);
	last_notif = last_flat = last_hook = NULL;
	init_dir = init_cwd = NULL;
}

static const struct plugin_spec test_spec = {
	.name = "test-plugin",
	.options = test_options,
	.num_options = sizeof(test_options) / sizeof(test_options[0]),
	.methods = test_methods,
	.num_methods = sizeof(test_methods) / sizeof(test_methods[0]),
	.subscriptions = test_subs,
	.num_subscriptions = sizeof(test_subs) / sizeof(test_subs[0]),
	.hooks = test_hooks,
	.num_hooks = sizeof(test_hooks) / sizeof(test_hooks[0]),
	.notification_topics = test_topics,
	.num_notification_topics = 1,
	.custommessages = test_custommsgs,
	.num_custommessages = 2,
	.dynamic = true,
	.init = t_init,
	.on_setconfig = t_setconfig,
	.shutdown = t_shutdown,
};

/* ------------------------------------------------------------------ */
/* (a) manifest                                                        */

static json_t *parse_or_die(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	if (!v) {
		printf("# test bug: bad JSON (%s): %s\n", e.text, text);
		abort();
	}
	return v;
}

/* CHECK that @got equals the JSON in @want_text exactly (types included:
 * jansson never equates an integer with a real); print both if not. */
static void check_json(const json_t *got, const char *want_text,
		       const char *what)
{
	json_t *want = parse_or_die(want_text);
	bool eq = got && json_equal((json_t *)got, want);
	CHECK(eq, "%s", what);
	if (!eq) {
		char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS |
							JSON_ENCODE_ANY)
			      : NULL;
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS |
						   JSON_ENCODE_ANY);
		printf("#   got  %s\n#   want %s\n", g ? g : "(null)", w);
		free(g);
		free(w);
	}
	json_decref(want);
}

static const char test_manifest[] =
	"{\"options\":["
	"{\"name\":\"t-str\",\"type\":\"string\",\"description\":\"a string\","
	"\"default\":\"hello\",\"dynamic\":true},"
	"{\"name\":\"t-int\",\"type\":\"int\",\"description\":\"an int\","
	"\"default\":30,\"dynamic\":true},"
	"{\"name\":\"t-bool\",\"type\":\"bool\",\"description\":\"a bool\","
	"\"default\":true,\"dynamic\":true},"
	"{\"name\":\"t-bool-off\",\"type\":\"bool\",\"description\":"
	"\"a bool defaulting off\",\"default\":false},"
	"{\"name\":\"t-flag\",\"type\":\"flag\",\"description\":\"a flag\","
	"\"dynamic\":true},"
	"{\"name\":\"t-double\",\"type\":\"string\",\"description\":"
	"\"a double\",\"default\":\"0.05\",\"dynamic\":true},"
	"{\"name\":\"t-choice\",\"type\":\"string\",\"description\":"
	"\"a choice\",\"default\":\"medium\",\"dynamic\":true},"
	"{\"name\":\"t-smulti\",\"type\":\"string\",\"description\":"
	"\"strings\",\"multi\":true},"
	"{\"name\":\"t-imulti\",\"type\":\"int\",\"description\":\"ints\","
	"\"multi\":true},"
	"{\"name\":\"t-static\",\"type\":\"int\",\"description\":"
	"\"not dynamic\",\"default\":5},"
	"{\"name\":\"t-nodef\",\"type\":\"string\",\"description\":"
	"\"no default\"}],"
	"\"rpcmethods\":["
	"{\"name\":\"t-echo\",\"usage\":\"name [count] [amount] [enabled] "
	"[scid]\",\"description\":\"Echo typed parameters\"},"
	"{\"name\":\"t-opts\",\"usage\":\"\",\"description\":\"Option values\"},"
	"{\"name\":\"t-rpc\",\"usage\":\"\",\"description\":\"Call getinfo\"},"
	"{\"name\":\"t-log\",\"usage\":\"\",\"description\":\"Log and notify\"},"
	"{\"name\":\"t-fail\",\"usage\":\"\",\"description\":\"Always fails\"},"
	"{\"name\":\"t-last\",\"usage\":\"\",\"description\":"
	"\"What notifications and hooks saw\"}],"
	"\"subscriptions\":[\"connect\",\"t-flat\",\"shutdown\"],"
	"\"hooks\":["
	"{\"name\":\"custommsg\",\"filters\":[32769,32771]},"
	"{\"name\":\"peer_connected\",\"before\":[\"a-plugin\"],"
	"\"after\":[\"b-plugin\",\"c-plugin\"]}],"
	"\"notifications\":[{\"method\":\"t-event\"}],"
	"\"custommessages\":[32769,32771],"
	"\"nonnumericids\":true,"
	"\"dynamic\":true}";

static void test_manifest_json(void)
{
	json_t *m = plugin_manifest_json(&test_spec);

	check_json(m, test_manifest,
		   "manifest of the full test spec, exact JSON");
	/* The properties the brief cares about, one by one, so a failure
	 * says which. */
	CHECK(json_is_true(json_object_get(m, "nonnumericids")),
	      "nonnumericids is true");
	CHECK(json_is_integer(json_object_get(
		      json_array_get(json_object_get(m, "options"), 1),
		      "default")),
	      "int default is a JSON integer");
	CHECK(json_is_boolean(json_object_get(
		      json_array_get(json_object_get(m, "options"), 2),
		      "default")),
	      "bool default is a JSON boolean");
	json_decref(m);

	/* A minimal spec: "shutdown" subscribed even with no
	 * subscriptions, empty arrays present, dynamic false. */
	{
		static const struct plugin_spec empty = {.name = "empty"};
		m = plugin_manifest_json(&empty);
		check_json(m,
			   "{\"options\":[],\"rpcmethods\":[],"
			   "\"subscriptions\":[\"shutdown\"],\"hooks\":[],"
			   "\"notifications\":[],\"custommessages\":[],"
			   "\"nonnumericids\":true,\"dynamic\":false}",
			   "manifest of an empty spec");
		json_decref(m);
	}

	/* A spec already subscribing to shutdown: not listed twice. */
	{
		static const struct plugin_subscription subs[] = {
			{.topic = "shutdown", .handler = on_flat},
			{.topic = "forward_event", .handler = on_flat}};
		static const struct plugin_spec s = {
			.name = "own-shutdown", .subscriptions = subs,
			.num_subscriptions = 2};
		m = plugin_manifest_json(&s);
		check_json(json_object_get(m, "subscriptions"),
			   "[\"shutdown\",\"forward_event\"]",
			   "explicit shutdown subscription not duplicated");
		json_decref(m);
	}

	/* lenient_option_types: everything but flags declared "string",
	 * defaults as given. */
	{
		struct plugin_spec s = test_spec;
		s.lenient_option_types = true;
		m = plugin_manifest_json(&s);
		check_json(json_object_get(m, "options"),
			   "[{\"name\":\"t-str\",\"type\":\"string\","
			   "\"description\":\"a string\",\"default\":\"hello\","
			   "\"dynamic\":true},"
			   "{\"name\":\"t-int\",\"type\":\"string\","
			   "\"description\":\"an int\",\"default\":\"30\","
			   "\"dynamic\":true},"
			   "{\"name\":\"t-bool\",\"type\":\"string\","
			   "\"description\":\"a bool\",\"default\":\"true\","
			   "\"dynamic\":true},"
			   "{\"name\":\"t-bool-off\",\"type\":\"string\","
			   "\"description\":\"a bool defaulting off\","
			   "\"default\":\"false\"},"
			   "{\"name\":\"t-flag\",\"type\":\"flag\","
			   "\"description\":\"a flag\",\"dynamic\":true},"
			   "{\"name\":\"t-double\",\"type\":\"string\","
			   "\"description\":\"a double\",\"default\":\"0.05\","
			   "\"dynamic\":true},"
			   "{\"name\":\"t-choice\",\"type\":\"string\","
			   "\"description\":\"a choice\",\"default\":\"medium\","
			   "\"dynamic\":true},"
			   "{\"name\":\"t-smulti\",\"type\":\"string\","
			   "\"description\":\"strings\",\"multi\":true},"
			   "{\"name\":\"t-imulti\",\"type\":\"string\","
			   "\"description\":\"ints\",\"multi\":true},"
			   "{\"name\":\"t-static\",\"type\":\"string\","
			   "\"description\":\"not dynamic\",\"default\":\"5\"},"
			   "{\"name\":\"t-nodef\",\"type\":\"string\","
			   "\"description\":\"no default\"}]",
			   "lenient option types: declared as strings");
		json_decref(m);
	}
}

/* ------------------------------------------------------------------ */
/* (b) option parsing                                                  */

static const struct plugin_option o_str = {.name = "o-str",
					   .type = POPT_STRING};
static const struct plugin_option o_choice = {
	.name = "o-choice", .type = POPT_STRING, .choices = level_choices};
static const struct plugin_option o_int = {.name = "o-int", .type = POPT_INT,
					   .has_range = true, .min = 1,
					   .max = 100};
static const struct plugin_option o_int_free = {.name = "o-int-free",
						.type = POPT_INT};
static const struct plugin_option o_bool = {.name = "o-bool",
					    .type = POPT_BOOL};
static const struct plugin_option o_flag = {.name = "o-flag",
					    .type = POPT_FLAG};
static const struct plugin_option o_double = {
	.name = "o-double", .type = POPT_DOUBLE, .has_range = true,
	.min = 0, .max = 1};
static const struct plugin_option o_double_free = {.name = "o-double-free",
						   .type = POPT_DOUBLE};
static const struct plugin_option o_smulti = {.name = "o-smulti",
					      .type = POPT_STRING_MULTI};
static const struct plugin_option o_imulti = {
	.name = "o-imulti", .type = POPT_INT_MULTI, .has_range = true,
	.min = 0, .max = 10};

struct opt_case {
	const struct plugin_option *opt;
	const char *in;	   /* JSON as lightningd sends it */
	const char *want;  /* canonical JSON, or NULL for an error */
	const char *err;   /* substring of the error (besides the name) */
};

static const struct opt_case opt_cases[] = {
	/* strings */
	{&o_str, "\"abc\"", "\"abc\"", NULL},
	{&o_str, "\"\"", "\"\"", NULL},
	{&o_str, "5", "\"5\"", NULL},
	{&o_str, "null", NULL, "expected"},
	{&o_str, "{}", NULL, "expected"},
	{&o_str, "[\"a\"]", NULL, "expected"},
	{&o_choice, "\"low\"", "\"low\"", NULL},
	{&o_choice, "\"high\"", "\"high\"", NULL},
	{&o_choice, "\"LOW\"", NULL, "must be one of: low, medium, high"},
	{&o_choice, "\"\"", NULL, "must be one of"},
	/* ints: as strings (setconfig) and as numbers (init) */
	{&o_int, "\"42\"", "42", NULL},
	{&o_int, "42", "42", NULL},
	{&o_int, "1", "1", NULL},
	{&o_int, "\"100\"", "100", NULL},
	{&o_int, "0", NULL, "out of range"},
	{&o_int, "\"101\"", NULL, "out of range"},
	{&o_int, "-5", NULL, "out of range"},
	{&o_int, "\"4x\"", NULL, "not an integer"},
	{&o_int, "\"\"", NULL, "not an integer"},
	{&o_int, "4.5", NULL, "not an integer"},
	{&o_int, "true", NULL, "not an integer"},
	{&o_int, "\"99999999999999999999\"", NULL, "not an integer"},
	{&o_int, "[]", NULL, "expected"},
	{&o_int_free, "-9223372036854775808", "-9223372036854775808", NULL},
	{&o_int_free, "\"9223372036854775807\"", "9223372036854775807", NULL},
	/* bools */
	{&o_bool, "true", "true", NULL},
	{&o_bool, "false", "false", NULL},
	{&o_bool, "\"true\"", "true", NULL},
	{&o_bool, "\"false\"", "false", NULL},
	{&o_bool, "\"yes\"", "true", NULL},
	{&o_bool, "\"off\"", "false", NULL},
	{&o_bool, "1", "true", NULL},
	{&o_bool, "\"0\"", "false", NULL},
	{&o_bool, "\"maybe\"", NULL, "not a boolean"},
	{&o_bool, "2", NULL, "not a boolean"},
	{&o_bool, "null", NULL, "expected"},
	{&o_flag, "true", "true", NULL},
	{&o_flag, "\"false\"", "false", NULL},
	{&o_flag, "\"x\"", NULL, "not a boolean"},
	/* doubles: lightningd sends them as strings (declared "string") */
	{&o_double, "\"0.25\"", "0.25", NULL},
	{&o_double, "0.25", "0.25", NULL},
	{&o_double, "1", "1.0", NULL},
	{&o_double, "\"0\"", "0.0", NULL},
	{&o_double, "\"1e-3\"", "0.001", NULL},
	{&o_double, "\"1.5\"", NULL, "out of range"},
	{&o_double, "\"-0.1\"", NULL, "out of range"},
	{&o_double, "\"nan\"", NULL, "not a number"},
	{&o_double, "\"inf\"", NULL, "not a number"},
	{&o_double, "\"abc\"", NULL, "not a number"},
	{&o_double, "\"0.5x\"", NULL, "not a number"},
	{&o_double, "false", NULL, "not a number"},
	{&o_double_free, "\"-12.5\"", "-12.5", NULL},
	{&o_double_free, "\"1e300\"", "1e300", NULL},
	{&o_double_free, "\"1e400\"", NULL, "not a number"},
	/* multi: an array, or a single value as one entry */
	{&o_smulti, "[\"a\",\"b\"]", "[\"a\",\"b\"]", NULL},
	{&o_smulti, "\"single\"", "[\"single\"]", NULL},
	{&o_smulti, "[]", "[]", NULL},
	{&o_smulti, "[1,true]", "[\"1\",\"true\"]", NULL},
	{&o_smulti, "[\"ok\",{}]", NULL, "expected"},
	{&o_imulti, "[1,\"2\",3]", "[1,2,3]", NULL},
	{&o_imulti, "\"7\"", "[7]", NULL},
	{&o_imulti, "4", "[4]", NULL},
	{&o_imulti, "[1,\"x\"]", NULL, "not an integer"},
	{&o_imulti, "[1,11]", NULL, "out of range"},
};

static void test_option_parse(void)
{
	for (size_t i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		json_t *in = parse_or_die(c->in), *out = (json_t *)1;
		char *err = plugin_option_parse(c->opt, in, &out);
		char what[160];

		snprintf(what, sizeof(what), "%s = %s", c->opt->name, c->in);
		if (c->want) {
			CHECK(err == NULL, "%s accepted (error: %s)", what,
			      err ? err : "none");
			if (!err)
				check_json(out, c->want, what);
		} else {
			CHECK(err && strstr(err, c->opt->name) &&
				      strstr(err, c->err),
			      "%s refused naming the option and '%s': %s", what,
			      c->err, err ? err : "(accepted)");
			CHECK(out == NULL, "%s: *out NULL on error", what);
		}
		free(err);
		if (out != (json_t *)1)
			json_decref(out);
		json_decref(in);
	}
}

/* ------------------------------------------------------------------ */
/* (c) end to end                                                      */

static char tmpdir[64];
static char sock_path[128];

struct child {
	pid_t pid;
	int to, from;		 /* child's stdin (write end), stdout */
	struct jsonrpc_framer *fr;
	char *transcript;	 /* every byte from the child's stdout */
	size_t tlen, tcap;
	int bad;		 /* stdout values the framer rejected */
	bool eof;
	json_t *inbox;		 /* messages not yet consumed */
	json_t *all;		 /* every message, in order */
	int listen_fd, rpc_fd;
	struct jsonrpc_framer *rpcfr;
	json_t *rpc_requests;	 /* every request on lightning-rpc */
	bool hold_rpc;		 /* keep requests unanswered in held */
	json_t *held;
};

static void child_read(struct child *ch)
{
	char buf[65536];
	ssize_t n = read(ch->from, buf, sizeof(buf));
	json_t *v;
	char *err;
	enum framer_result r;

	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return;
		ch->eof = true;
		return;
	}
	if (ch->tlen + (size_t)n > ch->tcap) {
		ch->tcap = (ch->tlen + (size_t)n) * 2;
		ch->transcript = realloc(ch->transcript, ch->tcap);
	}
	memcpy(ch->transcript + ch->tlen, buf, (size_t)n);
	ch->tlen += (size_t)n;
	jsonrpc_framer_feed(ch->fr, buf, (size_t)n);
	while ((r = jsonrpc_framer_next(ch->fr, &v, &err)) != FRAMER_NEED_MORE) {
		if (r == FRAMER_BAD) {
			printf("# child stdout not JSON: %s\n", err);
			ch->bad++;
			free(err);
			continue;
		}
		json_array_append(ch->all, v);
		json_array_append_new(ch->inbox, v);
	}
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* The fake lightningd's answer to @req: getinfo answers, anything else
 * errors. */
static void rpc_answer(struct child *ch, const json_t *req)
{
	json_t *reply;
	char *s;

	if (!strcmp(json_string_value(json_object_get(req, "method")),
		    "getinfo"))
		reply = json_pack("{s:s,s:O,s:{s:s,s:s}}", "jsonrpc", "2.0",
				  "id", json_object_get(req, "id"), "result",
				  "id", "02fake", "alias", "FAKENODE");
	else
		reply = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0",
				  "id", json_object_get(req, "id"), "error",
				  "code", -32601, "message", "Unknown command");
	s = json_dumps(reply, JSON_COMPACT);
	write_all(ch->rpc_fd, s, strlen(s));
	write_all(ch->rpc_fd, "\n\n", 2);
	free(s);
	json_decref(reply);
}

static void rpc_serve(struct child *ch)
{
	char buf[65536];
	ssize_t n = read(ch->rpc_fd, buf, sizeof(buf));
	json_t *v;
	char *err;

	if (n <= 0) {
		close(ch->rpc_fd);
		ch->rpc_fd = -1;
		return;
	}
	jsonrpc_framer_feed(ch->rpcfr, buf, (size_t)n);
	while (jsonrpc_framer_next(ch->rpcfr, &v, &err) != FRAMER_NEED_MORE) {
		if (!v) {
			free(err);
			continue;
		}
		json_array_append(ch->rpc_requests, v);
		if (ch->hold_rpc)
			json_array_append(ch->held, v);
		else
			rpc_answer(ch, v);
		json_decref(v);
	}
}

/* One round of I/O: child stdout, the RPC listener and connection. */
static bool pump(struct child *ch, int timeout_ms)
{
	struct pollfd p[3];
	int n = 0, r;

	if (!ch->eof)
		p[n++] = (struct pollfd){.fd = ch->from, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = ch->listen_fd, .events = POLLIN};
	if (ch->rpc_fd >= 0)
		p[n++] = (struct pollfd){.fd = ch->rpc_fd, .events = POLLIN};
	r = poll(p, (nfds_t)n, timeout_ms);
	if (r <= 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == ch->from)
			child_read(ch);
		else if (p[i].fd == ch->listen_fd) {
			int c = accept(ch->listen_fd, NULL, NULL);
			if (c >= 0) {
				if (ch->rpc_fd >= 0)
					close(ch->rpc_fd);
				ch->rpc_fd = c;
			}
		} else if (p[i].fd == ch->rpc_fd)
			rpc_serve(ch);
	}
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Pump until @match finds a message in the inbox (removed and returned,
 * new reference) or 10 s pass (NULL): the bound turns a hang into a
 * failure. */
static json_t *wait_for(struct child *ch,
			bool (*match)(const json_t *msg, const void *arg),
			const void *arg)
{
	uint64_t deadline = now_ms() + 10000;

	for (;;) {
		for (size_t i = 0; i < json_array_size(ch->inbox); i++) {
			json_t *m = json_array_get(ch->inbox, i);
			if (match(m, arg)) {
				json_incref(m);
				json_array_remove(ch->inbox, i);
				return m;
			}
		}
		if (ch->eof || now_ms() > deadline)
			return NULL;
		pump(ch, 200);
	}
}

static bool is_reply_to(const json_t *msg, const void *arg)
{
	return !json_object_get(msg, "method") &&
	       json_equal(json_object_get(msg, "id"), (json_t *)arg);
}

struct log_match {
	const char *level, *substr;
};

static bool is_log(const json_t *msg, const void *arg)
{
	const struct log_match *lm = arg;
	const json_t *params = json_object_get(msg, "params");
	const char *level = json_string_value(json_object_get(params, "level"));
	const char *text = json_string_value(json_object_get(params, "message"));
	const char *method = json_string_value(json_object_get(msg, "method"));
	return method && !strcmp(method, "log") && level && text &&
	       !strcmp(level, lm->level) && strstr(text, lm->substr);
}

static bool is_notification(const json_t *msg, const void *arg)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	return method && !strcmp(method, arg) && !json_object_get(msg, "id");
}

static void send_text(struct child *ch, const char *text)
{
	write_all(ch->to, text, strlen(text));
}

static void send_json_msg(struct child *ch, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	send_text(ch, s);
	send_text(ch, "\n\n");
	free(s);
	json_decref(msg);
}

/* Send a request with a string id without waiting for its reply. */
static void send_request(struct child *ch, const char *id, const char *method,
			 const char *params_text)
{
	json_t *msg = json_pack("{s:s,s:s,s:s}", "jsonrpc", "2.0", "id", id,
				"method", method);
	if (params_text)
		json_object_set_new(msg, "params", parse_or_die(params_text));
	send_json_msg(ch, msg);
}

/* Send a request with a string id and wait for its reply (new ref). */
static json_t *request(struct child *ch, const char *id, const char *method,
		       const char *params_text)
{
	json_t *jid = json_string(id), *reply;

	send_request(ch, id, method, params_text);
	reply = wait_for(ch, is_reply_to, jid);
	if (!reply)
		printf("# no reply to %s (%s)\n", id, method);
	json_decref(jid);
	return reply;
}

static void notify(struct child *ch, const char *method,
		   const char *params_text)
{
	json_t *msg = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
	if (params_text)
		json_object_set_new(msg, "params", parse_or_die(params_text));
	send_json_msg(ch, msg);
}

static const json_t *result_of(const json_t *reply)
{
	return json_object_get(reply, "result");
}

static int error_code(const json_t *reply)
{
	return (int)json_integer_value(
		json_object_get(json_object_get(reply, "error"), "code"));
}

static const char *error_message(const json_t *reply)
{
	const char *m = json_string_value(
		json_object_get(json_object_get(reply, "error"), "message"));
	return m ? m : "";
}

static void spawn(struct child *ch, const struct plugin_spec *spec)
{
	int in[2], out[2];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(ch, 0, sizeof(*ch));
	ch->fr = jsonrpc_framer_new();
	ch->rpcfr = jsonrpc_framer_new();
	ch->inbox = json_array();
	ch->all = json_array();
	ch->rpc_requests = json_array();
	ch->held = json_array();
	ch->rpc_fd = -1;
	ch->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(addr.sun_path, sock_path);
	unlink(sock_path);
	if (bind(ch->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(ch->listen_fd, 4) != 0 || pipe(in) != 0 || pipe(out) != 0)
		abort();

	/* The child inherits stdio buffers: flush so TAP output is not
	 * written twice (or into the plugin's stdout). */
	fflush(stdout);
	fflush(stderr);
	ch->pid = fork();
	if (ch->pid < 0)
		abort();
	if (ch->pid == 0) {
		char *argv[] = {(char *)"test-plugin", NULL};
		int code;
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		close(ch->listen_fd);
		code = plugin_main(spec, 1, argv, NULL);
		exit(code);
	}
	close(in[0]);
	close(out[1]);
	ch->to = in[1];
	ch->from = out[0];
}

/* Read stdout to EOF (closing stdin first if @close_stdin), reap the
 * child. Returns its exit status, or -1 if it did not exit normally. */
static int finish(struct child *ch, bool close_stdin)
{
	int status = 0;
	uint64_t deadline = now_ms() + 15000;

	if (close_stdin && ch->to >= 0) {
		close(ch->to);
		ch->to = -1;
	}
	while (!ch->eof && now_ms() < deadline)
		pump(ch, 200);
	if (!ch->eof)
		kill(ch->pid, SIGKILL);
	if (waitpid(ch->pid, &status, 0) != ch->pid)
		return -1;
	if (WIFSIGNALED(status))
		printf("# child killed by signal %d\n", WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void child_free(struct child *ch)
{
	if (ch->to >= 0)
		close(ch->to);
	close(ch->from);
	if (ch->rpc_fd >= 0)
		close(ch->rpc_fd);
	close(ch->listen_fd);
	unlink(sock_path);
	jsonrpc_framer_free(ch->fr);
	jsonrpc_framer_free(ch->rpcfr);
	json_decref(ch->inbox);
	json_decref(ch->all);
	json_decref(ch->rpc_requests);
	json_decref(ch->held);
	free(ch->transcript);
}

/* The whole stdout transcript must be JSON values, each followed by
 * exactly "\n\n", and nothing else. */
static void check_transcript(struct child *ch, const char *who)
{
	size_t off = 0, values = 0;
	bool ok = ch->bad == 0;

	while (ok && off < ch->tlen) {
		json_error_t e;
		json_t *v = json_loadb(ch->transcript + off, ch->tlen - off,
				       JSON_DISABLE_EOF_CHECK, &e);
		if (!v) {
			printf("# %s: not JSON at byte %zu: %s\n", who, off,
			       e.text);
			ok = false;
			break;
		}
		json_decref(v);
		off += (size_t)e.position;
		if (ch->tlen - off < 2 || ch->transcript[off] != '\n' ||
		    ch->transcript[off + 1] != '\n') {
			printf("# %s: value %zu not followed by \\n\\n\n", who,
			       values);
			ok = false;
			break;
		}
		off += 2;
		values++;
	}
	CHECK(ok && values == json_array_size(ch->all) && values > 0,
	      "%s: stdout is only JSON, each message ending in \\n\\n (%zu "
	      "messages, %zu bytes)",
	      who, values, ch->tlen);
}

static const char init_options[] =
	"{\"t-str\":\"world\",\"t-int\":42,\"t-bool\":false,"
	"\"t-bool-off\":false,\"t-flag\":true,\"t-double\":\"0.25\","
	"\"t-choice\":\"high\",\"t-smulti\":[\"a\",\"b\"],"
	"\"t-imulti\":[1,2,3],\"t-static\":5,\"not-ours\":\"ignored\"}";

/* init params with @options and a configuration pointing at tmpdir. */
static char *init_params_text(const char *options)
{
	json_t *p = json_pack("{s:o,s:{s:s,s:s,s:b,s:s}}", "options",
			      parse_or_die(options), "configuration",
			      "lightning-dir", tmpdir, "rpc-file",
			      "lightning-rpc", "startup", 1, "network",
			      "regtest");
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

struct param_case {
	const char *params;
	int code;	   /* 0: success */
	const char *want;  /* success: expected subset; error: substring */
};

static const struct param_case echo_cases[] = {
	/* positional */
	{"[\"alice\",3,\"1000msat\",true,\"103x1x0\"]", 0,
	 "{\"name\":\"alice\",\"count\":3,\"have_count\":true,"
	 "\"amount_msat\":1000,\"enabled\":true,\"scid\":\"103x1x0\"}"},
	{"[\"alice\"]", 0,
	 "{\"name\":\"alice\",\"count\":-1,\"have_count\":false,"
	 "\"amount_msat\":0,\"enabled\":false,\"scid\":null}"},
	/* object, numbers as strings as lightning-cli sends them */
	{"{\"name\":\"bob\",\"count\":\"7\",\"amount\":2500}", 0,
	 "{\"name\":\"bob\",\"count\":7,\"have_count\":true,"
	 "\"amount_msat\":2500,\"enabled\":false,\"scid\":null}"},
	{"{\"enabled\":\"true\",\"name\":\"carol\"}", 0,
	 "{\"name\":\"carol\",\"enabled\":true}"},
	/* null for an optional param means absent */
	{"[\"dave\",null,null,null,null]", 0,
	 "{\"name\":\"dave\",\"have_count\":false}"},
	/* errors */
	{"{}", -32602, "missing required parameter: name"},
	{"[]", -32602, "missing required parameter: name"},
	{"{\"name\":null}", -32602, "missing required parameter: name"},
	{"{\"name\":5}", -32602, "name: should be a string"},
	{"{\"name\":\"x\",\"count\":\"abc\"}", -32602,
	 "count: should be an integer"},
	{"{\"name\":\"x\",\"count\":1.5}", -32602, "count"},
	{"{\"name\":\"x\",\"amount\":\"12sat\"}", -32602,
	 "amount: should be an amount in msat"},
	{"{\"name\":\"x\",\"amount\":-1}", -32602, "amount"},
	{"{\"name\":\"x\",\"enabled\":\"yes\"}", -32602, "enabled"},
	{"{\"name\":\"x\",\"scid\":\"1x2\"}", -32602,
	 "scid: should be a short_channel_id"},
	{"{\"name\":\"x\",\"bogus\":1}", -32602, "unknown parameter: bogus"},
	{"[\"a\",1,\"1msat\",true,\"1x1x1\",\"extra\"]", -32602,
	 "too many parameters"},
	{"[5]", -32602, "name"},
};

/* Is every member of @want equal in @got? */
static bool json_subset(const json_t *got, const json_t *want)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)want, k, v) {
		if (!json_equal(json_object_get(got, k), v))
			return false;
	}
	return true;
}

static void test_end_to_end(void)
{
	struct child ch;
	json_t *r, *jid;
	char *ip;
	int status;

	spawn(&ch, &test_spec);

	/* getmanifest (numeric id, as older lightningd sends). */
	send_text(&ch, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		       "\"getmanifest\",\"params\":{\"allow-deprecated-apis\":"
		       "false}}\n\n");
	jid = json_integer(1);
	r = wait_for(&ch, is_reply_to, jid);
	json_decref(jid);
	check_json(result_of(r), test_manifest,
		   "getmanifest answers the manifest built from the tables");
	CHECK(r && json_is_integer(json_object_get(r, "id")),
	      "numeric id echoed as a number");
	json_decref(r);

	/* Methods and setconfig before init: "not ready". */
	r = request(&ch, "cli:t-echo#1", "t-echo", "[\"early\"]");
	CHECK(r && error_code(r) == ERR_NOT_READY,
	      "method before init: error %d (%s)", error_code(r),
	      error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#1", "setconfig",
		    "{\"config\":\"t-int\",\"val\":\"50\"}");
	CHECK(r && error_code(r) == ERR_NOT_READY,
	      "setconfig before init: error %d", error_code(r));
	json_decref(r);
	/* A hook before init is still answered. */
	r = request(&ch, "hook#0", "custommsg",
		    "{\"peer_id\":\"02aa\",\"payload\":\"8001\"}");
	check_json(result_of(r), "{\"result\":\"continue\"}",
		   "hook before init answered continue");
	json_decref(r);

	/* init, options typed as lightningd sends them. */
	ip = init_params_text(init_options);
	r = request(&ch, "init#1", "init", ip);
	free(ip);
	check_json(result_of(r), "{}", "init succeeds with {}");
	json_decref(r);

	r = request(&ch, "cli:t-opts#2", "t-opts", "[]");
	check_json(result_of(r),
		   "{\"t-str\":\"world\",\"t-int\":42,\"t-bool\":false,"
		   "\"t-bool-off\":false,\"t-flag\":true,\"t-double\":0.25,"
		   "\"t-choice\":\"high\",\"t-smulti\":[\"a\",\"b\"],"
		   "\"t-imulti\":[\"1\",\"2\",\"3\"],\"t-static\":5,"
		   "\"t-nodef\":null,\"json-t-int\":42,\"json-t-nodef\":null,"
		   "\"set\":{\"t-str\":true,\"t-int\":true,\"t-static\":false,"
		   "\"t-bool-off\":false},\"booted\":true,"
		   "\"name\":\"test-plugin\"}",
		   "option values after init (set = differs from default)");
	json_decref(r);

	r = request(&ch, "cli:t-last#3", "t-last", NULL);
	{
		const char *dir = json_string_value(
			json_object_get(result_of(r), "init_dir"));
		const char *cwd = json_string_value(
			json_object_get(result_of(r), "init_cwd"));
		char real[512];
		CHECK(dir && !strcmp(dir, tmpdir),
		      "init callback saw lightning-dir %s", dir ? dir : "-");
		CHECK(cwd && realpath(tmpdir, real) && !strcmp(cwd, real),
		      "init ran in the lightning-dir (cwd %s)",
		      cwd ? cwd : "-");
		CHECK_EQ_INT(json_integer_value(json_object_get(result_of(r),
								 "hook_count")),
			     0, "hook before init did not run the handler");
	}
	json_decref(r);

	/* Parameters: table of arrays/objects, good and bad. */
	for (size_t i = 0; i < sizeof(echo_cases) / sizeof(echo_cases[0]);
	     i++) {
		const struct param_case *c = &echo_cases[i];
		char id[40];
		snprintf(id, sizeof(id), "cli:t-echo#%zu", 100 + i);
		r = request(&ch, id, "t-echo", c->params);
		if (c->code == 0) {
			json_t *want = parse_or_die(c->want);
			bool ok = r && result_of(r) &&
				  json_subset(result_of(r), want);
			CHECK(ok, "t-echo %s", c->params);
			if (!ok) {
				char *g = r ? json_dumps(r, JSON_COMPACT) : NULL;
				printf("#   got %s\n#   want ⊇ %s\n",
				       g ? g : "(none)", c->want);
				free(g);
			}
			json_decref(want);
		} else {
			CHECK(r && error_code(r) == c->code &&
				      strstr(error_message(r), c->want),
			      "t-echo %s -> %d '%s' (want %d '%s')", c->params,
			      error_code(r), error_message(r), c->code,
			      c->want);
		}
		json_decref(r);
	}
	/* The command knows its id and method. */
	r = request(&ch, "cli:t-echo#777", "t-echo", "[\"me\"]");
	CHECK(r && !strcmp(json_string_value(json_object_get(result_of(r),
							     "id")),
			   "cli:t-echo#777") &&
		      !strcmp(json_string_value(json_object_get(result_of(r),
								"method")),
			      "t-echo"),
	      "command_id and command_method");
	json_decref(r);
	/* params that are neither array nor object. */
	r = request(&ch, "cli:t-echo#778", "t-echo", "\"str\"");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS,
	      "string params refused with -32602 (%s)", error_message(r));
	json_decref(r);
	/* No params at all: like {}. */
	r = request(&ch, "cli:t-echo#779", "t-echo", NULL);
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS &&
		      strstr(error_message(r), "name"),
	      "absent params: missing name (%s)", error_message(r));
	json_decref(r);

	/* command_fail with data. */
	r = request(&ch, "cli:t-fail#1", "t-fail", "{}");
	check_json(json_object_get(r, "error"),
		   "{\"code\":1101,\"message\":\"no channel 1x2x3\","
		   "\"data\":{\"scid\":\"1x2x3\"}}",
		   "command_fail: code, message and data");
	json_decref(r);

	/* Unknown method. */
	r = request(&ch, "cli:nope#1", "no-such-method", "{}");
	CHECK(r && error_code(r) == ERR_METHOD_NOT_FOUND &&
		      strstr(error_message(r), "no-such-method"),
	      "unknown method: %d %s", error_code(r), error_message(r));
	json_decref(r);

	/* setconfig: dynamic option, value as a string. */
	r = request(&ch, "cli:setconfig#2", "setconfig",
		    "{\"config\":\"t-int\",\"val\":\"77\"}");
	check_json(result_of(r), "{}", "setconfig t-int=77 accepted");
	json_decref(r);
	{
		struct log_match lm = {"info", "t-int changed by setconfig"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "setconfig logged the change");
		json_decref(r);
	}
	r = request(&ch, "cli:setconfig#3", "setconfig",
		    "{\"config\":\"t-int\",\"val\":\"1000\"}");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS &&
		      strstr(error_message(r), "t-int") &&
		      strstr(error_message(r), "range"),
	      "setconfig out of range refused: %s", error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#4", "setconfig",
		    "{\"config\":\"t-static\",\"val\":\"6\"}");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS &&
		      strstr(error_message(r), "not dynamic"),
	      "setconfig of a non-dynamic option refused: %s",
	      error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#5", "setconfig",
		    "{\"config\":\"t-str\",\"val\":\"reject-me\"}");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS &&
		      strstr(error_message(r), "refused reject-me"),
	      "on_setconfig refusal passed on: %s", error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#6", "setconfig",
		    "{\"config\":\"t-choice\",\"val\":\"extreme\"}");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS &&
		      strstr(error_message(r), "must be one of"),
	      "setconfig outside the choices refused: %s", error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#7", "setconfig",
		    "{\"config\":\"no-such-option\",\"val\":\"1\"}");
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS,
	      "setconfig of an unknown option refused: %s", error_message(r));
	json_decref(r);
	r = request(&ch, "cli:setconfig#8", "setconfig",
		    "{\"config\":\"t-double\",\"val\":\"0.75\"}");
	check_json(result_of(r), "{}", "setconfig t-double=0.75");
	json_decref(r);
	r = request(&ch, "cli:setconfig#9", "setconfig",
		    "{\"config\":\"t-bool\",\"val\":\"true\"}");
	check_json(result_of(r), "{}", "setconfig t-bool=true");
	json_decref(r);
	r = request(&ch, "cli:setconfig#10", "setconfig",
		    "{\"config\":\"t-flag\",\"val\":false}");
	check_json(result_of(r), "{}", "setconfig t-flag=false");
	json_decref(r);
	r = request(&ch, "cli:setconfig#11", "setconfig",
		    "{\"config\":\"t-flag\"}");
	check_json(result_of(r), "{}", "setconfig t-flag without val: on");
	json_decref(r);
	r = request(&ch, "cli:t-opts#12", "t-opts", "{}");
	{
		json_t *want = parse_or_die(
			"{\"t-str\":\"world\",\"t-int\":77,\"t-bool\":true,"
			"\"t-flag\":true,\"t-double\":0.75,"
			"\"t-choice\":\"high\",\"t-static\":5,"
			"\"json-t-int\":77}");
		bool ok = r && json_subset(result_of(r), want);
		char *g = r ? json_dumps(result_of(r), JSON_COMPACT) : NULL;
		CHECK(ok, "after setconfig: t-int 77 (refusals left values "
			  "unchanged): %s",
		      g ? g : "-");
		free(g);
		json_decref(want);
	}
	json_decref(r);

	/* Hooks: answered "continue" whatever the params. */
	r = request(&ch, "hook#1", "custommsg",
		    "{\"peer_id\":\"02bb\",\"payload\":\"8001abcd\"}");
	check_json(r ? json_object_get(r, "result") : NULL,
		   "{\"result\":\"continue\"}", "custommsg hook: continue");
	json_decref(r);
	r = request(&ch, "hook#2", "custommsg", "{\"garbage\":[1,{\"x\":null}]}");
	check_json(r ? json_object_get(r, "result") : NULL,
		   "{\"result\":\"continue\"}",
		   "custommsg hook with garbage params: continue");
	json_decref(r);
	r = request(&ch, "hook#3", "custommsg", "\"not even an object\"");
	check_json(r ? json_object_get(r, "result") : NULL,
		   "{\"result\":\"continue\"}",
		   "custommsg hook with string params: continue");
	json_decref(r);
	r = request(&ch, "hook#4", "peer_connected",
		    "{\"peer\":{\"id\":\"02cc\"}}");
	check_json(r ? json_object_get(r, "result") : NULL,
		   "{\"result\":\"continue\"}",
		   "hook without a handler: continue");
	json_decref(r);

	/* Notifications: wrapped {"connect": {...}} is unwrapped. */
	notify(&ch, "connect",
	       "{\"connect\":{\"id\":\"02dd\",\"direction\":\"in\"}}");
	/* Older flat shape passes as it is. */
	notify(&ch, "t-flat", "{\"id\":\"02ee\",\"n\":5}");
	/* A wrapper with another name is not unwrapped. */
	notify(&ch, "t-flat", "{\"other\":{\"n\":6}}");
	/* Not subscribed: ignored. */
	notify(&ch, "forward_event", "{\"forward_event\":{\"x\":1}}");
	r = request(&ch, "cli:t-last#4", "t-last", NULL);
	check_json(json_object_get(result_of(r), "notif"),
		   "{\"id\":\"02dd\",\"direction\":\"in\"}",
		   "wrapped notification delivered unwrapped");
	CHECK_EQ_INT(json_integer_value(
			     json_object_get(result_of(r), "notif_count")),
		     1, "one connect notification delivered");
	check_json(json_object_get(result_of(r), "flat"),
		   "{\"other\":{\"n\":6}}",
		   "a wrapper named differently is passed as it is");
	CHECK_EQ_INT(json_integer_value(
			     json_object_get(result_of(r), "flat_count")),
		     2, "both t-flat notifications delivered");
	check_json(json_object_get(result_of(r), "hook"),
		   "{\"garbage\":[1,{\"x\":null}]}",
		   "hook handler saw the garbage object");
	CHECK_EQ_INT(json_integer_value(
			     json_object_get(result_of(r), "hook_count")),
		     2, "hook handler ran for the two object params");
	json_decref(r);

	/* Malformed input: logged at warn, and the plugin keeps going. */
	send_text(&ch, "this is not json\n");
	{
		struct log_match lm = {"warn", "bad input"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "garbage line logged at warn: %s",
		      r ? json_string_value(json_object_get(
				  json_object_get(r, "params"), "message"))
			: "(no log)");
		json_decref(r);
	}
	send_text(&ch, "{\"jsonrpc\":\"2.0\",\"id\":\"x\", broken}\n\n");
	{
		struct log_match lm = {"warn", "malformed JSON"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "invalid JSON in braces logged at warn");
		json_decref(r);
	}
	r = request(&ch, "cli:t-echo#900", "t-echo", "[\"still here\"]");
	CHECK(r && !strcmp(json_string_value(json_object_get(result_of(r),
							     "name")),
			   "still here"),
	      "plugin answers after malformed input");
	json_decref(r);

	/* Without "jsonrpc": a notification is ignored; a request is not
	 * run (and is told why). */
	send_text(&ch, "{\"method\":\"connect\",\"params\":{\"connect\":"
		       "{\"id\":\"NOJSONRPC\"}}}\n\n");
	send_text(&ch, "{\"id\":\"nojr\",\"method\":\"t-fail\","
		       "\"params\":{}}\n\n");
	jid = json_string("nojr");
	r = wait_for(&ch, is_reply_to, jid);
	json_decref(jid);
	CHECK(r && error_code(r) == ERR_INVALID_REQUEST,
	      "request without jsonrpc not run: %d %s", error_code(r),
	      error_message(r));
	json_decref(r);
	r = request(&ch, "cli:t-last#5", "t-last", NULL);
	CHECK_EQ_INT(json_integer_value(
			     json_object_get(result_of(r), "notif_count")),
		     1, "notification without jsonrpc ignored");
	json_decref(r);

	/* Log notifications' exact shape, line splitting, custom
	 * notifications. */
	r = request(&ch, "cli:t-log#1", "t-log", "{}");
	check_json(result_of(r), "{}", "t-log answered");
	json_decref(r);
	{
		struct log_match lm = {"info", "hello 42"};
		r = wait_for(&ch, is_log, &lm);
		check_json(r,
			   "{\"jsonrpc\":\"2.0\",\"method\":\"log\","
			   "\"params\":{\"level\":\"info\","
			   "\"message\":\"hello 42\"}}",
			   "log notification, exact shape");
		json_decref(r);
		lm = (struct log_match){"debug", "line one"};
		r = wait_for(&ch, is_log, &lm);
		check_json(json_object_get(r, "params"),
			   "{\"level\":\"debug\",\"message\":\"line one\"}",
			   "multi-line log: first line alone");
		json_decref(r);
		lm = (struct log_match){"debug", "line two"};
		r = wait_for(&ch, is_log, &lm);
		check_json(json_object_get(r, "params"),
			   "{\"level\":\"debug\",\"message\":\"line two\"}",
			   "multi-line log: second line alone");
		json_decref(r);
		lm = (struct log_match){"error", "an error"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "error level spelled \"error\"");
		json_decref(r);
		r = wait_for(&ch, is_notification, "t-event");
		check_json(r,
			   "{\"jsonrpc\":\"2.0\",\"method\":\"t-event\","
			   "\"params\":{\"x\":1}}",
			   "custom notification");
		json_decref(r);
	}

	/* A method that calls lightning-rpc: the id chains to the
	 * command's id. */
	r = request(&ch, "cli:t-rpc#31", "t-rpc", "{}");
	check_json(result_of(r),
		   "{\"getinfo\":{\"id\":\"02fake\",\"alias\":\"FAKENODE\"}}",
		   "method result built from the lightning-rpc reply");
	json_decref(r);
	{
		json_t *req = json_array_get(ch.rpc_requests,
					     json_array_size(ch.rpc_requests) -
						     1);
		const char *id = json_string_value(json_object_get(req, "id"));
		const char *prefix = "cli:t-rpc#31/test-plugin:getinfo#";
		bool ok = id && !strncmp(id, prefix, strlen(prefix)) &&
			  strlen(id) > strlen(prefix) &&
			  strspn(id + strlen(prefix), "0123456789") ==
				  strlen(id + strlen(prefix));
		CHECK(ok, "lightning-rpc id is <command id>/<plugin>:<method>#<n>: "
			  "%s",
		      id ? id : "(none)");
		CHECK_EQ_STR(json_string_value(json_object_get(req, "method")),
			     "getinfo", "lightning-rpc method");
		CHECK_EQ_STR(json_string_value(json_object_get(req, "jsonrpc")),
			     "2.0", "lightning-rpc jsonrpc field");
	}

	/* init again: refused. */
	ip = init_params_text(init_options);
	r = request(&ch, "init#2", "init", ip);
	free(ip);
	CHECK(r && error_code(r) == ERR_INVALID_REQUEST,
	      "second init refused: %s", error_message(r));
	json_decref(r);

	/* shutdown: the callback runs, the process exits 0. */
	notify(&ch, "shutdown", "{}");
	status = finish(&ch, false);
	CHECK_EQ_INT(status, 0, "exit status 0 after the shutdown notification");
	{
		struct log_match lm = {"info", "shutdown callback ran"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "shutdown callback ran before exit");
		json_decref(r);
	}
	check_transcript(&ch, "main child");
	child_free(&ch);
}

/* An out-of-range option at init disables the plugin with a reason that
 * names the option; methods then say so; stdin EOF exits 0. */
static void test_disable_and_eof(void)
{
	struct child ch;
	json_t *r;
	char *ip;
	const char *reason;
	int status;

	spawn(&ch, &test_spec);
	ip = init_params_text("{\"t-int\":1000}");
	r = request(&ch, "init#1", "init", ip);
	free(ip);
	reason = json_string_value(json_object_get(result_of(r), "disable"));
	CHECK(reason && strstr(reason, "t-int") && strstr(reason, "range"),
	      "init with t-int=1000 answered {\"disable\": ...}: %s",
	      reason ? reason : "(none)");
	CHECK_EQ_INT(json_object_size(result_of(r)), 1,
		     "disable is the only member");
	json_decref(r);
	r = request(&ch, "cli:t-opts#1", "t-opts", "{}");
	CHECK(r && error_code(r) == ERR_NOT_READY &&
		      strstr(error_message(r), "disabled"),
	      "methods of a disabled plugin: %d %s", error_code(r),
	      error_message(r));
	json_decref(r);
	/* Still answers hooks. */
	r = request(&ch, "hook#1", "custommsg", "{}");
	check_json(result_of(r), "{\"result\":\"continue\"}",
		   "disabled plugin still answers hooks");
	json_decref(r);

	/* stdin EOF: clean exit, shutdown callback still runs. */
	close(ch.to);
	ch.to = -1;
	status = finish(&ch, true);
	CHECK_EQ_INT(status, 0, "exit status 0 on stdin EOF");
	{
		struct log_match lm = {"info", "shutdown callback ran"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "shutdown callback ran on EOF");
		json_decref(r);
	}
	check_transcript(&ch, "disabled child");
	child_free(&ch);

	/* A missing lightning-rpc also disables, naming the problem. */
	spawn(&ch, &test_spec);
	close(ch.listen_fd);
	unlink(sock_path);
	ch.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ip = init_params_text("{}");
	r = request(&ch, "init#1", "init", ip);
	free(ip);
	reason = json_string_value(json_object_get(result_of(r), "disable"));
	CHECK(reason && strstr(reason, "lightning-rpc"),
	      "no lightning-rpc socket: disable with a reason: %s",
	      reason ? reason : "(none)");
	json_decref(r);
	status = finish(&ch, true);
	CHECK_EQ_INT(status, 0, "exit 0 after EOF");
	child_free(&ch);

	/* EOF in the middle of a message: still a clean exit, with a
	 * warning about the truncation. */
	spawn(&ch, &test_spec);
	send_text(&ch, "{\"jsonrpc\":\"2.0\",\"id\":1,\"meth");
	close(ch.to);
	ch.to = -1;
	status = finish(&ch, true);
	CHECK_EQ_INT(status, 0, "exit 0 on EOF inside a message");
	{
		struct log_match lm = {"warn", "truncated"};
		r = wait_for(&ch, is_log, &lm);
		CHECK(r != NULL, "truncated EOF logged at warn");
		json_decref(r);
	}
	check_transcript(&ch, "truncated child");
	child_free(&ch);
}

/* Under simulated time a tick that arrives while a call to lightningd is
 * in flight moves the clock only once the call is answered: the jump is
 * not lightningd's latency, so the reply deadline must not fire on it. */
static void test_sim_tick_waits_for_calls(void)
{
	const uint64_t t0 = 1700000000000ULL;
	struct child ch;
	json_t *r, *jid;
	char *ip, params[64];

	snprintf(params, sizeof(params), "%llu", (unsigned long long)t0);
	setenv("HIVE_SIM_CLOCK", params, 1);
	spawn(&ch, &test_spec);
	unsetenv("HIVE_SIM_CLOCK");
	ip = init_params_text("{}");
	r = request(&ch, "init#1", "init", ip);
	free(ip);
	check_json(result_of(r), "{}", "sim clock: init succeeds");
	json_decref(r);

	ch.hold_rpc = true;
	send_request(&ch, "cli:t-rpc#1", "t-rpc", "{}");
	{
		uint64_t end = now_ms() + 10000;
		while (json_array_size(ch.held) == 0 && now_ms() < end)
			pump(&ch, 200);
	}
	CHECK_EQ_INT(json_array_size(ch.held), 1, "getinfo is in flight");

	/* One hour later, far past the 5 s reply deadline. */
	snprintf(params, sizeof(params), "{\"now_ms\":%llu}",
		 (unsigned long long)(t0 + 3600000));
	send_request(&ch, "tick#1", "hive-sim-tick", params);
	/* Two requests in turn, each sent after the previous reply: by the
	 * second reply the plugin has finished the pass that read the tick,
	 * timers included. */
	r = request(&ch, "cli:t-echo#1", "t-echo", "[\"a\"]");
	json_decref(r);
	r = request(&ch, "cli:t-echo#2", "t-echo", "[\"b\"]");
	CHECK(r && result_of(r), "the plugin answers while the tick is held");
	json_decref(r);
	jid = json_string("cli:t-rpc#1");
	CHECK(!json_array_size(ch.inbox),
	      "no reply yet: the call did not time out, the tick waits "
	      "(%zu messages)",
	      json_array_size(ch.inbox));

	ch.hold_rpc = false;
	rpc_answer(&ch, json_array_get(ch.held, 0));
	r = wait_for(&ch, is_reply_to, jid);
	check_json(result_of(r),
		   "{\"getinfo\":{\"id\":\"02fake\",\"alias\":\"FAKENODE\"}}",
		   "the call completes with lightningd's answer");
	json_decref(r);
	json_decref(jid);
	jid = json_string("tick#1");
	r = wait_for(&ch, is_reply_to, jid);
	CHECK(r && json_is_true(json_object_get(result_of(r), "idle")),
	      "then the tick is answered: idle");
	json_decref(r);
	json_decref(jid);

	/* The clock did move: an instant before the tick's is refused. */
	snprintf(params, sizeof(params), "{\"now_ms\":%llu}",
		 (unsigned long long)(t0 + 3599999));
	r = request(&ch, "tick#2", "hive-sim-tick", params);
	CHECK(r && error_code(r) == ERR_INVALID_PARAMS,
	      "the clock is at the tick's instant: an earlier tick is refused "
	      "(%s)",
	      error_message(r));
	json_decref(r);
	CHECK_EQ_INT(finish(&ch, true), 0, "sim clock child exits 0");
	child_free(&ch);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* A hung child must fail the test, not hang the suite. */
	alarm(120);
	strcpy(tmpdir, "/tmp/hive-plugin-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/lightning-rpc", tmpdir);

	test_manifest_json();
	test_option_parse();
	test_end_to_end();
	test_disable_and_eof();
	test_sim_tick_waits_for_calls();

	rmdir(tmpdir);
	return check_done();
}
