#include "hret_cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "hret_buf.h"
#include "hret_mem.h"

#define CFG_MAX_BYTES (1u << 20)
#define PATH_MAX_LEN 256

struct load {
    yaml_document_t *doc;
    const char *name;
    struct hret_strlist *problems;
    struct hret_err *err;
    size_t count;                     /* problems seen */
    struct hret_cfg_sources *sources; /* nullable: where each value came from */
};

static void *at(void *base, const struct hret_cfg_field *f)
{
    return (char *)base + f->offset;
}

static const void *cat(const void *base, const struct hret_cfg_field *f)
{
    return (const char *)base + f->offset;
}

void hret_strlist_push(struct hret_strlist *l, char *s)
{
    l->items = hret_xrealloc(l->items, (l->count + 1) * sizeof *l->items);
    l->items[l->count++] = s;
}

void hret_strlist_split(struct hret_strlist *l, const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            hret_strlist_push(l, hret_xstrndup(p, n));
        }
        p += n + (p[n] == ',');
    }
}

void hret_strlist_fini(struct hret_strlist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static void kvlist_fini(struct hret_kvlist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    free(l->keys);
    free(l->values);
    memset(l, 0, sizeof *l);
}

static void kvlist_push(struct hret_kvlist *l, const char *k, const char *v)
{
    l->keys = hret_xrealloc(l->keys, (l->count + 1) * sizeof *l->keys);
    l->values = hret_xrealloc(l->values, (l->count + 1) * sizeof *l->values);
    l->keys[l->count] = hret_xstrdup(k);
    l->values[l->count] = hret_xstrdup(v);
    l->count++;
}

void hret_cfg_sources_note(struct hret_cfg_sources *s, const char *path, const char *source)
{
    if (s != NULL) {
        kvlist_push(&s->set, path, source);
    }
}

void hret_cfg_sources_fini(struct hret_cfg_sources *s)
{
    if (s != NULL) {
        kvlist_fini(&s->set);
    }
}

/* The latest source noted for path, or NULL (the built-in default). */
static const char *source_of(const struct hret_cfg_sources *s, const char *path)
{
    for (size_t i = s ? s->set.count : 0; i > 0; i--) {
        if (strcmp(s->set.keys[i - 1], path) == 0) {
            return s->set.values[i - 1];
        }
    }
    return NULL;
}

static void problem(struct load *ld, const char *where, const char *path, const char *fmt, ...)
    HRET_PRINTF(4, 5);

static void problem(struct load *ld, const char *where, const char *path, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *line = *path ? hret_xasprintf("%s: %s: %s", where, path, msg)
                       : hret_xasprintf("%s: %s", where, msg);
    hret_err_set(ld->err, HRET_E_CONFIG, "%s", line);
    ld->count++;
    if (ld->problems != NULL) {
        hret_strlist_push(ld->problems, line);
    } else {
        free(line);
    }
}

/* "file:line:col" of a node (libyaml marks are 0-based). */
static void where_of(const struct load *ld, const yaml_node_t *n, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%zu:%zu", ld->name, n->start_mark.line + 1, n->start_mark.column + 1);
}

/* ---- scalar values ---------------------------------------------------------------------- */

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    for (size_t i = 0; yes[i]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool check_bounds(const struct hret_cfg_field *f, double v, char *msg, size_t cap)
{
    if (f->min < f->max && (v < f->min || v > f->max)) {
        snprintf(msg, cap, "must be between %.15g and %.15g, got %.15g", f->min, f->max, v);
        return false;
    }
    return true;
}

/* Sets a scalar field from text. On failure writes the reason to msg and returns false. */
static bool set_scalar(const struct hret_cfg_field *f, void *base, const char *s, char *msg,
                       size_t cap)
{
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case HRET_CFG_STR: {
        if (f->check != NULL && !f->check(s, msg, cap)) {
            return false;
        }
        char **slot = at(base, f);
        free(*slot);
        *slot = hret_xstrdup(s);
        return true;
    }
    case HRET_CFG_INT: {
        long long v = strtoll(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno == ERANGE) {
            snprintf(msg, cap, "expected an integer, got '%.64s'", s);
            return false;
        }
        if (!check_bounds(f, (double)v, msg, cap)) {
            return false;
        }
        *(long long *)at(base, f) = v;
        return true;
    }
    case HRET_CFG_DOUBLE: {
        double v = strtod(s, &end);
        if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v)) {
            snprintf(msg, cap, "expected a number, got '%.64s'", s);
            return false;
        }
        if (!check_bounds(f, v, msg, cap)) {
            return false;
        }
        *(double *)at(base, f) = v;
        return true;
    }
    case HRET_CFG_BOOL:
        if (!parse_bool(s, (bool *)at(base, f))) {
            snprintf(msg, cap, "expected true or false, got '%.64s'", s);
            return false;
        }
        return true;
    case HRET_CFG_ENUM:
        for (int i = 0; f->enums[i] != NULL; i++) {
            if (strcasecmp(s, f->enums[i]) == 0) {
                *(int *)at(base, f) = i;
                return true;
            }
        }
        {
            struct hret_buf b;
            hret_buf_init(&b, 512);
            for (int i = 0; f->enums[i] != NULL; i++) {
                hret_buf_appendf(&b, NULL, "%s%s", i ? ", " : "", f->enums[i]);
            }
            snprintf(msg, cap, "expected one of %s, got '%.64s'", hret_buf_str(&b), s);
            hret_buf_fini(&b);
        }
        return false;
    case HRET_CFG_STRLIST: { /* from the environment: comma-separated */
        struct hret_strlist *l = at(base, f);
        hret_strlist_fini(l);
        hret_strlist_split(l, s);
        return true;
    }
    default:
        snprintf(msg, cap, "cannot be set from a single value");
        return false;
    }
}

