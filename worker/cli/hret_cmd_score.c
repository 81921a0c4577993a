/* hret score: re-score predictions from a JSONL file without calling a model.
 *
 * Each input line is an object with prediction, reference and optional options (strings),
 * method and params; a line's own method and params win over --method and --param (params
 * merged key by key). Other members (id, expected, ...) are copied through; normalized_pred,
 * normalized_ref and is_correct are added (replaced in place if present). A prediction or
 * reference that is null scores as "" and a number or boolean as Python's str() would print it
 * (an integral float such as 2.0 prints "2", as JSON does not tell it from the integer 2).
 * Output line N is input line N: a malformed line is reported with its 1-based number and
 * gets {"line": N, "error": "..."} in its place (exit 1), a blank line stays blank.
 *
 * A results JSON (hret run's file, HRET's save_results layout) is recognised by its shape: each
 * sample of results[].samples becomes one line with the run's evaluation method and params
 * (unless --method is given); a sample the run recorded as an endpoint error gets an error line
 * and is not scored. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_cli.h"
#include "hret_outfile.h"
#include "hret_eval.h"
#include "hret_json.h"
#include "hret_mem.h"

#define LINE_CAP ((size_t)16 << 20) /* bytes per input line */
#define CACHE_SLOTS 16              /* distinct (method, params) evaluators kept alive */
#define MAX_METHODS 32
#define RESULTS_CAP ((size_t)1 << 30) /* bytes of a results JSON read whole */

struct cached {
    char *key; /* method "\n" params JSON */
    const struct hret_evaluator_ops *ops;
    void *state;
};

struct method_count {
    size_t lines, correct;
};

struct score_run {
    const char *method; /* default, from --method */
    bool method_given;  /* --method was passed: it wins over a results file's method */
    cJSON *params;      /* default, from --param (owned) */
    FILE *in, *out;
    struct hret_outfile *outfile; /* out's file; committed at the end */
    struct cached cache[CACHE_SLOTS];
    size_t ncache;
    size_t lines, correct, malformed, run_errors; /* run_errors: a results file's errors */
    struct method_count per_method[MAX_METHODS];
};

enum read_status { READ_LINE, READ_EOF, READ_TOO_LONG };

/* One line into b (without its "\n"); a line past the cap is consumed and reported. */
static enum read_status read_line(FILE *in, struct hret_buf *b)
{
    char chunk[65536];
    bool too_long = false, any = false;
    hret_buf_reset(b);
    while (fgets(chunk, sizeof chunk, in) != NULL) {
        size_t k = strlen(chunk);
        bool end = k > 0 && chunk[k - 1] == '\n';
        any = true;
        if (!too_long && hret_buf_append(b, chunk, end ? k - 1 : k, NULL) != HRET_OK) {
            too_long = true;
        }
        if (end) {
            break;
        }
    }
    if (!any) {
        return READ_EOF;
    }
    return too_long ? READ_TOO_LONG : READ_LINE;
}

/* prediction / reference as text; *out is owned by the caller (NULL for JSON null). */
static enum hret_result text_field(const cJSON *line, const char *key, char **out,
                                   struct hret_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, key);
    *out = NULL;
    if (v == NULL) {
        return hret_err_set(err, HRET_E_INVAL, "missing \"%s\"", key);
    }
    if (cJSON_IsString(v)) {
        *out = hret_xstrdup(v->valuestring);
    } else if (cJSON_IsBool(v)) {
        *out = hret_xstrdup(cJSON_IsTrue(v) ? "True" : "False");
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0) {
            *out = hret_xasprintf("%.0f", d);
        } else {
            for (int prec = 1; prec <= 17 && *out == NULL; prec++) {
                char *s = hret_xasprintf("%.*g", prec, d);
                if (strtod(s, NULL) == d || prec == 17) {
                    *out = s;
                } else {
                    free(s);
                }
            }
        }
    } else if (!cJSON_IsNull(v)) {
        return hret_err_set(err, HRET_E_INVAL, "\"%s\" must be a string", key);
    }
    return HRET_OK;
}

