/* mock_int.h -- what mock.c (the HTTP server), the database files
 * (mock_db.c, mock_queue.c, mock_ingest.c, mock_view.c: the SQLite file and
 * the command state machine) and mock_admin.c (admin API and HTML page)
 * share.  Not for use outside conformance/mock*.c. */
#ifndef CAMSIM_MOCK_INT_H
#define CAMSIM_MOCK_INT_H

#include "mock.h"
#include "web.h"
#include "strbuf.h"
#include "mock_fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <sys/socket.h>

#define MOCK__BODY_MAX (64u << 20) /* a device or admin body, bytes */
#define MOCK__LIST_DEFAULT 100
#define MOCK__LIST_MAX 10000

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

struct mock {
	struct mg_context *mg;
	int port;
	web_addr where;               /* --listen parsed; where mock_stop pokes */
	char *path;                   /* device endpoint */
	char *token;                  /* admin bearer token, NULL: none */
	const proto_profile *prof;
	mock_clock_cb now;
	void *now_ud;
	int64_t timeout_ms;
	FILE *log;
	long deadline_ms;  /* per request, for web_guard */
	web_site site;     /* the names browsers may use (web_check_site) */

	/* The database and every statement: one connection, used under mu
	 * by whichever CivetWeb thread holds it. */
	pthread_mutex_t mu;
	sqlite3 *db;
	char *dbpath;
	sqlite3_stmt **s;

	/* Group commit (mock_ingest.c): device messages that arrive while
	 * one is being stored share its transaction, and each is answered
	 * once that transaction committed.  Under mu but tx_waiting, which
	 * counts the ingests queued for mu. */
	bool tx_open;          /* a shared transaction is open */
	int tx_batch;          /* messages in it */
	uint64_t tx_gen;       /* transactions committed (or failed) */
	bool tx_failed[64];    /* [gen % 64]: that commit failed */
	atomic_int tx_waiting;
	pthread_cond_t tx_cv;  /* tx_gen advanced */

	/* The lean path (mock_ingest.c): at least as many as the commands
	 * pending or sent, so 0 means none is, and a message (a heartbeat
	 * under load) skips the queue's queries.  Counted from the database
	 * when stale (at start, after any rollback); under mu. */
	int64_t open_cmds;
	bool open_known;

	/* Counters since start for GET /admin/stats (mock_ingest.c), under
	 * mu: exchanges by kind ([PROTO_KIND_NONE]: not a V1.16 message),
	 * violations, and device requests per second of the mock's clock
	 * over the last minute (rate_n[i] counts second rate_sec[i]). */
	int64_t by_kind[PROTO_KIND_COUNT];
	int64_t n_must, n_should;
	int64_t rate_sec[60], rate_n[60];

	/* faults (mock_inject.c): the --fault list, each device's list and
	 * the generator, under fmu */
	pthread_mutex_t fmu;
	mock_fault faults[MOCK_FAULT_MAX];
	size_t nfaults;
	struct mock__devfault *dev;
	size_t ndev;
	mock_fault_rng rng;
	atomic_bool stopping; /* mock_stop began: delays end early */

	/* the threads that run device messages' jobs (mock.c), under pmu */
	pthread_mutex_t pmu;
	pthread_cond_t pcv;
	struct mock__job *pq;  /* jobs handed over, not yet taken */
	int pidle;             /* pool threads waiting for a job */
	int pqueued;           /* jobs in pq */
	bool pstop;
	pthread_t pth[8];
	int npth;

	/* retention (mock_retain.c), under mu */
	int64_t retain_age_ms, retain_bytes;
	bool scratch;              /* mock_opts.scratch */
	int64_t retain_last;   /* mock clock of the last pass */
	int64_t retain_since;  /* body bytes stored since then */
};

