/* fixture.c -- reads NAME.expect files and compares a validation result to
 * them; shared by `camsim validate --expect' and tests/check_proto.c so the
 * main job and the tests judge fixtures the same way. */
#include "fixture.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fx_expect_free(fx_expect *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].rule);
		free(e->v[i].path);
	}
	free(e->v);
	free(e->notjson);
	memset(e, 0, sizeof *e);
}

static char *trim(char *s)
{
	char *end;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int fx_expect_parse(const char *buf, size_t len, fx_expect *e, char *err,
		    size_t errlen)
{
	char *copy = malloc(len + 1), *line, *save = NULL;
	size_t lineno = 0;
	int rc = CONF_EFORMAT; /* every "goto out" below is a line breaking it */

	memset(e, 0, sizeof *e);
	e->prof = &proto_profile_strict;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return CONF_ENOMEM;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line), *val;
		lineno++;
		if (!*l || *l == '#')
			continue;
		if (!strncmp(l, "profile:", 8)) {
			val = trim(l + 8);
			if (!(e->prof = proto_profile_find(val))) {
				snprintf(err, errlen, "line %zu: unknown profile \"%s\"",
					 lineno, val);
				goto out;
			}
		} else if (!strncmp(l, "direction:", 10)) {
			val = trim(l + 10);
			if (!strcmp(val, "to-server"))
				e->dir = PROTO_TO_SERVER;
			else if (!strcmp(val, "to-device"))
				e->dir = PROTO_TO_DEVICE;
			else {
				snprintf(err, errlen, "line %zu: direction is "
					 "to-server or to-device, not \"%s\"",
					 lineno, val);
				goto out;
			}
		} else if (!strncmp(l, "exit:", 5)) {
			val = trim(l + 5);
			if (strlen(val) != 1 || val[0] < '0' || val[0] > '2') {
				snprintf(err, errlen, "line %zu: exit is 0, 1 or 2",
					 lineno);
				goto out;
			}
			e->exit_code = val[0] - '0';
		} else if (!strncmp(l, "notjson:", 8)) {
			free(e->notjson);
			if (!(e->notjson = strdup(trim(l + 8))))
				goto oom;
		} else if (!strncmp(l, "MUST ", 5) || !strncmp(l, "SHOULD ", 7)) {
			proto_severity sev = l[0] == 'M' ? PROTO_MUST : PROTO_SHOULD;
			char *rule = trim(l + (sev == PROTO_MUST ? 5 : 7));
			char *sp = strchr(rule, ' ');
			if (!sp) {
				snprintf(err, errlen, "line %zu: expected \"%s "
					 "<rule-id> <json-path>\"",
					 lineno, sev == PROTO_MUST ? "MUST" : "SHOULD");
				goto out;
			}
			*sp = '\0';
			fx_line *nv = realloc(e->v, (e->n + 1) * sizeof *nv);
			if (!nv)
				goto oom;
			e->v = nv;
			nv[e->n].sev = sev;
			nv[e->n].rule = strdup(rule);
			nv[e->n].path = strdup(trim(sp + 1));
			e->n++;
			if (!nv[e->n - 1].rule || !nv[e->n - 1].path)
				goto oom;
		} else {
			snprintf(err, errlen, "line %zu: cannot read \"%.40s\" (expected "
				 "profile:, direction:, exit:, notjson:, MUST or "
				 "SHOULD)",
				 lineno, l);
			goto out;
		}
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	rc = CONF_ENOMEM;
out:
	free(copy);
	if (rc < 0)
		fx_expect_free(e);
	return rc;
}

void fx_validate(const char *buf, size_t len, proto_dir dir,
		 const proto_profile *prof, fx_result *r)
{
	proto_arena a = PROTO_ARENA_INIT;
	proto_msg m;
	cJSON *j = NULL;
	int rc;

	memset(r, 0, sizeof *r);
	if (proto_json_blank(buf, 0, len) && dir == PROTO_TO_DEVICE) {
		r->kind = PROTO_REPLY; /* an empty 200 body is "nothing to do" */
		return;
	}
	rc = proto_json_parse(buf, len, &j, r->error, sizeof r->error);
	if (rc < 0) {
		r->exit_code = 2;
		return;
	}
	rc = proto_decode(j, dir, prof, &a, &m, &r->rep);
	r->kind = m.kind;
	if (rc == PROTO_ENOMEM) {
		snprintf(r->error, sizeof r->error, "out of memory");
		r->exit_code = 2;
	} else {
		r->exit_code = r->rep.n_must ? 1 : 0;
	}
	proto_arena_free(&a);
	cJSON_Delete(j);
}

void fx_result_free(fx_result *r)
{
	proto_report_free(&r->rep);
}

static const char *sev_name(proto_severity s)
{
	return s == PROTO_MUST ? "MUST" : "SHOULD";
}

size_t fx_compare(const fx_expect *e, const fx_result *r, FILE *out)
{
	size_t diffs = 0, n = r->rep.n > e->n ? r->rep.n : e->n;

	if (e->exit_code != r->exit_code) {
		diffs++;
		if (out)
			fprintf(out, "  exit: expected %d, got %d%s%s\n", e->exit_code,
				r->exit_code, r->error[0] ? " -- " : "", r->error);
	}
	if (e->notjson && strncmp(r->error, e->notjson, strlen(e->notjson))) {
		diffs++;
		if (out)
			fprintf(out, "  notjson: expected \"%s...\", got \"%s\"\n",
				e->notjson, r->error);
	}
	for (size_t i = 0; i < n; i++) {
		const fx_line *x = i < e->n ? &e->v[i] : NULL;
		const proto_violation *y = i < r->rep.n ? &r->rep.v[i] : NULL;
		if (x && y && x->sev == y->sev && !strcmp(x->rule, y->rule) &&
		    !strcmp(x->path, y->path))
			continue;
		diffs++;
		if (!out)
			continue;
		if (x)
			fprintf(out, "  expected #%zu: %s %s %s\n", i + 1,
				sev_name(x->sev), x->rule, x->path);
		if (y)
			fprintf(out, "  got      #%zu: %s %s %s  (%s)\n", i + 1,
				sev_name(y->sev), y->rule, y->path, y->msg);
	}
	return diffs;
}
