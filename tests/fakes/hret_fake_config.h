/* Command line of the fake model server, declared as field tables: server options, and the
 * fault/behaviour knobs that a request may also override with a header "x-fake-<name>". */
#ifndef HRET_FAKE_CONFIG_H
#define HRET_FAKE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hret_err.h"
#include "hret_fake_reply.h"

#define HRET_FAKE_MAX_MODELS 16

/* Per-request behaviour: flags set the defaults, headers override them. Strings are borrowed
 * (from argv or from the request's headers). */
struct hret_fake_knobs {
    double accuracy;
    uint64_t seed;
    const char *default_answer;
    long latency_ms;
    long jitter_ms;
    double rate_slow; /* probability that a response takes slow_factor times as long */
    long slow_factor;
    double rate_429;
    long retry_after;
    bool quota;
    double rate_500;
    double rate_503;
    double rate_hang;
    long hang_ms;
    double rate_malformed;
    double rate_truncated;
    long status; /* 0: none forced */
    long body_bytes;
    enum hret_fake_logprobs logprobs;
    bool ignore_n;       /* one choice whatever n is (llama-cpp-python's server) */
    long context_tokens; /* 0: none; else prompt + max_tokens past it is a 400 */
};

/* --model-accuracy NAME=P; name points into argv and is not NUL-terminated. */
struct hret_fake_model_accuracy {
    const char *name;
    size_t name_len;
    double accuracy;
};

/* --require-header NAME=VALUE; both point into argv, name not NUL-terminated. */
struct hret_fake_header {
    const char *name;
    size_t name_len;
    const char *value;
};

#define HRET_FAKE_MAX_HEADERS 8

struct hret_fake_config {
    const char *host;
    long port;
    long threads;
    long max_connections;
    const char *port_file;  /* nullable */
    const char *answer_key; /* nullable */
    const char *model_id;
    const char *fingerprint;
    const char *log_level;
    const char *api_key; /* nullable: every model call must carry this key */
    long rpm;            /* 0: unlimited; else model calls per wall-clock minute, then 429 */
    bool help;
    struct hret_fake_header headers[HRET_FAKE_MAX_HEADERS];
    size_t n_headers;
    struct hret_fake_model_accuracy models[HRET_FAKE_MAX_MODELS];
    size_t n_models;
    struct hret_fake_knobs knobs;
};

/* Sets every default, then applies "--name value" / "--name=value" arguments (argv borrowed for
 * the life of cfg). HRET_E_CONFIG naming the option on error. */
enum hret_result hret_fake_config_parse(struct hret_fake_config *cfg, int argc, char **argv,
                                        struct hret_err *err);
/* Prints the options, their defaults and the header of each knob. */
void hret_fake_config_usage(FILE *out);
/* Applies one "x-fake-<name>: value" header (name without the prefix; value borrowed for the
 * life of knobs). HRET_E_INVAL for an unknown name or a bad value. */
enum hret_result hret_fake_knobs_override(struct hret_fake_knobs *knobs, const char *name,
                                          const char *value, struct hret_err *err);
/* The --model-accuracy entry for model (borrowed), or NULL. */
const struct hret_fake_model_accuracy *hret_fake_config_model(const struct hret_fake_config *cfg,
                                                              const char *model);

#endif
