/* YAML to JSON (see hret_yaml_json.h). */
#include "hret_yaml_json.h"

#include <stdbool.h>
#include <string.h>

#include <yaml.h>

#include "hret_json.h"

static cJSON *yaml_scalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return cJSON_CreateString(v);
    }
    if (v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
        strcmp(v, "NULL") == 0) {
        return cJSON_CreateNull();
    }
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
        return cJSON_CreateTrue();
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0) {
        return cJSON_CreateFalse();
    }
    cJSON *num =
        strspn(v, "+-0123456789.eE") == strlen(v) ? cJSON_Parse(v[0] == '+' ? v + 1 : v) : NULL;
    if (num != NULL && cJSON_IsNumber(num)) {
        return num;
    }
    cJSON_Delete(num);
    return cJSON_CreateString(v);
}

/* Reads one node whose first event is ev (consumed); caller owns result, NULL on error. */
static cJSON *yaml_node(const char *file, yaml_parser_t *p, yaml_event_t *ev, struct hret_err *err,
                        int depth, int max_depth)
{
    if (depth > max_depth) {
        hret_err_set(err, HRET_E_INVAL, "%s: nesting deeper than %d levels", file, max_depth);
        return NULL;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        return yaml_scalar(ev);
    }
    if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT) {
        hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: anchors and aliases are not supported", file,
                     ev->start_mark.line + 1, ev->start_mark.column + 1);
        return NULL;
    }
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    cJSON *out = map ? cJSON_CreateObject() : cJSON_CreateArray();
    for (;;) {
        yaml_event_t k, v;
        if (!yaml_parser_parse(p, &k)) {
            hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: %s", file, p->problem_mark.line + 1,
                         p->problem_mark.column + 1, p->problem);
            break;
        }
        if (k.type == YAML_SEQUENCE_END_EVENT || k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return out;
        }
        cJSON *item = NULL;
        if (!map) {
            item = yaml_node(file, p, &k, err, depth + 1, max_depth);
            yaml_event_delete(&k);
            if (item == NULL) {
                break;
            }
            cJSON_AddItemToArray(out, item);
            continue;
        }
        if (k.type != YAML_SCALAR_EVENT) {
            hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: keys must be plain text", file,
                         k.start_mark.line + 1, k.start_mark.column + 1);
            yaml_event_delete(&k);
            break;
        }
        if (!yaml_parser_parse(p, &v)) {
            hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: %s", file, p->problem_mark.line + 1,
                         p->problem_mark.column + 1, p->problem);
            yaml_event_delete(&k);
            break;
        }
        const char *key = (const char *)k.data.scalar.value;
        if (cJSON_GetObjectItemCaseSensitive(out, key) != NULL) {
            hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: repeated key '%s'", file,
                         k.start_mark.line + 1, k.start_mark.column + 1, key);
            yaml_event_delete(&v);
            yaml_event_delete(&k);
            break;
        }
        item = yaml_node(file, p, &v, err, depth + 1, max_depth);
        yaml_event_delete(&v);
        if (item != NULL) {
            cJSON_AddItemToObject(out, (const char *)k.data.scalar.value, item);
        }
        yaml_event_delete(&k);
        if (item == NULL) {
            break;
        }
    }
    cJSON_Delete(out);
    return NULL;
}

cJSON *hret_yaml_parse(const char *file, const char *text, size_t len, int max_depth,
                       struct hret_err *err)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    cJSON *doc = NULL;
    yaml_event_t ev;
    while (doc == NULL && err->code == HRET_OK) {
        if (!yaml_parser_parse(&p, &ev)) {
            hret_err_set(err, HRET_E_INVAL, "%s:%zu:%zu: %s", file, p.problem_mark.line + 1,
                         p.problem_mark.column + 1, p.problem);
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
            doc = yaml_node(file, &p, &ev, err, 1, max_depth);
        } else if (t == YAML_STREAM_END_EVENT) {
            hret_err_set(err, HRET_E_INVAL, "%s: the file is empty", file);
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return doc;
}

char *hret_yaml_to_json(const char *file, const char *text, size_t len, int max_depth,
                        struct hret_err *err)
{
    cJSON *doc = hret_yaml_parse(file, text, len, max_depth, err);
    char *json = doc ? hret_json_print(doc) : NULL;
    cJSON_Delete(doc);
    return json;
}