static void apply_defaults(const struct hret_cfg_table *t, void *base)
{
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        char msg[256];
        if (f->type == HRET_CFG_SECTION) {
            apply_defaults(f->sub, at(base, f));
        } else if (f->def != NULL && !set_scalar(f, base, f->def, msg, sizeof msg)) {
            fprintf(stderr, "hret: bad built-in default for %s: %s\n", f->key, msg);
            abort();
        }
    }
}

/* ---- YAML walk --------------------------------------------------------------------------- */

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *s = (const char *)n->data.scalar.value;
    return *s == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE    ? "a mapping"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a scalar";
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return SIZE_MAX;
    }
    size_t row[64];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *hret_cfg_suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        /* the start of the name: timeout for timeout_ms, acc for accuracy */
        size_t d =
            len >= 3 && strncmp(names[i], word, len) == 0 ? 1 : edit_distance(word, names[i]);
        if (d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

static const struct hret_cfg_field *find_field(const struct hret_cfg_table *t, const char *key)
{
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        if (strcmp(f->key, key) == 0) {
            return f;
        }
    }
    return NULL;
}

static void unknown_key(struct load *ld, const struct hret_cfg_table *t, const yaml_node_t *kn,
                        const char *path)
{
    const char *key = (const char *)kn->data.scalar.value;
    char where[PATH_MAX_LEN + 64];
    where_of(ld, kn, where, sizeof where);
    char secret_ref[128];
    snprintf(secret_ref, sizeof secret_ref, "%s_env", key);
    if (find_field(t, secret_ref) != NULL) {
        problem(ld, where, path,
                "unknown key '%s': secrets are never read from the config file; name an "
                "environment variable with '%s_env' or a file with '%s_file'",
                key, key, key);
        return;
    }
    size_t n = 0;
    while (t->fields[n].key != NULL) {
        n++;
    }
    const char **names = hret_xcalloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        names[i] = t->fields[i].key;
    }
    const char *best = hret_cfg_suggest(key, names, n);
    free(names);
    if (best != NULL) {
        problem(ld, where, path, "unknown key '%s' (did you mean '%s'?)", key, best);
    } else {
        problem(ld, where, path, "unknown key '%s'", key);
    }
}

static void walk_mapping(struct load *ld, const struct hret_cfg_table *t, void *base,
                         yaml_node_t *n, const char *path);

/* A key of mapping n that an earlier pair of n already has is a problem, at every depth (field
 * tables, named entries such as models:, free maps such as extra_body). True when repeated. */
static bool repeated_key(struct load *ld, const yaml_node_t *n, const yaml_node_pair_t *p,
                         const char *path)
{
    yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
    if (kn->type != YAML_SCALAR_NODE) {
        return false;
    }
    const char *key = (const char *)kn->data.scalar.value;
    for (const yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *earlier = yaml_document_get_node(ld->doc, q->key);
        if (earlier->type == YAML_SCALAR_NODE &&
            strcmp((const char *)earlier->data.scalar.value, key) == 0) {
            char where[PATH_MAX_LEN + 64];
            where_of(ld, kn, where, sizeof where);
            problem(ld, where, path, "duplicate key '%s'", key);
            return true;
        }
    }
    return false;
}

