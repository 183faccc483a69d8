/* mock_queue.c -- the mock's command queue: checks and enqueues a command
 * (with its seq), settles sent commands by what a device message tells, and
 * packs queued ones into a reply.  Runs statements through mock_db_int.h;
 * stores no device message (mock_ingest.c) and builds no view. */
#include "mock_db_int.h"

#include <cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_SMALL 946684800LL /* below: a counter, not a UNIX time (D8) */

/* ---------------------------------------------------------------- enqueue */

static bool cid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* Checks that cmd is one command: one reply member, or the URL and port
 * pair of §3.1.  Returns the member that names it. */
static const char *one_command(const cJSON *cmd, char *err, size_t errlen)
{
	const cJSON *c;
	const char *first = NULL;
	int n = 0;
	bool server_pair = true;

	if (!cJSON_IsObject(cmd)) {
		snprintf(err, errlen, "a command is a JSON object holding one "
			 "reply member, e.g. {\"reboot\":1}");
		return NULL;
	}
	for (c = cmd->child; c; c = c->next) {
		if (!c->string || !is_reply_member(c->string)) {
			snprintf(err, errlen, "\"%.60s\" is not a command of "
				 "protocol V1.16 (reply members: time_set, "
				 "http_server_url, http_server_port, time_interval, "
				 "config, strategy_manage, facelib_manage, "
				 "facelib_batch, reupload, facelog, control, "
				 "fw_upgrade, reboot)", c->string ? c->string : "");
			return NULL;
		}
		if (strcmp(c->string, "http_server_url") &&
		    strcmp(c->string, "http_server_port"))
			server_pair = false;
		if (!first)
			first = c->string;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "the command object is empty; it must "
			 "hold one reply member, e.g. {\"reboot\":1}");
		return NULL;
	}
	if (n > 1 && !(n == 2 && server_pair)) {
		snprintf(err, errlen, "the command object holds %d members "
			 "(\"%.40s\", ...); enqueue one command at a time (only "
			 "http_server_url and http_server_port go together)", n,
			 first);
		return NULL;
	}
	return first;
}

/* The seq of cmd's member, when it is an integer. */
static bool cmd_seq(const cJSON *cmd, const char *member, int64_t *seq)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(cmd, member);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");

	if (!cJSON_IsNumber(s) || s->valuedouble != (double)(int64_t)s->valuedouble)
		return false;
	*seq = (int64_t)s->valuedouble;
	return true;
}

/* Writes the MUST violations of rep into err as one sentence. */
static void must_sentence(const proto_report *rep, char *err, size_t errlen)
{
	size_t used = 0;
	int w = snprintf(err, errlen, "command breaks protocol V1.16:");

	used = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < rep->n && used < errlen; i++) {
		const proto_violation *v = &rep->v[i];
		if (v->sev != PROTO_MUST)
			continue;
		w = snprintf(err + used, errlen - used, " %s at %s: %s;", v->rule,
			     v->path, v->msg);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used > 0 && used < errlen && err[used - 1] == ';')
		err[used - 1] = '\0';
}

/* Reads (and bumps past seq, when given) the device's seq counter. */
static int seq_next(mock *m, const char *cid, int64_t *next)
{
	sqlite3_stmt *s = st(m, S_SEQ_GET);
	int e;

	bind_text(s, 1, cid);
	e = sqlite3_step(s);
	*next = e == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 1;
	sqlite3_reset(s);
	return e == SQLITE_ROW || e == SQLITE_DONE ? 0 : CONF_EDB;
}

static int seq_store(mock *m, const char *cid, int64_t next)
{
	sqlite3_stmt *s = st(m, S_SEQ_SET);

	bind_text(s, 1, cid);
	sqlite3_bind_int64(s, 2, next);
	return done(m, s);
}

