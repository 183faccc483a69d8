/* validate.c -- `camsim validate [--to-device|--to-server] [--json]
 * [--profile P] [--expect] FILE...' and `--list-rules'.  The thin edge
 * over proto/: reads files, prints violations, sets the exit code. */
#include "validate.h"

#include "fixture.h"
#include "file.h"
#include "proto.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FILE_LIMIT (256u << 20)

/* The file at path, or standard input for "-" (a pipe is what is meant
 * there); err names the path ("stdin" for "-"). */
static int read_input(const char *path, size_t limit, char **buf,
		      size_t *len, char *err, size_t errlen)
{
	if (!strcmp(path, "-"))
		return base_read_fd(NULL, "stdin", 0, limit, buf, len, err,
				    errlen);
	return base_read_file(NULL, path, limit, buf, len, err, errlen);
}

static const char usage[] =
	"usage: camsim validate [--to-device | --to-server] [--profile strict|as-printed]\n"
	"                       [--json] [--expect] FILE...   (- reads stdin)\n"
	"       camsim validate --list-rules [--markdown]\n"
	"\n"
	"Checks protocol V1.16 messages: what a device POSTs (--to-server) or the\n"
	"body of a server's 200 reply (--to-device); without either, the direction is\n"
	"told from the message (\"type\", \"cid\" or \"alarm\" mean a device message).\n"
	"Each violation is printed with its severity, rule id, JSON path and reason.\n"
	"  --json        one JSON object per file (JSON Lines) instead of text\n"
	"  --profile P   strict (default) or as-printed: accept the document's own\n"
	"                quirks (\" male\", 2019/6/30, 8:59:00, reupload mode 3/4)\n"
	"  --expect      compare each FILE with FILE's .expect beside it (fixtures)\n"
	"  --list-rules  print every rule id with severity, section and meaning\n"
	"Exit: 0 no MUST rule broken, 1 a MUST rule broken, 2 unreadable or not JSON.\n";

static const char *sev_name(proto_severity s)
{
	return s == PROTO_MUST ? "MUST" : "SHOULD";
}

static void print_rule(const proto_rule_info *r, void *ud)
{
	FILE *out = ((void **)ud)[0];
	int md = *(int *)((void **)ud)[1];
	if (md)
		fprintf(out, "| `%s` | %s | %s | %s |\n", r->id, sev_name(r->sev),
			r->section, r->text);
	else
		fprintf(out, "%-6s %-52s %s -- %s\n", sev_name(r->sev), r->id,
			r->section, r->text);
}

void validate_print_rules(FILE *out, int markdown)
{
	void *ud[2] = {out, &markdown};
	if (markdown)
		fprintf(out, "| rule id | severity | section | rule |\n"
			     "|---|---|---|---|\n");
	proto_rules_foreach(print_rule, ud);
}

/* path with ".json" replaced by ".expect" */
static char *expect_path(const char *path)
{
	size_t n = strlen(path);
	char *p = malloc(n + 8);
	if (!p)
		return NULL;
	memcpy(p, path, n + 1);
	if (n > 5 && !strcmp(p + n - 5, ".json"))
		p[n - 5] = '\0';
	strcat(p, ".expect");
	return p;
}

static void print_json(FILE *out, const char *file, proto_dir dir,
		       const fx_result *r)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char *s;

	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddStringToObject(o, "kind", proto_kind_name(r->kind));
	cJSON_AddStringToObject(o, "direction",
				r->kind == PROTO_REPLY ? "to-device" :
				r->kind != PROTO_KIND_NONE ? "to-server" :
				dir == PROTO_TO_DEVICE ? "to-device" :
				dir == PROTO_TO_SERVER ? "to-server" : "unknown");
	cJSON_AddNumberToObject(o, "exit", r->exit_code);
	if (r->error[0])
		cJSON_AddStringToObject(o, "error", r->error);
	else
		cJSON_AddNullToObject(o, "error");
	cJSON_AddNumberToObject(o, "must", (double)r->rep.n_must);
	cJSON_AddNumberToObject(o, "should", (double)r->rep.n_should);
	arr = cJSON_AddArrayToObject(o, "violations");
	for (size_t i = 0; arr && i < r->rep.n; i++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "severity", sev_name(r->rep.v[i].sev));
		cJSON_AddStringToObject(v, "rule", r->rep.v[i].rule);
		cJSON_AddStringToObject(v, "path", r->rep.v[i].path);
		cJSON_AddStringToObject(v, "message", r->rep.v[i].msg);
		cJSON_AddItemToArray(arr, v);
	}
	if (r->rep.dropped)
		cJSON_AddNumberToObject(o, "dropped", (double)r->rep.dropped);
	s = cJSON_PrintUnformatted(o);
	if (s)
		fprintf(out, "%s\n", s);
	else
		fprintf(out, "{\"file\":null,\"error\":\"out of memory\"}\n");
	cJSON_free(s);
	cJSON_Delete(o);
}

