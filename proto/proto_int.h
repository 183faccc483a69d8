/* proto_int.h -- internals of the protocol module: the schema tables that
 * describe every message once, and drive decoding, validation, encoding
 * and the rule catalogue alike.  Only the proto_ sources include this. */
#ifndef CAMSIM_PROTO_INT_H
#define CAMSIM_PROTO_INT_H

#include "proto.h"

#include <cJSON.h>

typedef enum pt_type {
	PT_INT,     /* int64_t at off */
	PT_NUM,     /* double at off */
	PT_STR,     /* const char * at off */
	PT_OBJ,     /* struct at off described by sub (off 0: same struct) */
	PT_ARR_OBJ, /* sub-struct array: pointer at off, size_t at cnt_off */
	PT_ARR_STR, /* const char ** at off, size_t at cnt_off */
	PT_VARIANT, /* object whose schema is picked by one of its keys */
} pt_type;

typedef enum pq_req {
	PQ_OPT = 0,
	PQ_MUST,   /* required */
	PQ_SHOULD, /* expected; absence is a warning */
} pq_req;

/* Value formats beyond type and range.  Each has its own checker in
 * proto_fmt.c and its own rule ids (docs/protocol.md lists them). */
typedef enum px_fmt {
	PX_NONE = 0,
	PX_DATE,     /* "YYYY/MM/DD" */
	PX_HMS,      /* "hh:mm:ss" */
	PX_RANGES,   /* "hh:mm:ss-hh:mm:ss,..." up to 16 */
	PX_WEEK,     /* "1,2,...7" */
	PX_IDLIST,   /* "id1,id2" up to 20 ids of <= 35 bytes */
	PX_BASE64,   /* standard base64, padded */
	PX_URL,      /* http:// or https:// with a host */
	PX_SEX,      /* "male" | "female" (" male" in the as-printed profile) */
	PX_VERSION,  /* "V1.2.1.2", "1.0.1.1" (a device's own: SHOULD) */
	PX_FWVERSION, /* the same in fw_upgrade, which the device refuses
			 otherwise (error 5): MUST */
	PX_CID,      /* device id: printable ASCII, no spaces, <= 64 bytes */
	PX_ID,       /* person id: not empty, no ',' (person_ids could not name it) */
	PX_UTC,      /* UTC seconds; plausible between 2000 and 2100 */
	PX_TZ,       /* seconds east of UTC, whole quarter hours */
	PX_DECI,     /* a temperature "accurate to one decimal place" */
	PX_SEQ,      /* facelib seq: warn when it looks like a send time */
	PX_REUPMODE, /* reupload report mode: 1|2 (3|4 as-printed) */
	PX_PERCENT,  /* 0..100: warn on a fraction of 1 (0.7 for 70) */
} px_fmt;

/* Field flags */
#define FL_DEEP 0x01      /* OBJ: every field below is required too */
#define FL_NODEEP 0x02    /* not required by an enclosing FL_DEEP */
#define FL_QSEX 0x04      /* encode with the profile's sex_leading_space */
#define FL_QF32 0x08      /* encode with the profile's confidence_float32 */
#define FL_OWN 0x10       /* the range is camsim's: the document gives none */

typedef struct proto_schema proto_schema;

typedef struct proto_variant {
	int64_t value; /* selector value */
	const proto_schema *schema;
} proto_variant;

typedef struct proto_field {
	const char *key;
	uint8_t type;  /* pt_type */
	uint8_t req;   /* pq_req */
	uint8_t fmt;   /* px_fmt */
	uint8_t flags; /* FL_* */
	size_t off, has_off, cnt_off; /* has_off == (size_t)-1: none */
	size_t esz;                   /* PT_ARR_OBJ: size of one element */
	bool ranged;
	double lo, hi;      /* inclusive, when ranged */
	uint32_t en;        /* allowed values 0..31 as bits; 0 = any */
	size_t max;         /* bytes (STR), items (ARR_*) ; 0 = no limit */
	size_t min_items;   /* ARR_*: fewest items */
	const proto_schema *sub;
	/* PT_VARIANT: the key whose int value picks the schema, the choices,
	 * and the schema taken when the key is absent (NULL: it is required) */
	const char *sel;
	const proto_variant *vars;
	const proto_schema *sel_absent;
	const char *what; /* the spec's words for it */
} proto_field;

/* A rule not tied to one field's type/range/format: cross-field rules and
 * checks that a schema's check function reports by id. */
typedef struct proto_xrule {
	const char *id;
	proto_severity sev;
	const char *text;
} proto_xrule;

typedef struct proto_vctx proto_vctx;

struct proto_schema {
	const char *name;    /* rule-id prefix */
	const char *section; /* spec section */
	const proto_field *f;
	size_t nf;
	/* cross-field rules of this schema, and their checker (obj: struct) */
	const proto_xrule *x;
	size_t nx;
	void (*check)(proto_vctx *v, const void *obj, const cJSON *json);
	/* keys that are no field but that check reports under its own rule
	 * (instead of unknown_key); NULL-terminated, may be NULL */
	const char *const *reserved;
};

/* Decoding/validation context: the path being walked and where to put
 * results. */
struct proto_vctx {
	const proto_profile *prof;
	proto_arena *a;
	proto_report *rep;
	int oom;
	size_t depth;
	char path[512];
	size_t plen;
	size_t n_must; /* MUST violations, counted even without rep */
};

/* proto_decode.c */
/* Whether o has member key, spelled exactly: V1.16's keys are
 * case-sensitive and so is the decoding, while cJSON_HasObjectItem is
 * not (a "strAtegyId" satisfied the required strategyId). */
static inline bool proto__has(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

void proto__vpush_key(proto_vctx *v, const char *key, size_t *save);
void proto__vpush_idx(proto_vctx *v, size_t i, size_t *save);
void proto__vpop(proto_vctx *v, size_t save);
/* Reports rule `prefix.suffix' (suffix may be NULL) at the current path. */
void proto__viol(proto_vctx *v, proto_severity sev, const char *prefix,
		 const char *suffix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Reports schema s's cross rule `id' (severity from its table). */
void proto__xviol(proto_vctx *v, const proto_schema *s, const char *id,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Decodes object json against s into obj. */
void proto__decode_obj(proto_vctx *v, const proto_schema *s, const cJSON *json,
		       void *obj, bool deep);

/* proto_fmt.c: checks f's format on string/number value; reports. */
void proto__check_fmt(proto_vctx *v, const proto_schema *s,
		      const proto_field *f, const cJSON *item);
/* The rule suffixes a format can report, for the catalogue. */
typedef struct proto_fmt_rule {
	const char *suffix;
	proto_severity sev;
	const char *text;
} proto_fmt_rule;
size_t proto__fmt_rules(px_fmt fmt, const proto_fmt_rule **out);
/* Shortest decimal text that reads back as d. */
void proto__fmt_double(char *buf, size_t n, double d);

/* proto_schema.c */
extern const proto_schema proto__s_reply;
const proto_schema *proto__kind_schema(proto_kind k);
/* Where in proto_msg's union kind k's struct lives (always offset 0). */

#define HAS_NONE ((size_t)-1)

#endif
