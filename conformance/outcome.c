/* outcome.c -- the kinds of V1.16 commands and the rules by which a device
 * message settles them (docs/mock.md, "Outcomes").  Pure: no state beyond
 * the caller's arrays, no I/O. */
#include "outcome.h"
#include "base.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const outcome_kind kinds[] = {
	{"time_set", "time_set", 0, PROTO_KIND_NONE},
	{"http_server", "http_server_url", 1, PROTO_KIND_NONE},
	{"time_interval", "time_interval", 2, PROTO_KIND_NONE},
	{"config_set", "config", 3, PROTO_CONFIG_RESULT},
	{"config_query", "config", 3, PROTO_CONFIG_REPORT},
	{"strategy_delivery", "strategy_manage", 4, PROTO_STRATEGY_RESULT},
	{"strategy_query", "strategy_manage", 4, PROTO_STRATEGY_LIST},
	{"facelib_add", "facelib_manage", 5, PROTO_HEARTBEAT},
	{"facelib_delete", "facelib_manage", 5, PROTO_HEARTBEAT},
	{"facelib_clear", "facelib_manage", 5, PROTO_HEARTBEAT},
	{"facelib_query", "facelib_manage", 5, PROTO_HEARTBEAT},
	{"batch", "facelib_batch", 6, PROTO_BATCH_RESULT},
	{"reupload_set", "reupload", 7, PROTO_REUPLOAD_RESULT},
	{"reupload_query", "reupload", 7, PROTO_REUPLOAD_SETTINGS},
	{"facelog", "facelog", 8, PROTO_LOG_RESULT},
	{"control", "control", 9, PROTO_CONTROL_RESULT},
	{"upgrade", "fw_upgrade", 10, PROTO_UPGRADE_RESULT},
	{"reboot", "reboot", 11, PROTO_KIND_NONE},
};
#define N_KINDS ARRAY_SIZE(kinds)

static const char *const members[] = {
	"time_set", "http_server_url", "http_server_port", "time_interval",
	"config", "strategy_manage", "facelib_manage", "facelib_batch",
	"reupload", "facelog", "control", "fw_upgrade", "reboot"};