static void *array_push(struct hret_cfg_array *a, const struct hret_cfg_table *sub)
{
    a->items = hret_xrealloc(a->items, (a->count + 1) * sub->size);
    void *elem = (char *)a->items + a->count * sub->size;
    memset(elem, 0, sub->size);
    a->count++;
    apply_defaults(sub, elem);
    return elem;
}

static void walk_value(struct load *ld, const struct hret_cfg_field *f, void *base, yaml_node_t *v,
                       const char *path)
{
    char where[PATH_MAX_LEN + 64];
    where_of(ld, v, where, sizeof where);
    char msg[256];
    if (f->type != HRET_CFG_SECTION) {
        hret_cfg_sources_note(ld->sources, path, where);
    }
    switch (f->type) {
    case HRET_CFG_SECTION:
        walk_mapping(ld, f->sub, at(base, f), v, path);
        return;
    case HRET_CFG_NAMED: {
        if (v->type != YAML_MAPPING_NODE) {
            problem(ld, where, path, "expected a mapping of names, got %s", node_kind(v));
            return;
        }
        struct hret_cfg_array *a = at(base, f);
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
            if (repeated_key(ld, v, p, path)) {
                continue;
            }
            const char *name = (const char *)kn->data.scalar.value;
            char sub[PATH_MAX_LEN];
            snprintf(sub, sizeof sub, "%s.%s", path, name);
            void *elem = array_push(a, f->sub);
            *(char **)elem = hret_xstrdup(name);
            walk_mapping(ld, f->sub, elem, yaml_document_get_node(ld->doc, p->value), sub);
        }
        return;
    }
    case HRET_CFG_LIST:
    case HRET_CFG_STRLIST: {
        if (v->type != YAML_SEQUENCE_NODE) {
            problem(ld, where, path, "expected a list, got %s", node_kind(v));
            return;
        }
        if (f->type == HRET_CFG_STRLIST) {
            hret_strlist_fini(at(base, f));
        }
        size_t i = 0;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++, i++) {
            yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
            char sub[PATH_MAX_LEN];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (f->type == HRET_CFG_LIST) {
                walk_mapping(ld, f->sub, array_push(at(base, f), f->sub), item, sub);
            } else if (item->type != YAML_SCALAR_NODE) {
                char w[PATH_MAX_LEN + 64];
                where_of(ld, item, w, sizeof w);
                problem(ld, w, sub, "expected a scalar, got %s", node_kind(item));
            } else {
                hret_strlist_push(at(base, f), hret_xstrdup((const char *)item->data.scalar.value));
            }
        }
        return;
    }
    case HRET_CFG_MAP: {
        if (v->type != YAML_MAPPING_NODE) {
            problem(ld, where, path, "expected a mapping, got %s", node_kind(v));
            return;
        }
        struct hret_kvlist *l = at(base, f);
        kvlist_fini(l);
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
            yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
            if (repeated_key(ld, v, p, path)) {
                continue;
            }
            if (vn->type != YAML_SCALAR_NODE) {
                char w[PATH_MAX_LEN + 64];
                where_of(ld, vn, w, sizeof w);
                problem(ld, w, path, "'%s': expected a scalar value, got %s",
                        (const char *)kn->data.scalar.value, node_kind(vn));
                continue;
            }
            kvlist_push(l, (const char *)kn->data.scalar.value,
                        (const char *)vn->data.scalar.value);
        }
        return;
    }
    default:
        if (v->type != YAML_SCALAR_NODE) {
            problem(ld, where, path, "expected a single value, got %s", node_kind(v));
        } else if (!set_scalar(f, base, (const char *)v->data.scalar.value, msg, sizeof msg)) {
            problem(ld, where, path, "%s", msg);
        }
        return;
    }
}

/* Required keys must appear in the mapping itself (with a value). */
static void require_keys(struct load *ld, const struct hret_cfg_table *t, yaml_node_t *n,
                         const char *path)
{
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        if (!(f->flags & HRET_CFG_F_REQUIRED)) {
            continue;
        }
        bool found = false;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
            yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
            found = found || (kn->type == YAML_SCALAR_NODE && !is_null(vn) &&
                              strcmp((const char *)kn->data.scalar.value, f->key) == 0);
        }
        if (!found) {
            char where[PATH_MAX_LEN + 64];
            where_of(ld, n, where, sizeof where);
            problem(ld, where, path, "required key '%s' is missing", f->key);
        }
    }
}

