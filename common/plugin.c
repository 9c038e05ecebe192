/* Plugin protocol runtime; see plugin.h. It is made of four files, each
 * using only those before it (their shared state: plugin_internal.h):
 *   plugin.c          what every part uses: accessors, output to
 *                     lightningd (log, notifications, replies), commands
 *                     and their answers, the start of shutdown
 *   plugin_params.c   a command's parameters (command_params)
 *   plugin_options.c  option values and the manifest built from the tables
 *   plugin_run.c      the protocol: init, setconfig, the simulator's tick,
 *                     dispatch of stdin, plugin_main */
#include "common/plugin.h"
#include "common/json_util.h"
#include "common/jsonrpc_io.h"
#include "common/loop.h"
#include "common/plugin_internal.h"
#include <stdarg.h>
#include <string.h>

/* ---------- small accessors ---------- */

void *plugin_app(const struct plugin *p) { return p->app; }
struct loop *plugin_loop(const struct plugin *p) { return p->loop; }
struct rpc *plugin_rpc(const struct plugin *p) { return p->rpc; }
struct clock *plugin_clock(const struct plugin *p) { return p->clk; }
const char *plugin_name(const struct plugin *p) { return p->spec->name; }
uint64_t plugin_seed(const struct plugin *p) { return p->seed; }
bool plugin_started_at_boot(const struct plugin *p) { return p->booted; }

struct plugin *command_plugin(const struct command *cmd) { return cmd->plugin; }
const char *command_id(const struct command *cmd) { return cmd->id_text; }
const char *command_method(const struct command *cmd) { return cmd->method; }

/* ---------- output ---------- */

static void send_json(struct plugin *p, json_t *msg)
{
	if (!jsonrpc_conn_send(p->io, msg) && !p->shutting_down)
		plugin_begin_shutdown(p, "stdout closed");
}

void plugin_log(struct plugin *p, enum plugin_log_level level,
		const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	/* lightningd logs one entry per notification: split lines so a
	 * multi-line message stays readable. */
	for (char *line = msg, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (!*line && nl)
			continue;
		send_json(p, json_pack("{s:s,s:s,s:{s:s,s:s}}", "jsonrpc",
				       "2.0", "method", "log", "params",
				       "level", names[level], "message",
				       line));
	}
	free(msg);
}

void plugin_notify(struct plugin *p, const char *topic, json_t *payload)
{
	send_json(p, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method",
			       topic, "params", payload));
}

void plugin_reply(struct plugin *p, json_t *id, json_t *result)
{
	send_json(p, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
			       "result", result));
}

void plugin_reply_error(struct plugin *p, json_t *id, int code,
			json_t *data, const char *msg)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", msg);
	if (data)
		json_object_set_new(err, "data", data);
	send_json(p, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id,
			       "error", err));
}

/* ---------- commands ---------- */

struct command *command_new(struct plugin *p, json_t *id,
			    const char *method)
{
	struct command *cmd = xzalloc(sizeof(*cmd));

	cmd->plugin = p;
	cmd->id = json_incref(id);
	if (json_is_string(id))
		cmd->id_text = xstrdup(json_string_value(id));
	else
		cmd->id_text = json_to_text(id);
	cmd->method = xstrdup(method);
	return cmd;
}

static void command_free(struct command *cmd)
{
	json_decref(cmd->id);
	free(cmd->id_text);
	free(cmd->method);
	free(cmd);
}

void command_ok(struct command *cmd, json_t *result)
{
	plugin_reply(cmd->plugin, cmd->id, result);
	command_free(cmd);
}

void command_fail(struct command *cmd, int code, json_t *data,
		  const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvfmt(fmt, ap);
	va_end(ap);
	plugin_reply_error(cmd->plugin, cmd->id, code, data, msg);
	free(msg);
	command_free(cmd);
}

/* ---------- shutdown ---------- */

void plugin_begin_shutdown(struct plugin *p, const char *why UNUSED)
{
	if (p->shutting_down)
		return;
	p->shutting_down = true;
	loop_stop(p->loop, 0);
}
