/* Configuration declared as field tables (fluent-bit's config map, librdkafka's property table):
 * key, type, offset, default, bounds, description. One loader walks a libyaml document against
 * the tables, so adding a key is one table line. Unknown keys, wrong types and out-of-range
 * values are problems naming file:line:column and the key path; HRET_* environment variables
 * override scalar keys; `hret config show` and the README reference come from the same tables. */
#ifndef HRET_CFG_H
#define HRET_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hret_err.h"

enum hret_cfg_type {
    HRET_CFG_STR,     /* char * (owned by the config) */
    HRET_CFG_INT,     /* long long */
    HRET_CFG_DOUBLE,  /* double */
    HRET_CFG_BOOL,    /* bool */
    HRET_CFG_ENUM,    /* int, index into field->enums */
    HRET_CFG_STRLIST, /* struct hret_strlist, from a YAML sequence of scalars */
    HRET_CFG_MAP,     /* struct hret_kvlist, scalar -> scalar (e.g. librdkafka passthrough) */
    HRET_CFG_SECTION, /* an embedded struct described by field->sub */
    HRET_CFG_NAMED,   /* struct hret_cfg_array of field->sub structs, keyed by name; each
                         element struct starts with `char *name` */
    HRET_CFG_LIST,    /* struct hret_cfg_array of field->sub structs from a YAML sequence */
};

#define HRET_CFG_F_SECRET 0x1u   /* value redacted by hret_cfg_dump */
#define HRET_CFG_F_REQUIRED 0x2u /* must be given (in the file or the environment) */

struct hret_cfg_table;

struct hret_cfg_field {
    const char *key;
    enum hret_cfg_type type;
    size_t offset;
    const char *def;                  /* default, as YAML scalar text; NULL = zero/empty */
    double min, max;                  /* bounds for INT and DOUBLE, checked when min < max */
    const char *const *enums;         /* NULL-terminated names for ENUM */
    const struct hret_cfg_table *sub; /* SECTION, NAMED, LIST */
    unsigned flags;
    /* STR only, nullable: extra validation; on failure writes the reason to msg. */
    bool (*check)(const char *value, char *msg, size_t cap);
    const char *desc; /* one line for the reference; required */
};

struct hret_cfg_table {
    size_t size;                         /* sizeof the struct the fields live in */
    const struct hret_cfg_field *fields; /* terminated by an entry with key == NULL */
};

struct hret_strlist {
    char **items;
    size_t count;
};

struct hret_kvlist {
    char **keys;
    char **values;
    size_t count;
};

struct hret_cfg_array {
    void *items; /* count structs of the sub table's size */
    size_t count;
};

void hret_strlist_push(struct hret_strlist *l, char *s); /* takes ownership of s */
void hret_strlist_fini(struct hret_strlist *l);
/* Appends the non-empty comma-separated items of text (borrowed): "a,,b" -> "a", "b". */
void hret_strlist_split(struct hret_strlist *l, const char *text);

/* The name among n names (borrowed) a user most likely meant by word: one that starts with word
 * (3+ characters: "timeout" -> "timeout_ms", "acc" -> "accuracy") or is within two edits of it;
 * the first of the closest; NULL when none is close. The did-you-mean of config keys and of
 * metric names. */
const char *hret_cfg_suggest(const char *word, const char *const *names, size_t n);

/* Fills obj (a zeroed struct described by table) with defaults, then the YAML file at path
 * (NULL: defaults only), then HRET_* environment overrides. Every problem found is appended to
 * problems (nullable) as "file:line:col: key.path: message"; err gets the first. On failure obj
 * still owns whatever was set: release it with hret_cfg_free. */
enum hret_result hret_cfg_load_file(const struct hret_cfg_table *table, void *obj, const char *path,
                                    struct hret_strlist *problems, struct hret_err *err);
/* The same from text in memory; name labels the problems. */
enum hret_result hret_cfg_load_text(const struct hret_cfg_table *table, void *obj, const char *name,
                                    const char *text, size_t len, struct hret_strlist *problems,
                                    struct hret_err *err);

/* Where each effective value came from: key path ("datasets.root", "models.gpt.base_url",
 * "webhooks[0].url") -> "file:line:col" or "environment HRET_X", later notes winning; a path
 * never noted has its built-in default. Zero-initialise; release with hret_cfg_sources_fini. */
struct hret_cfg_sources {
    struct hret_kvlist set;
};
/* s nullable (then a no-op); path and source borrowed, copied. */
void hret_cfg_sources_note(struct hret_cfg_sources *s, const char *path, const char *source);
void hret_cfg_sources_fini(struct hret_cfg_sources *s); /* NULL is a no-op */

/* hret_cfg_load_file / _text that also note in sources (nullable, caller owns) where each
 * value set by the file or the environment came from. */
enum hret_result hret_cfg_load_file_traced(const struct hret_cfg_table *table, void *obj,
                                           const char *path, struct hret_cfg_sources *sources,
                                           struct hret_strlist *problems, struct hret_err *err);
enum hret_result hret_cfg_load_text_traced(const struct hret_cfg_table *table, void *obj,
                                           const char *name, const char *text, size_t len,
                                           struct hret_cfg_sources *sources,
                                           struct hret_strlist *problems, struct hret_err *err);

void hret_cfg_free(const struct hret_cfg_table *table, void *obj);

/* Effective configuration as YAML, secrets redacted. */
void hret_cfg_dump(const struct hret_cfg_table *table, const void *obj, FILE *out);
/* The same with each value's source as a trailing comment ("# file:line:col", "# environment
 * HRET_X", "# default"); sources nullable (no comments). Still loads as a config. */
void hret_cfg_dump_sources(const struct hret_cfg_table *table, const void *obj,
                           const struct hret_cfg_sources *sources, FILE *out);
/* Markdown reference: one row per key with type, default, environment variable, description. */
void hret_cfg_reference(const struct hret_cfg_table *table, FILE *out);

#endif
