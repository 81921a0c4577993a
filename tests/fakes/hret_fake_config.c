#include "hret_fake_config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hret_fake_key.h"

#define MAX_MS 86400000L

enum field_type {
    FIELD_PROB,     /* double in [0, 1] */
    FIELD_LONG,     /* long in [min, max] */
    FIELD_U64,      /* unsigned 64-bit decimal */
    FIELD_STRING,   /* borrowed string */
    FIELD_BOOL,     /* 1/0, true/false, yes/no, on/off */
    FIELD_LOGPROBS, /* on, off, reject */
    FIELD_STATUS,   /* 0 or an HTTP status 200..599 */
    FIELD_MODEL,    /* NAME=P, appended to the model list */
    FIELD_HEADER,   /* NAME=VALUE, appended to the required headers */
};

struct field {
    const char *name;
    enum field_type type;
    size_t offset;
    long min;
    long max;
    const char *def; /* NULL: unset */
    const char *arg;
    const char *help;
};

#define KNOB(m) offsetof(struct hret_fake_knobs, m)
#define SERVER(m) offsetof(struct hret_fake_config, m)

static const struct field knob_fields[] = {
    {"accuracy", FIELD_PROB, KNOB(accuracy), 0, 0, "1", "P",
     "probability that a prompt found in the answer key is answered correctly"},
    {"seed", FIELD_U64, KNOB(seed), 0, 0, "0", "S",
     "seed of the correct/wrong decision and of the fault draws"},
    {"default-answer", FIELD_STRING, KNOB(default_answer), 0, 0, HRET_FAKE_UNSURE, "TEXT",
     "answer to prompts not in the answer key"},
    {"latency-ms", FIELD_LONG, KNOB(latency_ms), 0, MAX_MS, "0", "N",
     "delay of every model response (the connection is suspended, no thread is held)"},
    {"jitter-ms", FIELD_LONG, KNOB(jitter_ms), 0, MAX_MS, "0", "N",
     "uniform extra delay in [0, N] ms"},
    {"rate-slow", FIELD_PROB, KNOB(rate_slow), 0, 0, "0", "P",
     "probability that a response's delay is multiplied by --slow-factor (a heavy tail)"},
    {"slow-factor", FIELD_LONG, KNOB(slow_factor), 1, 1000, "15", "F",
     "how many times longer a slow response takes"},
    {"rate-429", FIELD_PROB, KNOB(rate_429), 0, 0, "0", "P",
     "probability of a 429 rate_limit_exceeded with Retry-After"},
    {"retry-after", FIELD_LONG, KNOB(retry_after), 0, 86400, "1", "S",
     "Retry-After seconds sent with 429 (and retry-after-ms: S*1000)"},
    {"quota", FIELD_BOOL, KNOB(quota), 0, 0, "0", "0|1",
     "answer 429 insufficient_quota (not retriable) to every model request"},
    {"rate-500", FIELD_PROB, KNOB(rate_500), 0, 0, "0", "P",
     "probability of a 500 with vLLM's flat error body"},
    {"rate-503", FIELD_PROB, KNOB(rate_503), 0, 0, "0", "P",
     "probability of a 503 with a proxy's HTML body"},
    {"rate-hang", FIELD_PROB, KNOB(rate_hang), 0, 0, "0", "P",
     "probability that the request is held for --hang-ms before it is answered"},
    {"hang-ms", FIELD_LONG, KNOB(hang_ms), 0, MAX_MS, "600000", "N", "how long a hang lasts"},
    {"rate-malformed", FIELD_PROB, KNOB(rate_malformed), 0, 0, "0", "P",
     "probability of a 200 whose body is not JSON"},
    {"rate-truncated", FIELD_PROB, KNOB(rate_truncated), 0, 0, "0", "P",
     "probability of a 200 whose JSON is cut in half (Content-Length matches)"},
    {"status", FIELD_STATUS, KNOB(status), 0, 0, "0", "CODE",
     "force this HTTP status with an OpenAI error body (0: off)"},
    {"body-bytes", FIELD_LONG, KNOB(body_bytes), 0, 64L << 20, "0", "N",
     "pad successful JSON responses to about N bytes (0: off)"},
    {"logprobs", FIELD_LOGPROBS, KNOB(logprobs), 0, 0, "on", "on|off|reject",
     "off: logprobs:null and echo ignored (llama-server-like); reject: 400 on logprobs/echo"},
    {"ignore-n", FIELD_BOOL, KNOB(ignore_n), 0, 0, "0", "0|1",
     "answer one choice whatever n is, as llama-cpp-python's server does"},
    {"context-tokens", FIELD_LONG, KNOB(context_tokens), 0, 100000000, "0", "N",
     "context window: prompt tokens + max_tokens past N is a 400 context_length_exceeded, as "
     "llama-cpp-python answers (0: none)"},
};