static enum hret_result options_field(const cJSON *line, struct hret_strlist *out,
                                      struct hret_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(line, "options");
    if (v == NULL || cJSON_IsNull(v)) {
        return HRET_OK;
    }
    if (!cJSON_IsArray(v)) {
        return hret_err_set(err, HRET_E_INVAL, "\"options\" must be a list of strings");
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, v)
    {
        if (!cJSON_IsString(o)) {
            return hret_err_set(err, HRET_E_INVAL, "\"options\" must be a list of strings");
        }
        hret_strlist_push(out, hret_xstrdup(o->valuestring));
    }
    return HRET_OK;
}

static enum hret_result unknown_method(const char *name, struct hret_err *err)
{
    char names[256];
    return hret_err_set(err, HRET_E_INVAL, "unknown method '%s' (known: %s)", name,
                        hret_eval_names(names, sizeof names));
}

/* The evaluator for (ops, params), initialised once per distinct pair. *temp is set when the
 * cache is full and the caller must destroy the state itself. */
static enum hret_result evaluator_for(struct score_run *run, const struct hret_evaluator_ops *ops,
                                      const cJSON *params, void **state, bool *temp,
                                      struct hret_err *err)
{
    char *json = hret_json_print(params);
    char *key = hret_xasprintf("%s\n%s", ops->name, json);
    free(json);
    *temp = false;
    for (size_t i = 0; i < run->ncache; i++) {
        if (strcmp(run->cache[i].key, key) == 0) {
            free(key);
            *state = run->cache[i].state;
            return HRET_OK;
        }
    }
    enum hret_result r = ops->init(params, state, err);
    if (r != HRET_OK || run->ncache == CACHE_SLOTS) {
        *temp = r == HRET_OK;
        free(key);
        return r;
    }
    run->cache[run->ncache++] = (struct cached){key, ops, *state};
    return HRET_OK;
}

/* The line's method and params merged over the defaults; *params caller owns. */
static enum hret_result line_method(const struct score_run *run, const cJSON *line,
                                    const struct hret_evaluator_ops **ops, cJSON **params,
                                    struct hret_err *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(line, "method");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(line, "params");
    if (m != NULL && !cJSON_IsNull(m) && !cJSON_IsString(m)) {
        return hret_err_set(err, HRET_E_INVAL, "\"method\" must be a string");
    }
    if (p != NULL && !cJSON_IsNull(p) && !cJSON_IsObject(p)) {
        return hret_err_set(err, HRET_E_INVAL, "\"params\" must be an object");
    }
    const char *name = cJSON_IsString(m) ? m->valuestring : run->method;
    *ops = hret_eval_find(name);
    if (*ops == NULL) {
        return unknown_method(name, err);
    }
    *params = cJSON_Duplicate(run->params, true);
    const cJSON *own = cJSON_IsObject(p) ? p : NULL, *item;
    cJSON_ArrayForEach(item, own)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(*params, item->string);
        cJSON_AddItemToObject(*params, item->string, cJSON_Duplicate(item, true));
    }
    return HRET_OK;
}

static void set_member(cJSON *obj, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
    } else {
        cJSON_AddItemToObject(obj, key, value);
    }
}

static void count(struct score_run *run, const struct hret_evaluator_ops *ops, bool correct)
{
    run->lines++;
    run->correct += correct;
    for (size_t i = 0; i < MAX_METHODS && hret_eval_at(i) != NULL; i++) {
        if (hret_eval_at(i) == ops) {
            run->per_method[i].lines++;
            run->per_method[i].correct += correct;
        }
    }
}

