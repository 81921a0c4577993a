/* YAML documents as JSON: a request file given to `hret submit` may be YAML, and `hret api`
 * serves schemas/openapi.yaml as JSON. YAML 1.2 core schema for plain scalars (null, true/false,
 * numbers; everything else and every quoted scalar is a string); anchors and aliases are
 * refused, and so is a key repeated in one mapping. Messages name FILE:LINE:COLUMN. */
#ifndef HRET_YAML_JSON_H
#define HRET_YAML_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "hret_err.h"

/* The first YAML document of len bytes of text (file names it in messages; borrowed); nesting
 * deeper than max_depth is refused. Caller owns result; NULL with err set (HRET_E_INVAL,
 * "FILE:LINE:COLUMN: ..."). */
cJSON *hret_yaml_parse(const char *file, const char *text, size_t len, int max_depth,
                       struct hret_err *err);

/* The same as compact JSON text. Caller owns result (free()). */
char *hret_yaml_to_json(const char *file, const char *text, size_t len, int max_depth,
                        struct hret_err *err);

#endif