static void walk_mapping(struct load *ld, const struct hret_cfg_table *t, void *base,
                         yaml_node_t *n, const char *path)
{
    char where[PATH_MAX_LEN + 64];
    where_of(ld, n, where, sizeof where);
    if (n->type != YAML_MAPPING_NODE) {
        problem(ld, where, path, "expected a mapping, got %s", node_kind(n));
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(ld->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(ld->doc, p->value);
        if (kn->type != YAML_SCALAR_NODE) {
            where_of(ld, kn, where, sizeof where);
            problem(ld, where, path, "keys must be plain names, got %s", node_kind(kn));
            continue;
        }
        const char *key = (const char *)kn->data.scalar.value;
        repeated_key(ld, n, p, path);
        const struct hret_cfg_field *f = find_field(t, key);
        if (f == NULL) {
            unknown_key(ld, t, kn, path);
            continue;
        }
        char sub[PATH_MAX_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (!is_null(vn)) {
            walk_value(ld, f, base, vn, sub);
        }
    }
    require_keys(ld, t, n, path);
}

/* ---- environment and required keys --------------------------------------------------------- */

static void env_name(const char *path, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "HRET_%s", path);
    for (size_t i = 5; i < n && i < cap; i++) {
        out[i] = out[i] == '.' ? '_' : (char)toupper((unsigned char)out[i]);
    }
}

static bool is_scalar_type(enum hret_cfg_type t)
{
    return t <= HRET_CFG_STRLIST;
}

static void apply_env(struct load *ld, const struct hret_cfg_table *t, void *base, const char *path)
{
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        char sub[PATH_MAX_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
        if (f->type == HRET_CFG_SECTION) {
            apply_env(ld, f->sub, at(base, f), sub);
            continue;
        }
        if (!is_scalar_type(f->type)) {
            continue;
        }
        char name[PATH_MAX_LEN + 8];
        env_name(sub, name, sizeof name);
        const char *v = getenv(name);
        if (v == NULL) {
            continue;
        }
        char msg[256];
        char where[PATH_MAX_LEN + 32];
        snprintf(where, sizeof where, "environment %s", name);
        if (!set_scalar(f, base, v, msg, sizeof msg)) {
            problem(ld, where, sub, "%s", msg);
        }
        hret_cfg_sources_note(ld->sources, sub, where);
    }
}

/* ---- loading ------------------------------------------------------------------------------ */

enum hret_result hret_cfg_load_text(const struct hret_cfg_table *table, void *obj, const char *name,
                                    const char *text, size_t len, struct hret_strlist *problems,
                                    struct hret_err *err)
{
    return hret_cfg_load_text_traced(table, obj, name, text, len, NULL, problems, err);
}

enum hret_result hret_cfg_load_text_traced(const struct hret_cfg_table *table, void *obj,
                                           const char *name, const char *text, size_t len,
                                           struct hret_cfg_sources *sources,
                                           struct hret_strlist *problems, struct hret_err *err)
{
    struct load ld = {NULL, name, problems, err, 0, sources};
    apply_defaults(table, obj);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        return hret_err_set(err, HRET_E_FATAL, "libyaml: cannot initialise the parser");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        char where[PATH_MAX_LEN + 64];
        snprintf(where, sizeof where, "%s:%zu:%zu", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1);
        problem(&ld, where, "", "YAML syntax error: %s%s%s%s",
                parser.problem ? parser.problem : "?", parser.context ? " (" : "",
                parser.context ? parser.context : "", parser.context ? ")" : "");
        yaml_parser_delete(&parser);
        return HRET_E_CONFIG;
    }
    ld.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL && !is_null(root)) {
        walk_mapping(&ld, table, obj, root, "");
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    apply_env(&ld, table, obj, "");
    return ld.count ? HRET_E_CONFIG : HRET_OK;
}

enum hret_result hret_cfg_load_file(const struct hret_cfg_table *table, void *obj, const char *path,
                                    struct hret_strlist *problems, struct hret_err *err)
{
    return hret_cfg_load_file_traced(table, obj, path, NULL, problems, err);
}