const outcome_kind *outcome_kind_find(const char *name)
{
	for (size_t i = 0; name && i < N_KINDS; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

const outcome_kind *outcome_kind_of(const proto_reply *r)
{
	const char *n = NULL;

	if (r->has_time_set)
		n = "time_set";
	else if (r->http_server_url || r->has_http_server_port)
		n = "http_server";
	else if (r->has_time_interval)
		n = "time_interval";
	else if (r->has_config)
		n = r->config.op_type == 1 ? "config_query" : "config_set";
	else if (r->has_strategy)
		n = r->strategy.has_oper_type ? "strategy_query" :
		    "strategy_delivery";
	else if (r->has_facelib)
		n = r->facelib.type == 1 ? "facelib_add" :
		    r->facelib.type == 3 ? "facelib_delete" :
		    r->facelib.type == 4 ? "facelib_clear" : "facelib_query";
	else if (r->has_batch)
		n = "batch";
	else if (r->has_reupload)
		n = r->reupload.type == 2 ? "reupload_query" : "reupload_set";
	else if (r->has_facelog)
		n = "facelog";
	else if (r->has_control)
		n = "control";
	else if (r->upgrade.version || r->upgrade.download_url)
		n = "upgrade";
	else if (r->has_reboot)
		n = "reboot";
	return outcome_kind_find(n);
}

bool outcome_member_has_seq(const char *member)
{
	return !strcmp(member, "facelib_manage") || !strcmp(member, "config") ||
	       !strcmp(member, "reupload") || !strcmp(member, "facelog") ||
	       !strcmp(member, "control");
}

bool outcome_is_member(const char *k)
{
	for (size_t i = 0; k && i < ARRAY_SIZE(members); i++)
		if (!strcmp(members[i], k))
			return true;
	return false;
}

int outcome_split(const cJSON *reply, cJSON *out)
{
	const cJSON *c;
	cJSON *server = NULL;
	int n = 0;

	for (c = reply ? reply->child : NULL; c; c = c->next) {
		bool pair = !strcmp(c->string, "http_server_url") ||
			    !strcmp(c->string, "http_server_port");
		cJSON *o;
		if (!outcome_is_member(c->string))
			continue;
		if (pair && server) {
			o = server;
		} else {
			if (!(o = cJSON_CreateObject()) ||
			    !cJSON_AddItemToArray(out, o)) {
				cJSON_Delete(o);
				return -1;
			}
			n++;
			if (pair)
				server = o;
		}
		if (!cJSON_AddItemToObject(o, c->string, cJSON_Duplicate(c, true)))
			return -1;
	}
	return n;
}

/* ---------------------------------------------------------------- settling */

static void settle(outcome_cmd *x, outcome_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void settle(outcome_cmd *x, outcome_verdict v, const char *fmt, ...)
{
	va_list ap;

	x->verdict = v;
	va_start(ap, fmt);
	vsnprintf(x->detail, sizeof x->detail, fmt, ap);
	va_end(ap);
}

static const char *batch_text(int64_t r)
{
	static const char *const t[] = {
		"success", "failed", "wrong person parameters", "wrong picture",
		"library full", "timeout getting the import result",
		"system busy"};
	return r >= 0 && r <= 6 ? t[r] : "unknown result";
}

static const char *upgrade_text(int64_t e)
{
	static const char *const t[] = {
		"", "upgrade server unreachable", "cannot get the file",
		"file too large", "download interrupted",
		"file does not match (version check failed)",
		"ready to restart"};
	return e >= 1 && e <= 6 ? t[e] : "unknown error";
}

static const char *errcode_text(const outcome_kind *k, int64_t e)
{
	if (e == 0)
		return "success";
	if (!strcmp(k->name, "config_set"))
		return e == 1 ? "bad input" : e == 2 ? "configuration failed" :
		       "unknown errcode";
	if (!strcmp(k->name, "reupload_set"))
		return e == 1 ? "parameter error" : "unknown errcode";
	return e == 1 ? "input error" : e == 2 ? "failed" : "unknown errcode";
}

/* Type 9 against the batch it answers: confirmed when every person of
 * the batch has result 0. */
static void settle_batch(outcome_cmd *x, const proto_batch_result *b,
			 const char *label)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(x->command, "facelib_batch"),
		"personList");
	const cJSON *p;
	char why[500] = "";
	size_t used = 0, bad = 0, persons = 0;

	cJSON_ArrayForEach(p, list) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
		const proto_batch_item_result *hit = NULL;
		persons++;
		for (size_t i = 0; cJSON_IsString(id) && i < b->n_results; i++)
			if (b->results[i].id && b->results[i].has_result &&
			    !strcmp(b->results[i].id, id->valuestring))
				hit = &b->results[i];
		if (hit && hit->result == 0)
			continue;
		bad++;
		if (used < sizeof why) {
			int w = snprintf(why + used, sizeof why - used, "%s%s: %s",
					 used ? "; " : "", cJSON_IsString(id) ?
					 id->valuestring : "?", hit ?
					 batch_text(hit->result) : "no result");
			used += w > 0 ? (size_t)w : 0;
		}
	}
	if (!bad)
		settle(x, OUTCOME_CONFIRMED, "type 9 %s: all %zu persons imported",
		       label, persons);
	else
		settle(x, OUTCOME_FAILED, "type 9 %s: %zu of %zu persons not "
		       "imported: %s", label, bad, persons, why);
}