/* Scores one parsed line and writes it; HRET_E_INVAL for a malformed line. */
static enum hret_result score_line(struct score_run *run, cJSON *line, struct hret_err *err)
{
    char *pred = NULL, *ref = NULL;
    struct hret_strlist options = {0};
    const struct hret_evaluator_ops *ops = NULL;
    cJSON *params = NULL;
    void *state = NULL;
    bool temp = false;
    struct hret_verdict v = {0};
    enum hret_result r = text_field(line, "prediction", &pred, err);
    if (r == HRET_OK) {
        r = text_field(line, "reference", &ref, err);
    }
    if (r == HRET_OK) {
        r = options_field(line, &options, err);
    }
    if (r == HRET_OK) {
        r = line_method(run, line, &ops, &params, err);
    }
    if (r == HRET_OK) {
        r = evaluator_for(run, ops, params, &state, &temp, err);
    }
    if (r == HRET_OK) {
        r = ops->score(state, pred, ref, &options, &v, err);
    }
    if (r == HRET_OK) {
        set_member(line, "normalized_pred", cJSON_CreateString(v.normalized_pred));
        set_member(line, "normalized_ref", cJSON_CreateString(v.normalized_ref));
        set_member(line, "is_correct", cJSON_CreateBool(v.correct));
        char *text = hret_json_print(line);
        fprintf(run->out, "%s\n", text);
        free(text);
        count(run, ops, v.correct);
    }
    if (temp) {
        ops->destroy(state);
    }
    hret_verdict_fini(&v);
    cJSON_Delete(params);
    hret_strlist_fini(&options);
    free(pred);
    free(ref);
    return r;
}

/* The error line that takes a malformed line's place. */
static void error_line(struct score_run *run, size_t lineno, const char *msg)
{
    fprintf(stderr, "hret score: line %zu: %s\n", lineno, msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "line", (double)lineno);
    cJSON_AddStringToObject(o, "error", msg);
    char *text = hret_json_print(o);
    fprintf(run->out, "%s\n", text);
    free(text);
    cJSON_Delete(o);
    run->malformed++;
}

/* Scores and writes one parsed line (borrowed), or its error line. */
static void handle_object(struct score_run *run, size_t lineno, cJSON *line)
{
    struct hret_err err = HRET_ERR_INIT;
    if (!cJSON_IsObject(line)) {
        hret_err_set(&err, HRET_E_INVAL, "not a JSON object");
    } else {
        score_line(run, line, &err);
    }
    if (err.code != HRET_OK) {
        error_line(run, lineno, err.msg);
    }
}

/* Parses, scores and writes one line; a malformed one gets an error line. */
static void handle_line(struct score_run *run, size_t lineno, const char *text, size_t len)
{
    struct hret_err err = HRET_ERR_INIT;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) {
        i++;
    }
    if (i == len) {
        fputc('\n', run->out); /* blank lines are not lines to score; they keep their place */
        return;
    }
    cJSON *line = hret_json_parse(text, len, LINE_CAP, &err);
    if (line == NULL) {
        error_line(run, lineno, err.msg);
        return;
    }
    handle_object(run, lineno, line);
    cJSON_Delete(line);
}

static void copy_member(cJSON *to, const cJSON *from, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    if (v != NULL) {
        cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, true));
    }
}

/* One results-file sample as a line: its id, subset, prediction, reference and options, with the
 * run's method and params unless --method was given. Caller owns result. */
static cJSON *sample_line(const struct score_run *run, const cJSON *sample, const cJSON *config)
{
    cJSON *line = cJSON_CreateObject();
    static const char *const keys[] = {"id", "_subset_name", "prediction", "reference", "options"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        copy_member(line, sample, keys[k]);
    }
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(config, "evaluation_method_name");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(config, "evaluator_params");
    if (!run->method_given && cJSON_IsString(method)) {
        cJSON_AddStringToObject(line, "method", method->valuestring);
        if (cJSON_IsObject(params)) {
            cJSON_AddItemToObject(line, "params", cJSON_Duplicate(params, true));
        }
    }
    return line;
}

/* Re-scores every sample of a results JSON (borrowed); false when doc is not one. */
static bool score_results(struct score_run *run, const cJSON *doc)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "run_metadata");
    if (!cJSON_IsArray(results) || !cJSON_IsObject(meta)) {
        return false;
    }
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(meta, "config");
    size_t total = 0, lineno = 0;
    const cJSON *r, *s;
    cJSON_ArrayForEach(r, results)
    {
        total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "samples"));
    }
    fprintf(stderr, "hret score: results JSON: %zu samples; one output line each\n", total);
    cJSON_ArrayForEach(r, results)
    {
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "samples"))
        {
            lineno++;
            cJSON *line = sample_line(run, s, config);
            const cJSON *error = cJSON_GetObjectItemCaseSensitive(s, "error");
            if (cJSON_IsString(error)) { /* an endpoint error of the run: nothing to score */
                cJSON_AddStringToObject(line, "error", error->valuestring);
                char *text = hret_json_print(line);
                fprintf(run->out, "%s\n", text);
                free(text);
                run->run_errors++;
            } else {
                handle_object(run, lineno, line);
            }
            cJSON_Delete(line);
        }
    }
    return true;
}

