/* check_load_src.c -- `camsim load --source-addrs': a run against a server
 * that records its clients' addresses sees all and only the addresses of
 * the range, spread round-robin over the devices; ranges that break the
 * rule, and addresses this machine does not have, cannot run (exit 2)
 * with a message naming the value and the rule.  The connection policy:
 * one connection per message unless --keep-alive. */
#include "load.h"
#include "load_cli.h"
#include "testsrv.h"
#include "testutil.h"

START_TEST(connections_leave_from_all_and_only_the_given_addresses)
{
	testsrv s;
	const char *args[] = {"--server", NULL, "--devices", "12",
			      "--duration", "2s", "--interval", "1",
			      "--source-addrs", "127.0.0.2-127.0.0.5", NULL};
	size_t seen[4] = {0}, n;
	tu_cli_result r;

	ck_assert_int_eq(ts_start(&s), 0);
	args[1] = s.url;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s", r.rc, r.err);
	pthread_mutex_lock(&s.mu);
	n = s.n_req;
	/* 12 first heartbeats and a second round at least */
	ck_assert_uint_ge(n, 24);
	for (size_t i = 0; i < n; i++) {
		const char *p = s.req[i].peer;
		ck_assert_msg(!strncmp(p, "127.0.0.", 8) && p[8] >= '2' &&
			      p[8] <= '5' && !p[9], "request %zu came from "
			      "%s, outside 127.0.0.2-127.0.0.5", i, p);
		seen[p[8] - '2']++;
	}
	pthread_mutex_unlock(&s.mu);
	/* 12 devices over 4 addresses: 3 devices each, so no address
	 * carries much more than a quarter */
	for (int i = 0; i < 4; i++)
		ck_assert_msg(seen[i] >= n / 8 && seen[i] <= n / 2, "127.0.0.%d "
			      "carried %zu of %zu requests", i + 2, seen[i], n);
	tu_cli_free(&r);
	ts_stop(&s);
}
END_TEST

START_TEST(without_source_addrs_the_system_picks_127_0_0_1)
{
	testsrv s;
	const char *args[] = {"--server", NULL, "--devices", "3",
			      "--duration", "1s", "--interval", "1", NULL};
	tu_cli_result r;

	ck_assert_int_eq(ts_start(&s), 0);
	args[1] = s.url;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s", r.rc, r.err);
	ck_assert_uint_ge(s.n_req, 3);
	for (size_t i = 0; i < s.n_req; i++)
		ck_assert_str_eq(s.req[i].peer, "127.0.0.1");
	tu_cli_free(&r);
	ts_stop(&s);
}
END_TEST

/* Every request of a 3-device, 2-second run asks for Connection: close,
 * or none does (--keep-alive). */
static void policy(bool keep_alive)
{
	testsrv s;
	const char *args[] = {"--server", NULL, "--devices", "3",
			      "--duration", "2s", "--interval", "1",
			      keep_alive ? "--keep-alive" : NULL, NULL};
	tu_cli_result r;
	size_t closing = 0;

	ck_assert_int_eq(ts_start(&s), 0);
	args[1] = s.url;
	r = tu_cli(load_main, "load", args);
	ck_assert_msg(r.rc == LOAD_EXIT_OK, "rc %d: %s", r.rc, r.err);
	ck_assert_uint_ge(s.n_req, 6);
	for (size_t i = 0; i < s.n_req; i++)
		closing += s.req[i].conn_close;
	ck_assert_msg(closing == (keep_alive ? 0 : s.n_req), "%zu of %zu "
		      "requests asked for Connection: close%s", closing,
		      s.n_req, keep_alive ? " with --keep-alive" : "");
	tu_cli_free(&r);
	ts_stop(&s);
}

START_TEST(short_connections_by_default_reused_with_keep_alive)
{
	policy(false);
	policy(true);
}
END_TEST

static void refused(const char *range, const char *want1, const char *want2)
{
	const char *args[] = {"--server", "mock", "--devices", "2",
			      "--duration", "1s", "--source-addrs", range, NULL};
	tu_cli_result r = tu_cli(load_main, "load", args);

	ck_assert_int_eq(r.rc, LOAD_EXIT_CANNOT_RUN);
	ck_assert_msg(strstr(r.err, want1) && strstr(r.err, want2),
		      "for %s: %s", range, r.err);
	tu_cli_free(&r);
}

START_TEST(ranges_that_break_the_rule_cannot_run_naming_value_and_rule)
{
	refused("127.0.0.9-127.0.0.2", "--source-addrs is "
		"\"127.0.0.9-127.0.0.2\"", "the first address is above the last");
	refused("127.0.0.2-127.0.1.2", "\"127.0.0.2-127.0.1.2\"",
		"not in one /24");
	refused("127.0.0", "\"127.0.0\"", "an IPv4 address or a range A-B");
	refused("::1", "\"::1\"", "an IPv4 address");
	refused("127.0.0.2-", "\"127.0.0.2-\"", "A <= B, in one /24");
	/* TEST-NET-1 (RFC 5737): never an address of this machine */
	refused("192.0.2.1-192.0.2.3", "192.0.2.1 cannot be bound on this "
		"machine", "a source address must be one of its own");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load_src");
	TCase *run = tcase_create("run");

	tcase_set_timeout(run, 60);
	tcase_add_test(run, connections_leave_from_all_and_only_the_given_addresses);
	tcase_add_test(run, without_source_addrs_the_system_picks_127_0_0_1);
	tcase_add_test(run, short_connections_by_default_reused_with_keep_alive);
	tcase_add_test(run, ranges_that_break_the_rule_cannot_run_naming_value_and_rule);
	suite_add_tcase(s, run);
	return tu_run(s);
}