/* What one device POST became: the answer and the log lines. */
typedef struct mock__exchange {
	int status;
	char *body;        /* malloc'd answer body (NULL: empty) */
	size_t len;
	const char *ctype; /* its Content-Type */
	int64_t msg_id;    /* the stored message (0: none) */
	strbuf log;      /* lines for mock_opts.log */
	mock_fault_hit fault; /* what faults hit this exchange */
	bool written;      /* the answer went out already (streamed) */
	const char *headers; /* static extra header lines ("K: V\r\n"), or NULL */
} mock__exchange;

/* Sets x's answer to status with a one-line text/plain sentence. */
void mock__answer(mock__exchange *x, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The whole answer of x (status line, headers with extra, body) as it
 * goes on the wire, malloc'd; NULL when out of memory. */
char *mock__wire(const mock__exchange *x, const char *extra, size_t *n);

/* UTC ms on the mock's clock. */
int64_t mock__now(mock *m);
/* "2023-11-14T22:13:20.000Z" of UTC ms t into out[32]. */
void mock__iso(int64_t t, char out[32]);

/* ---- mock_db.c, mock_queue.c, mock_ingest.c, mock_view.c ---- */

/* Takes m->mu for anything but ingest, first committing a shared
 * transaction that ingests left open (so that a BEGIN under the lock
 * starts afresh, and readers see only committed data).  Release with
 * pthread_mutex_unlock(&m->mu). */
void mock__lock(mock *m);
/* Initializes / destroys m->mu and the group commit's condition. */
void mock__lock_init(mock *m);
void mock__lock_destroy(mock *m);

/* Device requests per second over the last minute of the mock's clock
 * (the current second left out: it is not over), under mu. */
double mock__rate(mock *m, int64_t now);

/* Opens the database at m->dbpath in WAL mode, in one transaction: an
 * empty file gets the schema, a version-1 mock database is upgraded to
 * MOCK_VERSION, anything else (another application's database, another
 * schema version) is refused and left untouched; then prepares the
 * statements.  0, or CONF_EDB / CONF_ENOMEM with a sentence naming the
 * file in err and nothing left open. */
int mock__db_open(mock *m, char *err, size_t errlen);
/* Finalizes the statements and closes the database; safe after a failed
 * open and twice. */
void mock__db_close(mock *m);

/* Judges, stores and answers one device message body[0..len): the reply
 * carries the commands due (see docs/mock.md).  Fills x (free with
 * mock__exchange_free); never fails beyond x->status 500. */
void mock__ingest(mock *m, const char *body, size_t len,
		  const mock_fault_hit *pre, mock__exchange *x);
/* Stores a device POST refused before its body was read (413), with the
 * sentence why, and fills x with that answer. */
void mock__refuse(mock *m, int status, const char *why, mock__exchange *x);
void mock__exchange_free(mock__exchange *x);

/* mock_enqueue_flags, with every violation of a refused command in rep
 * (may be NULL). */
int64_t mock__enqueue(mock *m, const char *cid, const cJSON *cmd,
		      int flags, proto_report *rep, char *err, size_t errlen);

/* The lists mock__newest reads. */
typedef enum mock__list {
	MOCK__COMMANDS,
	MOCK__RECORDS,
	MOCK__MESSAGES,
	MOCK__REFUSED, /* messages answered 400 and up (docs/mock.md) */
} mock__list;

/* The newest of a list: ids below before, newest first, at most limit, of
 * device cid (NULL: any), in the shapes of mock_commands_json,
 * mock_records_json and mock_messages_json.  For the page and the
 * admin API's ?before=.  Caller deletes; NULL when out of memory or the
 * database failed. */
cJSON *mock__newest(mock *m, mock__list what, const char *cid, int64_t before,
		    size_t limit);

/* Devices whose cid starts with prefix ("" or NULL: all), in cid order,
 * from offset, at most limit, with their online state (docs/mock.md,
 * "Online and offline"):
 * {"total":all devices,"matched":those with the prefix,"offset","limit",
 *  "devices":[mock_devices_json's members + "online":bool]}.  Caller
 * deletes; NULL when out of memory or the database failed. */
cJSON *mock__devices_page(mock *m, const char *prefix, int64_t offset,
			  size_t limit);
/* The counters of GET /admin/stats (docs/mock.md).  Caller deletes;
 * NULL when out of memory or the database failed. */
cJSON *mock__stats(mock *m);

/* Writes message id's summary with its body streamed from the database
 * (the lock taken per chunk, never while writing) through w.  only_body:
 * the stored body alone (application/json, or the raw bytes of one that
 * was not JSON).  0; CONF_ENOTFOUND or CONF_ENOMEM with nothing written;
 * CONF_ESEND once the headers went out (the answer is cut short). */
typedef int (*mock__writer)(void *ud, const void *p, size_t n);
int mock__message_stream(mock *m, int64_t id, bool only_body, mock__writer w,
			 void *ud);

/* ---- mock_inject.c ---- */

/* Parses o's faults and seeds the generator; CONF_EINVAL with err. */
int mock__inject_init(mock *m, const mock_opts *o, char *err, size_t errlen);
void mock__inject_free(mock *m);
/* Draws the global faults of phase, and for MOCK_FAULT_BODY those of
 * device cid (may be NULL), into h. */
void mock__inject_draw(mock *m, mock_fault_phase phase, const char *cid,
		       mock_fault_hit *h);
/* Applies x->fault on the wire: waits the delay, then resets, closes or
 * writes half of the answer.  true when the answer is dealt with (the
 * caller writes nothing), false when the caller writes it as usual. */
struct mg_connection;
bool mock__inject_answer(mock *m, struct mg_connection *c,
			 const mock__exchange *x);

/* ---- mock_retain.c ---- */

/* The ids a retention batch deletes, in m->db's temporary database:
 * made by mock__db_open when retention is on (retain_age_ms or
 * retain_bytes set before it), the only time a pass can run. */
#define MOCK_RETAIN_SCRATCH                                                  \
	"CREATE TEMP TABLE IF NOT EXISTS doomed(id INTEGER PRIMARY KEY);"

/* Deletes what retention allows (docs/mock.md, "Retention") when due:
 * called after each stored message with the bytes it added; takes mu for
 * short batches. */
void mock__retain(mock *m, size_t added);
/* One pass now, whatever is due (tests, start-up). */
int mock__retain_run(mock *m);

/* ---- mock_admin.c ---- */

/* Serves one request under /admin/ or the page at /: fills status,
 * body (malloc'd), its length and Content-Type.  rbody is the request
 * body (POST only). */
typedef struct mock__http {
	const char *method, *uri, *query;
	const char *auth; /* the Authorization header, or NULL */
	const char *body;
	size_t len;
	mock__writer write; /* streams an answer (sets x->written) */
	void *wud;
} mock__http;

void mock__admin(mock *m, const mock__http *rq, mock__exchange *x);

/* ---- mock_page.c ---- */

/* What the page shows: ?prefix= and ?offset= of the device list, and
 * ?device= (a cid, "" for none) whose panel opens. */
typedef struct mock__pageq {
	char prefix[96];
	int64_t offset;
	char device[96];
} mock__pageq;

/* The live page (docs/mock.md, "The live page") into x, with its
 * Content-Security-Policy in x->headers; 500 when out of memory. */
void mock__page(mock *m, const mock__pageq *q, mock__exchange *x);
/* The page's script or style sheet when uri names one ("/admin/page.js",
 * "/admin/page.css"): x filled, true; otherwise false, x untouched. */
bool mock__page_asset(const char *uri, mock__exchange *x);
/* Record id's picture as a JPEG of at most 160 pixels a side, made with
 * the untrusted decoder from a picture of at most 8 MiB: *out malloc'd
 * (*len bytes).  0; CONF_ENOTFOUND (no such record), CONF_EINVAL (no
 * picture to show) or CONF_ENOMEM with a sentence in err. */
int mock__thumb(mock *m, int64_t id, unsigned char **out, size_t *len,
		char *err, size_t errlen);

#endif