int64_t mock__enqueue(mock *m, const char *cid, const cJSON *cmd,
		      int flags, proto_report *rep, char *err, size_t errlen)
{
	bool unchecked = flags & MOCK_Q_UNCHECKED;
	proto_arena a = PROTO_ARENA_INIT;
	proto_report own = {0};
	proto_msg msg;
	cJSON *dup = NULL;
	char *text = NULL;
	const char *member;
	const ckind *k = NULL;
	int64_t rc, next = 1, seq = 0;
	bool has_seq = false, locked = false, tx = false;
	sqlite3_stmt *s;

	if (!rep)
		rep = &own;
	if (!m || !cid_ok(cid)) {
		snprintf(err, errlen, "cid \"%.80s\" is not 1 to 64 printable "
			 "ASCII characters without spaces (docs/protocol.md D33)",
			 cid ? cid : "(null)");
		rc = CONF_EINVAL;
		goto out;
	}
	if (!(member = one_command(cmd, err, errlen))) {
		rc = CONF_EBADCMD;
		goto out;
	}
	rc = CONF_ENOMEM;
	snprintf(err, errlen, "out of memory queuing the command");
	if (!(dup = cJSON_Duplicate(cmd, 1)))
		goto out;
	mock__lock(m);
	locked = true;
	if ((rc = exec(m, S_BEGIN)) < 0)
		goto db;
	tx = true;
	if ((rc = seq_next(m, cid, &next)) < 0)
		goto db;
	if (member_has_seq(member) && !(flags & MOCK_Q_VERBATIM)) {
		cJSON *o = cJSON_GetObjectItemCaseSensitive(dup, member);
		cJSON *sq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		if (cJSON_IsObject(o) && (!sq || (cJSON_IsNumber(sq) &&
						  sq->valuedouble == 0))) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, "seq");
			if (!cJSON_AddNumberToObject(o, "seq", (double)next))
				goto out;
		}
	}
	if (member_has_seq(member))
		has_seq = cmd_seq(dup, member, &seq);
	rc = proto_decode(dup, PROTO_TO_DEVICE, m->prof, &a, &msg, rep);
	if (rc == PROTO_ENOMEM || rep->oom) {
		rc = CONF_ENOMEM;
		goto out;
	}
	if ((rc < 0 && !(unchecked && rc == PROTO_EBADMSG)) ||
	    msg.kind != PROTO_REPLY || !(k = ckind_of(&msg.u.reply))) {
		must_sentence(rep, err, errlen);
		rc = CONF_EBADCMD;
		goto out;
	}
	/* the counter moves past a small seq the caller chose, so the
	 * mock's own never repeats it */
	if (has_seq && seq >= next && seq < SEQ_SMALL &&
	    (rc = seq_store(m, cid, seq + 1)) < 0)
		goto db;
	if (!(text = cJSON_PrintUnformatted(dup))) {
		rc = CONF_ENOMEM;
		goto out;
	}
	s = st(m, S_CMD_ADD);
	bind_text(s, 1, cid);
	bind_text(s, 2, k->name);
	sqlite3_bind_int(s, 3, k->rank);
	bind_text(s, 4, text);
	bind_opt_int(s, 5, has_seq, seq);
	sqlite3_bind_int64(s, 6, mock__now(m));
	if ((rc = done(m, s)) < 0 || (rc = exec(m, S_COMMIT)) < 0)
		goto db;
	tx = false;
	m->open_cmds++;
	rc = sqlite3_last_insert_rowid(m->db);
	if (errlen)
		err[0] = '\0';
	goto out;
db:
	snprintf(err, errlen, "database %s: %s", m->dbpath,
		 sqlite3_errmsg(m->db));
	rc = CONF_EDB;
out:
	if (tx) {
		exec(m, S_ROLLBACK);
		m->open_known = false;
	}
	if (locked)
		pthread_mutex_unlock(&m->mu);
	cJSON_free(text);
	cJSON_Delete(dup);
	proto_arena_free(&a);
	proto_report_free(&own);
	return rc;
}

int64_t mock_enqueue(mock *m, const char *cid, const cJSON *cmd, char *err,
		     size_t errlen)
{
	return mock__enqueue(m, cid, cmd, 0, NULL, err, errlen);
}

int64_t mock_enqueue_flags(mock *m, const char *cid, const cJSON *cmd,
			   int flags, char *err, size_t errlen)
{
	return mock__enqueue(m, cid, cmd, flags, NULL, err, errlen);
}

int64_t mock_enqueue_unchecked(mock *m, const char *cid, const cJSON *cmd,
			       char *err, size_t errlen)
{
	return mock__enqueue(m, cid, cmd, MOCK_Q_UNCHECKED, NULL, err, errlen);
}

/* ---------------------------------------------------------------- settle */

int mock__settle_all(settle_ctx *c, sent *v, size_t n)
{
	outcome_cmd *oc = n ? calloc(n, sizeof *oc) : NULL;
	cJSON **cmds = n ? calloc(n, sizeof *cmds) : NULL;
	char label[32];
	int rc = 0;

	if (n && (!oc || !cmds)) {
		rc = CONF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(cmds[i] = cJSON_Parse(v[i].command))) {
			rc = CONF_ENOMEM;
			goto out;
		}
		oc[i] = (outcome_cmd){.k = v[i].k, .has_seq = v[i].has_seq,
				      .seq = v[i].seq, .command = cmds[i]};
	}
	snprintf(label, sizeof label, "#%lld", (long long)c->msg_id);
	outcome_settle(oc, n, c->g, label);
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *s = st(c->m, S_SETTLE);
		mock_state to = oc[i].verdict == OUTCOME_CONFIRMED ?
				MOCK_CONFIRMED : MOCK_FAILED;
		if (oc[i].verdict == OUTCOME_OPEN)
			continue;
		sqlite3_bind_int64(s, 1, v[i].id);
		sqlite3_bind_int(s, 2, (int)to);
		sqlite3_bind_int64(s, 3, c->now);
		sqlite3_bind_int64(s, 4, c->msg_id);
		bind_text(s, 5, oc[i].detail);
		v[i].settled = true;
		strbuf_printf(c->log, "  command #%lld %s: %s (%s)\n",
				(long long)v[i].id, v[i].k->name,
				mock_state_name(to), oc[i].detail);
		if ((rc = done(c->m, s)) == 0)
			c->m->open_cmds -= sqlite3_changes(c->m->db);
	}