static const struct field server_fields[] = {
    {"host", FIELD_STRING, SERVER(host), 0, 0, "127.0.0.1", "ADDR",
     "IPv4 or IPv6 address to listen on"},
    {"port", FIELD_LONG, SERVER(port), 0, 65535, "0", "N", "port; 0 picks a free one"},
    {"threads", FIELD_LONG, SERVER(threads), 1, 256, "2", "N", "event-loop threads"},
    {"max-connections", FIELD_LONG, SERVER(max_connections), 1, 1000000, "20000", "N",
     "concurrent connection limit (also capped by RLIMIT_NOFILE)"},
    {"port-file", FIELD_STRING, SERVER(port_file), 0, 0, NULL, "PATH",
     "write the bound port number to PATH"},
    {"answer-key", FIELD_STRING, SERVER(answer_key), 0, 0, NULL, "FILE",
     "TSV lines <fnv1a64 hex of prompt>\\t<correct>[\\t<wrong>]"},
    {"model-accuracy", FIELD_MODEL, 0, 0, 0, NULL, "NAME=P",
     "requests for model NAME use accuracy P (repeatable)"},
    {"model-id", FIELD_STRING, SERVER(model_id), 0, 0, "fake-model", "ID",
     "model reported by /v1/models and in responses"},
    {"fingerprint", FIELD_STRING, SERVER(fingerprint), 0, 0, "fp_fake", "FP",
     "system_fingerprint of responses"},
    {"api-key", FIELD_STRING, SERVER(api_key), 0, 0, NULL, "KEY",
     "model calls must carry KEY (Authorization: Bearer, x-api-key or api-key by route), else "
     "401"},
    {"rpm", FIELD_LONG, SERVER(rpm), 0, 100000000, "0", "N",
     "server-side rate limit: past N model calls in a wall-clock minute, 429 rate_limit_exceeded "
     "with Retry-After until the next minute (0: none); GET /fake/stats has per_minute counts"},
    {"require-header", FIELD_HEADER, 0, 0, 0, NULL, "NAME=VALUE",
     "model calls must carry header NAME with VALUE, else 403 (repeatable, up to 8)"},
    {"log-level", FIELD_STRING, SERVER(log_level), 0, 0, "info", "LEVEL",
     "error, warn, info, debug or trace"},
};

#define N_KNOBS (sizeof knob_fields / sizeof knob_fields[0])
#define N_SERVER (sizeof server_fields / sizeof server_fields[0])

static bool parse_prob(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool parse_logprobs(const char *s, enum hret_fake_logprobs *out)
{
    static const char *const names[] = {"on", "off", "reject"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum hret_fake_logprobs)i;
            return true;
        }
    }
    return false;
}

static bool parse_model(struct hret_fake_config *cfg, const char *s)
{
    const char *eq = strrchr(s, '=');
    double p;
    if (eq == NULL || eq == s || !parse_prob(eq + 1, &p) || cfg->n_models == HRET_FAKE_MAX_MODELS) {
        return false;
    }
    cfg->models[cfg->n_models++] = (struct hret_fake_model_accuracy){s, (size_t)(eq - s), p};
    return true;
}

static bool parse_header(struct hret_fake_config *cfg, const char *s)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL || eq == s || cfg->n_headers == HRET_FAKE_MAX_HEADERS) {
        return false;
    }
    cfg->headers[cfg->n_headers++] = (struct hret_fake_header){s, (size_t)(eq - s), eq + 1};
    return true;
}

/* Stores value into the field at base + f->offset; false when it does not parse. */
static bool set_field(const struct field *f, void *base, const char *value)
{
    char *at = (char *)base + f->offset;
    long status = 0;
    switch (f->type) {
    case FIELD_PROB:
        return parse_prob(value, (double *)(void *)at);
    case FIELD_LONG:
        return parse_long(value, f->min, f->max, (long *)(void *)at);
    case FIELD_U64:
        return parse_u64(value, (uint64_t *)(void *)at);
    case FIELD_STRING:
        *(const char **)(void *)at = value;
        return true;
    case FIELD_BOOL:
        return parse_bool(value, (bool *)(void *)at);
    case FIELD_LOGPROBS:
        return parse_logprobs(value, (enum hret_fake_logprobs *)(void *)at);
    case FIELD_STATUS:
        if (!parse_long(value, 0, 599, &status) || (status != 0 && status < 200)) {
            return false;
        }
        *(long *)(void *)at = status;
        return true;
    case FIELD_MODEL:
        return parse_model(base, value);
    case FIELD_HEADER:
        return parse_header(base, value);
    }
    return false;
}

static const struct field *find_field(const struct field *fields, size_t n, const char *name,
                                      size_t name_len)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(fields[i].name) == name_len &&
            strncasecmp(fields[i].name, name, name_len) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