/* The rest of the input after a first line (first, borrowed) that is not a JSON object on its
 * own: a results JSON is scored as one; anything else line by line as JSONL. */
static void score_document(struct score_run *run, const struct hret_buf *first)
{
    struct hret_buf all;
    hret_buf_init(&all, RESULTS_CAP);
    bool ok = hret_buf_append(&all, first->data, first->len, NULL) == HRET_OK &&
              hret_buf_append(&all, "\n", 1, NULL) == HRET_OK;
    char chunk[65536];
    size_t k;
    while (ok && (k = fread(chunk, 1, sizeof chunk, run->in)) > 0) {
        ok = hret_buf_append(&all, chunk, k, NULL) == HRET_OK;
    }
    cJSON *doc = ok ? hret_json_parse(all.data, all.len, RESULTS_CAP, NULL) : NULL;
    if (doc == NULL || !score_results(run, doc)) {
        size_t lineno = 0;
        for (const char *p = all.data, *end = all.data + all.len; ok && p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            handle_line(run, ++lineno, p, n);
            p += n + 1;
        }
        if (!ok) {
            error_line(run, 1, "the input is larger than the results JSON cap");
        }
    }
    cJSON_Delete(doc);
    hret_buf_fini(&all);
}

/* A first line that opens a JSON document without being a JSON object itself ("{" of a results
 * file written by hret run, or a pretty-printed one). */
static bool opens_document(const struct hret_buf *b)
{
    const char *p = b->data ? b->data : "";
    p += strspn(p, " \t\r");
    if (*p != '{') {
        return false;
    }
    cJSON *line = hret_json_parse(b->data, b->len, LINE_CAP, NULL);
    cJSON_Delete(line);
    return line == NULL;
}

static void score_all(struct score_run *run)
{
    struct hret_buf b;
    hret_buf_init(&b, LINE_CAP);
    size_t lineno = 0;
    for (;;) {
        enum read_status s = read_line(run->in, &b);
        if (s == READ_EOF) {
            break;
        }
        lineno++;
        if (s == READ_TOO_LONG) {
            char msg[96];
            snprintf(msg, sizeof msg, "longer than %zu bytes, skipped", LINE_CAP);
            error_line(run, lineno, msg);
            continue;
        }
        if (lineno == 1 && opens_document(&b)) {
            score_document(run, &b);
            break;
        }
        handle_line(run, lineno, hret_buf_str(&b), b.len);
    }
    hret_buf_fini(&b);
}

static double ratio(size_t a, size_t b)
{
    return b == 0 ? 0.0 : (double)a / (double)b;
}

static void summary(const struct score_run *run)
{
    if (run->lines == 0) {
        fprintf(stderr,
                "scored 0 lines: accuracy - (nothing scored: the input has no line to "
                "score), %zu malformed\n",
                run->malformed);
        return;
    }
    fprintf(stderr, "scored %zu lines: accuracy %.4f (%zu/%zu), %zu malformed\n", run->lines,
            ratio(run->correct, run->lines), run->correct, run->lines, run->malformed);
    if (run->run_errors > 0) {
        fprintf(stderr, "  %zu samples were endpoint errors in the run (error lines, not scored)\n",
                run->run_errors);
    }
    for (size_t i = 0; i < MAX_METHODS && hret_eval_at(i) != NULL; i++) {
        const struct method_count *c = &run->per_method[i];
        if (c->lines > 0) {
            fprintf(stderr, "  %s: accuracy %.4f (%zu/%zu)\n", hret_eval_at(i)->name,
                    ratio(c->correct, c->lines), c->correct, c->lines);
        }
    }
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "hret score: %s (see hret help score)\n", msg);
    return HRET_EXIT_USAGE;
}

