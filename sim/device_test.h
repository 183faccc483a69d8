/* device_test.h -- TEST AND BENCHMARK HOOKS into the simulated device
 * (device.c, device_cmd.c, device_hw.c): what tests/check_device.c,
 * tests/fuzz/fuzz_device.c and tests/bench_device.c observe or drive that
 * device.h does not offer.  Product code (sim/, conformance/, tools/) never
 * includes this; the device's internals stay in device_int.h. */
#ifndef CAMSIM_DEVICE_TEST_H
#define CAMSIM_DEVICE_TEST_H

#include "device.h"

#include <stddef.h>
#include <stdint.h>

/* Applies a server's 200 body as if an exchange had returned it (D42);
 * never fails, problems become events. */
void dev_test_apply_body(dev *d, const char *body, size_t len);

/* The device clock in UTC seconds (what the records it writes carry). */
int64_t dev_test_now_s(const dev *d);

/* The device's configuration (complete: every has_ set); lives as long
 * as d, changes with the next applied config. */
const proto_config *dev_test_config(const dev *d);

/* The server URL the device currently posts to (owned by d). */
const char *dev_test_url(const dev *d);

/* Stored strategies. */
size_t dev_test_n_strategies(const dev *d);

/* Offline records: stored, dropped at the 2000 cap, set aside. */
int64_t dev_test_n_records(const dev *d);
int64_t dev_test_records_dropped(const dev *d);
int64_t dev_test_n_aside(const dev *d);

/* Moves the device's count of stored records by delta without touching
 * the store, to simulate rows written behind the device's back. */
void dev_test_add_records(dev *d, int64_t delta);

/* Calls fn with each message the device has queued and not yet sent: the
 * one in flight on the control channel first, then the outbox in order.
 * body is the encoded JSON (owned by d, valid during the call). */
typedef void (*dev_test_out_cb)(void *ud, const char *body, size_t len);
void dev_test_each_out(const dev *d, dev_test_out_cb fn, void *ud);

/* Benchmark hook: bytes this idle device holds beyond what all devices
 * share (tests/bench_device.c). */
size_t dev_mem_bytes(const dev *d);

#endif