enum hret_result hret_cfg_load_file_traced(const struct hret_cfg_table *table, void *obj,
                                           const char *path, struct hret_cfg_sources *sources,
                                           struct hret_strlist *problems, struct hret_err *err)
{
    if (path == NULL) {
        return hret_cfg_load_text_traced(table, obj, "(defaults)", "", 0, sources, problems, err);
    }
    struct hret_buf b;
    hret_buf_init(&b, CFG_MAX_BYTES);
    struct hret_err ferr = HRET_ERR_INIT;
    enum hret_result r = hret_buf_append_file(&b, path, &ferr);
    if (r != HRET_OK) {
        apply_defaults(table, obj);
        hret_err_set(err, HRET_E_CONFIG, "%s", ferr.msg);
        if (problems != NULL) {
            hret_strlist_push(problems, hret_xstrdup(ferr.msg));
        }
        hret_buf_fini(&b);
        return HRET_E_CONFIG;
    }
    r = hret_cfg_load_text_traced(table, obj, path, b.data, b.len, sources, problems, err);
    hret_buf_fini(&b);
    return r;
}

void hret_cfg_free(const struct hret_cfg_table *table, void *obj)
{
    for (const struct hret_cfg_field *f = table->fields; f->key; f++) {
        switch (f->type) {
        case HRET_CFG_STR:
            free(*(char **)at(obj, f));
            *(char **)at(obj, f) = NULL;
            break;
        case HRET_CFG_STRLIST:
            hret_strlist_fini(at(obj, f));
            break;
        case HRET_CFG_MAP:
            kvlist_fini(at(obj, f));
            break;
        case HRET_CFG_SECTION:
            hret_cfg_free(f->sub, at(obj, f));
            break;
        case HRET_CFG_NAMED:
        case HRET_CFG_LIST: {
            struct hret_cfg_array *a = at(obj, f);
            for (size_t i = 0; i < a->count; i++) {
                void *elem = (char *)a->items + i * f->sub->size;
                if (f->type == HRET_CFG_NAMED) {
                    free(*(char **)elem);
                }
                hret_cfg_free(f->sub, elem);
            }
            free(a->items);
            a->items = NULL;
            a->count = 0;
            break;
        }
        default:
            break;
        }
    }
}

/* ---- output ------------------------------------------------------------------------------- */

static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\x%02x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void dump_scalar(const struct hret_cfg_field *f, const void *base, FILE *out)
{
    switch (f->type) {
    case HRET_CFG_STR: {
        const char *s = *(char *const *)cat(base, f);
        if (s == NULL) {
            fputs("~", out);
        } else {
            put_quoted(out, (f->flags & HRET_CFG_F_SECRET) && *s ? "<redacted>" : s);
        }
        break;
    }
    case HRET_CFG_INT:
        fprintf(out, "%lld", *(const long long *)cat(base, f));
        break;
    case HRET_CFG_DOUBLE:
        fprintf(out, "%.15g", *(const double *)cat(base, f));
        break;
    case HRET_CFG_BOOL:
        fputs(*(const bool *)cat(base, f) ? "true" : "false", out);
        break;
    case HRET_CFG_ENUM:
        fputs(f->enums[*(const int *)cat(base, f)], out);
        break;
    case HRET_CFG_STRLIST: {
        const struct hret_strlist *l = cat(base, f);
        fputc('[', out);
        for (size_t i = 0; i < l->count; i++) {
            fputs(i ? ", " : "", out);
            put_quoted(out, l->items[i]);
        }
        fputc(']', out);
        break;
    }
    default:
        break;
    }
}

/* "  # source" after a value when sources are traced: the file position, the environment
 * variable or "default". */
static void put_source(const struct hret_cfg_sources *s, const char *path, FILE *out)
{
    if (s != NULL) {
        const char *from = source_of(s, path);
        fprintf(out, "  # %s", from ? from : "default");
    }
}

struct dump_ctx {
    const struct hret_cfg_sources *sources; /* nullable */
    FILE *out;
};

static void dump(const struct dump_ctx *c, const struct hret_cfg_table *t, const void *base,
                 const char *path, int indent);

