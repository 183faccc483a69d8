/* device_test.c -- the hooks of device_test.h: thin reads and writes of
 * the device's internals for tests and benchmarks.  Owns no state and no
 * behaviour of its own; the device's rules stay in device*.c. */
#include "device_test.h"
#include "device_int.h"

void dev_test_apply_body(dev *d, const char *body, size_t len)
{
	dev__apply_body(d, body, len);
}

int64_t dev_test_now_s(const dev *d)
{
	return dev__now_s(d);
}

const proto_config *dev_test_config(const dev *d)
{
	return &d->cfg;
}

const char *dev_test_url(const dev *d)
{
	return d->url;
}

size_t dev_test_n_strategies(const dev *d)
{
	return d->n_strat;
}

int64_t dev_test_n_records(const dev *d)
{
	return d->n_records;
}

int64_t dev_test_records_dropped(const dev *d)
{
	return d->records_dropped;
}

int64_t dev_test_n_aside(const dev *d)
{
	return d->n_aside;
}

void dev_test_add_records(dev *d, int64_t delta)
{
	d->n_records += delta;
}

void dev_test_each_out(const dev *d, dev_test_out_cb fn, void *ud)
{
	if (d->ctrl_msg && d->ctrl_msg->body)
		fn(ud, d->ctrl_msg->body, d->ctrl_msg->len);
	for (const dev_out *q = d->outbox; q; q = q->next)
		if (q->body)
			fn(ud, q->body, q->len);
}