static void set_defaults(struct hret_fake_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_SERVER; i++) {
        if (server_fields[i].def != NULL) {
            (void)set_field(&server_fields[i], cfg, server_fields[i].def);
        }
    }
    for (size_t i = 0; i < N_KNOBS; i++) {
        (void)set_field(&knob_fields[i], &cfg->knobs, knob_fields[i].def);
    }
}

/* Applies argv[*i] (and its value); advances *i past what it used. */
static enum hret_result parse_option(struct hret_fake_config *cfg, int argc, char **argv, int *i,
                                     struct hret_err *err)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        cfg->help = true;
        return HRET_OK;
    }
    if (strncmp(arg, "--", 2) != 0) {
        return hret_err_set(err, HRET_E_CONFIG, "unexpected argument '%s'", arg);
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    void *base = cfg;
    const struct field *f = find_field(server_fields, N_SERVER, name, name_len);
    if (f == NULL) {
        f = find_field(knob_fields, N_KNOBS, name, name_len);
        base = &cfg->knobs;
    }
    if (f == NULL) {
        return hret_err_set(err, HRET_E_CONFIG, "unknown option '--%.*s' (see --help)",
                            (int)name_len, name);
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL && *i + 1 < argc) {
        value = argv[++*i];
    }
    if (value == NULL || !set_field(f, base, value)) {
        return hret_err_set(err, HRET_E_CONFIG, "--%s: expected %s, got '%s'", f->name, f->arg,
                            value != NULL ? value : "nothing");
    }
    return HRET_OK;
}

enum hret_result hret_fake_config_parse(struct hret_fake_config *cfg, int argc, char **argv,
                                        struct hret_err *err)
{
    set_defaults(cfg);
    for (int i = 1; i < argc; i++) {
        if (parse_option(cfg, argc, argv, &i, err) != HRET_OK) {
            return HRET_E_CONFIG;
        }
    }
    return HRET_OK;
}

static void print_fields(FILE *out, const struct field *fields, size_t n, bool knobs)
{
    for (size_t i = 0; i < n; i++) {
        const struct field *f = &fields[i];
        char left[64];
        snprintf(left, sizeof left, "--%s %s", f->name, f->arg);
        fprintf(out, "  %-26s %s\n", left, f->help);
        if (f->def != NULL || knobs) {
            fprintf(out, "  %-26s", "");
            if (f->def != NULL) {
                fprintf(out, " default: %s", f->def);
            }
            if (knobs) {
                fprintf(out, "%sheader: x-fake-%s", f->def != NULL ? "; " : " ", f->name);
            }
            fputc('\n', out);
        }
    }
}

void hret_fake_config_usage(FILE *out)
{
    fputs("usage: fake-llm [options]\n"
          "A fake OpenAI-compatible model server for tests and benchmarks.\n"
          "Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models,\n"
          "GET /health, GET /fake/stats, POST /fake/reset; Anthropic's POST /v1/messages\n"
          "(x-api-key, anthropic-version: 2023-06-01) and Azure OpenAI's POST\n"
          "/openai/deployments/NAME/chat/completions?api-version=V (api-key).\n"
          "Prints 'listening on HOST:PORT'.\n\n"
          "Server options:\n",
          out);
    print_fields(out, server_fields, N_SERVER, false);
    fputs("  --help                     this text\n\n"
          "Knobs (each may be overridden per request by its header; rates are probabilities\n"
          "drawn per request, the first hit of status, quota, 429, 500, 503 wins):\n",
          out);
    print_fields(out, knob_fields, N_KNOBS, true);
    fputs("\nA prompt's hash is the FNV-1a 64 of the last user message (chat) or of the prompt\n"
          "(completions); it is answered correctly iff decide(hash, seed) < accuracy\n"
          "(tests/fakes/hret_fake_decide.h). With echo, the prompt's last word W scores -0.05\n"
          "per token if it is the decided answer for the text before it, else -4.0.\n",
          out);
}

enum hret_result hret_fake_knobs_override(struct hret_fake_knobs *knobs, const char *name,
                                          const char *value, struct hret_err *err)
{
    const struct field *f = find_field(knob_fields, N_KNOBS, name, strlen(name));
    if (f == NULL) {
        return hret_err_set(err, HRET_E_INVAL, "unknown header 'x-fake-%s'", name);
    }
    if (!set_field(f, knobs, value)) {
        return hret_err_set(err, HRET_E_INVAL, "header 'x-fake-%s': expected %s", f->name, f->arg);
    }
    return HRET_OK;
}

const struct hret_fake_model_accuracy *hret_fake_config_model(const struct hret_fake_config *cfg,
                                                              const char *model)
{
    size_t len = strlen(model);
    for (size_t i = 0; i < cfg->n_models; i++) {
        const struct hret_fake_model_accuracy *m = &cfg->models[i];
        if (m->name_len == len && memcmp(m->name, model, len) == 0) {
            return m;
        }
    }
    return NULL;
}