static void settle_strategies(outcome_cmd *x, const proto_strategy_result *r,
			      const char *label)
{
	char why[400] = "";
	size_t used = 0, refused = 0;

	for (size_t i = 0; i < r->n_results; i++) {
		if (r->results[i].has_result && r->results[i].result == 0)
			continue;
		refused++;
		if (used < sizeof why) {
			int w = snprintf(why + used, sizeof why - used, "%s%lld",
					 used ? ", " : "",
					 (long long)r->results[i].strategy_id);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	if (!refused)
		settle(x, OUTCOME_CONFIRMED, "type 7 %s: %zu strategies accepted",
		       label, r->n_results);
	else
		settle(x, OUTCOME_FAILED, "type 7 %s: %zu of %zu strategies "
		       "refused (strategyId %s)", label, refused, r->n_results,
		       why);
}

size_t outcome_settle(outcome_cmd *v, size_t n, const proto_msg *g,
		      const char *label)
{
	bool seq_carrier = (g->kind == PROTO_HEARTBEAT ||
			    g->kind == PROTO_UPGRADE_RESULT) &&
			   g->u.heartbeat.has_seq;
	bool used = false; /* a result message settles one command */
	size_t settled = 0;

	for (size_t i = 0; i < n; i++) {
		outcome_cmd *x = &v[i];
		const outcome_kind *k = x->k;

		x->verdict = OUTCOME_OPEN;
		if (k->result == PROTO_KIND_NONE) {
			settle(x, OUTCOME_CONFIRMED, "delivered: the device's next "
			       "message (%s, %s) came after the reply; V1.16 has "
			       "no confirmation for %s", label,
			       proto_kind_name(g->kind), k->member);
		} else if (k->result == PROTO_HEARTBEAT) {
			int64_t hs = g->u.heartbeat.seq;
			if (!strcmp(k->name, "facelib_query") &&
			    g->kind == PROTO_FACE_LIST)
				settle(x, OUTCOME_CONFIRMED, "type 4 %s: %zu "
				       "persons", label, g->u.face_list.n_face);
			else if (seq_carrier && x->has_seq && hs == x->seq)
				settle(x, OUTCOME_CONFIRMED, "%s %s carried seq "
				       "%lld (D7)", proto_kind_name(g->kind),
				       label, (long long)hs);
			else if (seq_carrier)
				settle(x, OUTCOME_FAILED, "%s %s carried seq %lld, "
				       "not the operation's %lld: it failed, or "
				       "never reached the device (D7: the two look "
				       "the same)", proto_kind_name(g->kind), label,
				       (long long)hs, (long long)x->seq);
		} else if (k->result == g->kind && !used) {
			const proto_ack *ack = &g->u.ack.ack;
			switch (g->kind) {
			case PROTO_CONFIG_RESULT:
			case PROTO_REUPLOAD_RESULT:
			case PROTO_LOG_RESULT:
			case PROTO_CONTROL_RESULT:
				/* the echo picks the command; without one
				 * (unreadable seq) the oldest is meant */
				if (!g->u.ack.has_ack || !ack->has_errcode ||
				    (ack->has_seq && (!x->has_seq ||
						      ack->seq != x->seq)))
					continue;
				used = true;
				settle(x, ack->errcode ? OUTCOME_FAILED :
				       OUTCOME_CONFIRMED, "%s %s: errcode %lld, "
				       "%s%s", proto_kind_name(g->kind), label,
				       (long long)ack->errcode,
				       errcode_text(k, ack->errcode),
				       ack->has_seq ? "" : " (no seq echoed)");
				break;
			case PROTO_UPGRADE_RESULT:
				if (!g->u.heartbeat.has_error)
					continue;
				used = true;
				settle(x, g->u.heartbeat.error == 6 ?
				       OUTCOME_CONFIRMED : OUTCOME_FAILED,
				       "type 6 %s: error %lld, %s", label,
				       (long long)g->u.heartbeat.error,
				       upgrade_text(g->u.heartbeat.error));
				break;
			case PROTO_BATCH_RESULT:
				used = true;
				settle_batch(x, &g->u.batch_result, label);
				break;
			case PROTO_STRATEGY_RESULT:
				used = true;
				settle_strategies(x, &g->u.strategy_result, label);
				break;
			default: /* query results */
				used = true;
				settle(x, OUTCOME_CONFIRMED, "%s %s answered the "
				       "query", proto_kind_name(g->kind), label);
				break;
			}
		}
		settled += x->verdict != OUTCOME_OPEN;
	}
	return settled;
}