static void dump_entries(const struct dump_ctx *c, const struct hret_cfg_field *f, const void *base,
                         const char *path, int indent)
{
    const struct hret_cfg_array *a = cat(base, f);
    fputs(a->count ? "" : (f->type == HRET_CFG_NAMED ? " {}" : " []"), c->out);
    put_source(c->sources, path, c->out);
    fputc('\n', c->out);
    for (size_t i = 0; i < a->count; i++) {
        const void *elem = (const char *)a->items + i * f->sub->size;
        char sub[PATH_MAX_LEN];
        if (f->type == HRET_CFG_NAMED) {
            fprintf(c->out, "%*s", indent + 2, "");
            put_quoted(c->out, *(char *const *)elem);
            fputs(":\n", c->out);
            snprintf(sub, sizeof sub, "%s.%s", path, *(char *const *)elem);
        } else {
            fprintf(c->out, "%*s-\n", indent + 2, "");
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        }
        dump(c, f->sub, elem, sub, indent + 4);
    }
}

static void dump(const struct dump_ctx *c, const struct hret_cfg_table *t, const void *base,
                 const char *path, int indent)
{
    FILE *out = c->out;
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        char sub[PATH_MAX_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
        fprintf(out, "%*s%s:", indent, "", f->key);
        if (is_scalar_type(f->type)) {
            fputc(' ', out);
            dump_scalar(f, base, out);
            put_source(c->sources, sub, out);
            fputc('\n', out);
        } else if (f->type == HRET_CFG_SECTION) {
            fputc('\n', out);
            dump(c, f->sub, cat(base, f), sub, indent + 2);
        } else if (f->type == HRET_CFG_MAP) {
            const struct hret_kvlist *l = cat(base, f);
            fputs(l->count ? "" : " {}", out);
            put_source(c->sources, sub, out);
            fputc('\n', out);
            for (size_t i = 0; i < l->count; i++) {
                fprintf(out, "%*s", indent + 2, "");
                put_quoted(out, l->keys[i]);
                fputs(": ", out);
                put_quoted(out, (f->flags & HRET_CFG_F_SECRET) ? "<redacted>" : l->values[i]);
                fputc('\n', out);
            }
        } else {
            dump_entries(c, f, base, sub, indent);
        }
    }
}

void hret_cfg_dump(const struct hret_cfg_table *table, const void *obj, FILE *out)
{
    hret_cfg_dump_sources(table, obj, NULL, out);
}

void hret_cfg_dump_sources(const struct hret_cfg_table *table, const void *obj,
                           const struct hret_cfg_sources *sources, FILE *out)
{
    struct dump_ctx c = {sources, out};
    dump(&c, table, obj, "", 0);
}

static const char *type_name(const struct hret_cfg_field *f)
{
    static const char *const names[] = {
        "string",          "integer", "number",  "boolean",       "enum",
        "list of strings", "map",     "section", "named entries", "list"};
    return names[f->type];
}

static void reference(const struct hret_cfg_table *t, const char *path, bool env_ok, FILE *out)
{
    for (const struct hret_cfg_field *f = t->fields; f->key; f++) {
        char sub[PATH_MAX_LEN];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
        if (f->type == HRET_CFG_SECTION) {
            reference(f->sub, sub, env_ok, out);
            continue;
        }
        char env[PATH_MAX_LEN + 8] = "";
        if (env_ok && is_scalar_type(f->type)) {
            env_name(sub, env, sizeof env);
        }
        fprintf(out, "| `%s` | %s", sub, type_name(f));
        if (f->type == HRET_CFG_ENUM) {
            fputs(":", out);
            for (int i = 0; f->enums[i]; i++) {
                fprintf(out, "%s`%s`", i ? "," : " ", f->enums[i]);
            }
        }
        if (f->min < f->max) {
            fprintf(out, " (%.15g..%.15g)", f->min, f->max);
        }
        fprintf(out, " | %s%s%s | %s%s%s | %s%s |\n", f->def ? "`" : "", f->def ? f->def : "",
                f->def ? "`" : "", *env ? "`" : "", env, *env ? "`" : "", f->desc,
                (f->flags & HRET_CFG_F_REQUIRED) ? " Required." : "");
        if (f->type == HRET_CFG_NAMED) {
            snprintf(sub, sizeof sub, "%s%s%s.<name>", path, *path ? "." : "", f->key);
            reference(f->sub, sub, false, out);
        } else if (f->type == HRET_CFG_LIST) {
            snprintf(sub, sizeof sub, "%s%s%s[]", path, *path ? "." : "", f->key);
            reference(f->sub, sub, false, out);
        }
    }
}

void hret_cfg_reference(const struct hret_cfg_table *table, FILE *out)
{
    fputs("| key | type | default | environment | description |\n", out);
    fputs("|---|---|---|---|---|\n", out);
    reference(table, "", true, out);
}