out:
	for (size_t i = 0; cmds && i < n; i++)
		cJSON_Delete(cmds[i]);
	free(cmds);
	free(oc);
	return rc;
}

int mock__load_sent(mock *m, const char *cid, sent **out, size_t *n)
{
	sqlite3_stmt *s = st(m, S_SENT_LIST);
	sent *v = NULL, *nv;
	size_t cap = 0;
	int e;

	*n = 0;
	bind_text(s, 1, cid);
	while ((e = sqlite3_step(s)) == SQLITE_ROW) {
		const ckind *k = ckind_find(col_text(s, 1));
		if (!k)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(nv = realloc(v, cap * sizeof *v)))
				break;
			v = nv;
		}
		v[*n] = (sent){.id = sqlite3_column_int64(s, 0), .k = k,
			       .has_seq = sqlite3_column_type(s, 2) != SQLITE_NULL,
			       .seq = sqlite3_column_int64(s, 2),
			       .command = strdup(col_text(s, 3) ? col_text(s, 3) : "")};
		if (!v[*n].command)
			break;
		(*n)++;
	}
	sqlite3_reset(s);
	*out = v;
	return e == SQLITE_DONE ? 0 : e == SQLITE_ROW ? CONF_ENOMEM : CONF_EDB;
}

void mock__free_sent(sent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].command);
	free(v);
}

/* Moves the members of command text into reply (in D5 order: the caller
 * adds by rank). */
static int merge(cJSON *reply, const char *text)
{
	cJSON *c = cJSON_Parse(text), *it;
	int rc = c ? 0 : CONF_ENOMEM;

	while (c && (it = c->child)) {
		cJSON_DetachItemViaPointer(c, it);
		cJSON_AddItemToObject(reply, it->string, it);
	}
	cJSON_Delete(c);
	return rc;
}

/* How long the device may take to send its next heartbeat, beyond which
 * the timeout runs for commands that only a later message can settle: the
 * gap between its last two heartbeats, or the interval this reply sets
 * when that is longer (0 when neither is known). */
static int heartbeat_wait(mock *m, const char *cid, const cJSON *reply,
			  int64_t *ms)
{
	sqlite3_stmt *s = st(m, S_DEV_INTERVAL);
	const cJSON *ti = cJSON_GetObjectItemCaseSensitive(reply, "time_interval");
	int e;

	*ms = 0;
	bind_text(s, 1, cid);
	e = sqlite3_step(s);
	if (e == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*ms = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (cJSON_IsNumber(ti) && ti->valuedouble * 1000 > (double)*ms)
		*ms = (int64_t)(ti->valuedouble * 1000);
	return e == SQLITE_ROW || e == SQLITE_DONE ? 0 : CONF_EDB;
}

/* Chooses the queued commands this reply carries (docs/mock.md,
 * "Replies"), marks them sent and prints the reply into *out (NULL: no
 * command). */
int mock__pack(settle_ctx *c, const sent *v, size_t n, bool batch_only,
	       char **out)
{
	mock *m = c->m;
	bool busy_facelib = false, busy_batch = false;
	int64_t ids[16], wait_ms = 0;
	const ckind *kinds[16];
	size_t taken = 0;
	int last_rank = -1, e, rc = 0;
	cJSON *reply = cJSON_CreateObject();
	sqlite3_stmt *s;

	*out = NULL;
	if (!reply)
		return CONF_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!v[i].settled) {
			busy_facelib |= v[i].k->rank == 5;
			busy_batch |= v[i].k->rank == 6;
		}
	s = st(m, S_PENDING);
	bind_text(s, 1, c->cid);
	while (rc == 0 && (e = sqlite3_step(s)) == SQLITE_ROW) {
		const ckind *k = ckind_find(col_text(s, 1));
		int rank = sqlite3_column_int(s, 2);
		if (!k || (batch_only && (k->rank != 6 || taken)) ||
		    rank <= last_rank || (rank == 5 && busy_facelib) ||
		    (rank == 6 && busy_batch))
			break;
		rc = merge(reply, col_text(s, 3));
		kinds[taken] = k;
		ids[taken++] = sqlite3_column_int64(s, 0);
		last_rank = rank;
	}
	sqlite3_reset(s);
	if (rc == 0 && taken && (rc = heartbeat_wait(m, c->cid, reply,
						     &wait_ms)) < 0)
		taken = 0;
	for (size_t i = 0; i < taken && rc == 0; i++) {
		bool later = kinds[i]->result == PROTO_KIND_NONE ||
			     kinds[i]->result == PROTO_HEARTBEAT;
		s = st(m, S_MARK_SENT);
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, c->now);
		sqlite3_bind_int64(s, 3, c->msg_id);
		sqlite3_bind_int64(s, 4, c->now + m->timeout_ms +
				   (later ? wait_ms : 0));
		rc = done(m, s);
		strbuf_printf(c->log, "  command #%lld %s: sent\n",
				(long long)ids[i], kinds[i]->name);
	}
	if (rc == 0 && taken && !(*out = cJSON_PrintUnformatted(reply)))
		rc = CONF_ENOMEM;
	cJSON_Delete(reply);
	return rc;
}