/* getopt_long over argv; fills run->method, run->params, *input and *output. */
static int parse_args(int argc, char **argv, struct score_run *run, const char **input,
                      const char **output)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"method", required_argument, NULL, 'm'}, {"param", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    char msg[256];
    optind = 0; /* GNU getopt: start over */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:o:m:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            *input = optarg;
            break;
        case 'o':
            *output = optarg;
            break;
        case 'm':
            run->method = optarg;
            run->method_given = true;
            break;
        case 'p':
            if (!hret_cli_add_param(run->params, optarg, "hret score")) {
                return HRET_EXIT_USAGE;
            }
            break;
        case 'h':
            hret_cli_print_help("score");
            return -1;
        case ':':
            snprintf(msg, sizeof msg, "%s needs a value", argv[optind - 1]);
            return usage_error(msg);
        default:
            snprintf(msg, sizeof msg, "unknown option %s", argv[optind - 1]);
            return usage_error(msg);
        }
    }
    if (optind < argc) {
        snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[optind]);
        return usage_error(msg);
    }
    return *input == NULL ? usage_error("--input FILE.jsonl is required") : HRET_EXIT_OK;
}

/* The default method and params must make an evaluator: a usage error otherwise. */
static int check_defaults(struct score_run *run)
{
    struct hret_err err = HRET_ERR_INIT;
    const struct hret_evaluator_ops *ops = hret_eval_find(run->method);
    void *state = NULL;
    bool temp = false;
    if (ops == NULL) {
        unknown_method(run->method, &err);
    } else {
        evaluator_for(run, ops, run->params, &state, &temp, &err);
    }
    if (temp) {
        ops->destroy(state);
    }
    return err.code == HRET_OK ? HRET_EXIT_OK : usage_error(err.msg);
}

static int open_files(struct score_run *run, const char *input, const char *output)
{
    run->in = strcmp(input, "-") == 0 ? stdin : fopen(input, "r");
    if (run->in == NULL) {
        fprintf(stderr, "hret score: cannot open %s: %s\n", input, strerror(errno));
        return HRET_EXIT_USAGE; /* a missing or unreadable input is the caller's to fix */
    }
    struct hret_err err = HRET_ERR_INIT;
    if (hret_outfile_open(output ? output : "-", 0, &run->outfile, &err) != HRET_OK) {
        fprintf(stderr, "hret score: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    run->out = hret_outfile_stream(run->outfile);
    return HRET_EXIT_OK;
}

static int close_files(struct score_run *run)
{
    int status = HRET_EXIT_OK;
    if (run->in != NULL && run->in != stdin) {
        fclose(run->in);
    }
    struct hret_err err = HRET_ERR_INIT;
    if (run->outfile != NULL && hret_outfile_commit(run->outfile, &err) != HRET_OK) {
        fprintf(stderr, "hret score: %s\n", err.msg);
        status = HRET_EXIT_FAILURE;
    }
    return status;
}

int hret_cmd_score(int argc, char **argv)
{
    struct score_run run = {.method = "string_match", .params = cJSON_CreateObject()};
    const char *input = NULL, *output = NULL;
    int status = parse_args(argc, argv, &run, &input, &output);
    if (status == HRET_EXIT_OK) {
        status = check_defaults(&run);
    }
    if (status == HRET_EXIT_OK) {
        status = open_files(&run, input, output);
    }
    if (status == HRET_EXIT_OK) {
        score_all(&run);
        summary(&run);
        status = run.malformed > 0 || run.lines == 0 ? HRET_EXIT_FAILURE : HRET_EXIT_OK;
    }
    if (close_files(&run) != HRET_EXIT_OK) {
        status = HRET_EXIT_FAILURE;
    }
    for (size_t i = 0; i < run.ncache; i++) {
        run.cache[i].ops->destroy(run.cache[i].state);
        free(run.cache[i].key);
    }
    cJSON_Delete(run.params);
    return status < 0 ? HRET_EXIT_OK : status;
}