static void print_text(FILE *out, const char *file, const fx_result *r)
{
	if (r->exit_code == 2) {
		fprintf(out, "%s: not a JSON message: %s\n", file, r->error);
		return;
	}
	if (!r->rep.n) {
		fprintf(out, "%s: %s: ok\n", file, proto_kind_name(r->kind));
		return;
	}
	fprintf(out, "%s: %s: %zu MUST, %zu SHOULD\n", file,
		proto_kind_name(r->kind), r->rep.n_must, r->rep.n_should);
	for (size_t i = 0; i < r->rep.n; i++)
		fprintf(out, "  %-6s %s at %s\n         %s\n",
			sev_name(r->rep.v[i].sev), r->rep.v[i].rule,
			r->rep.v[i].path, r->rep.v[i].msg);
	if (r->rep.dropped)
		fprintf(out, "  ... and %zu more not listed\n", r->rep.dropped);
}

int validate_main(int argc, char **argv, FILE *out, FILE *err)
{
	proto_dir dir = PROTO_ANY;
	const proto_profile *prof = NULL;
	int json = 0, expect = 0, list = 0, md = 0, worst = 0, i;
	size_t files = 0, ok = 0, must = 0, notjson = 0, matched = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !strcmp(a, "-"))
			break;
		if (!strcmp(a, "--to-device"))
			dir = PROTO_TO_DEVICE;
		else if (!strcmp(a, "--to-server"))
			dir = PROTO_TO_SERVER;
		else if (!strcmp(a, "--json"))
			json = 1;
		else if (!strcmp(a, "--expect"))
			expect = 1;
		else if (!strcmp(a, "--list-rules"))
			list = 1;
		else if (!strcmp(a, "--markdown"))
			md = 1;
		else if (!strcmp(a, "--profile") && i + 1 < argc) {
			if (!(prof = proto_profile_find(argv[++i]))) {
				fprintf(err, "camsim validate: unknown profile \"%s\" "
					"(strict or as-printed)\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, out);
			return 0;
		} else {
			fprintf(err, "camsim validate: unknown option \"%s\"\n%s", a,
				usage);
			return 2;
		}
	}
	if (list) {
		validate_print_rules(out, md);
		return 0;
	}
	if (i >= argc) {
		fprintf(err, "camsim validate: no FILE given\n%s", usage);
		return 2;
	}
	for (; i < argc; i++) {
		const char *file = argv[i];
		char *buf = NULL, rerr[512];
		size_t len;
		fx_result r;
		fx_expect e = {0};
		int have_e = 0;

		files++;
		if (expect) {
			char *ep = expect_path(file), *eb = NULL;
			size_t el;
			char perr[256];
			if (!ep)
				snprintf(rerr, sizeof rerr, "?: out of memory");
			else if (read_input(ep, 1 << 20, &eb, &el, rerr,
					    sizeof rerr) < 0)
				; /* rerr names ep */
			else if (fx_expect_parse(eb, el, &e, perr, sizeof perr) < 0)
				snprintf(rerr, sizeof rerr, "%s: %s", ep, perr);
			else
				rerr[0] = '\0';
			if (rerr[0]) {
				fprintf(out, "%s: MISMATCH: %s\n", file, rerr);
				free(ep);
				free(eb);
				worst = worst < 1 ? 1 : worst;
				continue;
			}
			free(ep);
			free(eb);
			have_e = 1;
		}
		if (read_input(file, FILE_LIMIT, &buf, &len, rerr, sizeof rerr) < 0) {
			if (json) {
				fx_result fr = {.exit_code = 2};
				snprintf(fr.error, sizeof fr.error, "%.*s",
					 (int)sizeof fr.error - 1, rerr);
				print_json(out, file, dir, &fr);
			} else {
				fprintf(err, "%s\n", rerr);
			}
			worst = 2;
			notjson++;
			fx_expect_free(&e);
			continue;
		}
		fx_validate(buf, len, have_e && e.dir ? e.dir : dir,
			    have_e ? e.prof : prof ? prof : &proto_profile_strict, &r);
		free(buf);
		if (r.exit_code == 2)
			notjson++;
		else if (r.exit_code == 1)
			must++;
		else
			ok++;
		if (expect) {
			size_t d = fx_compare(&e, &r, NULL);
			fprintf(out, "%-58s %-18s %s\n", file, proto_kind_name(r.kind),
				d ? "MISMATCH" : r.exit_code == 2 ? "not JSON, as expected" :
				r.rep.n ? "violations as expected" : "valid, as expected");
			if (d) {
				fx_compare(&e, &r, out);
				worst = worst < 1 ? 1 : worst;
			} else {
				matched++;
			}
		} else {
			if (json)
				print_json(out, file, dir, &r);
			else
				print_text(out, file, &r);
			if (r.exit_code > worst)
				worst = r.exit_code;
		}
		fx_result_free(&r);
		fx_expect_free(&e);
	}
	if (expect)
		fprintf(out, "\n%zu files: %zu valid, %zu break a MUST rule, %zu not "
			"JSON; %zu of %zu as expected\n",
			files, ok, must, notjson, matched, files);
	return worst;
}
