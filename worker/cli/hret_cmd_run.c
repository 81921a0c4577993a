/* hret run: dataset -> endpoint -> scores -> results JSON, in one process. */
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hret_cli.h"
#include "hret_clock.h"
#include "hret_cmd_run.h"
#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_eval.h"
#include "hret_http.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_metrics.h"
#include "hret_outfile.h"
#include "hret_judge.h"
#include "hret_probe.h"
#include "hret_results.h"
#include "hret_run.h"
#include "hret_run_feed.h"
#include "hret_run_summary.h"
#include "hret_sink_local.h"
#include "hret_store_dscache.h"
#include "hret_store_runlog.h"

static volatile sig_atomic_t stop_requested; /* the signal that stopped the run, 0 = none */

static void on_signal(int sig)
{
    stop_requested = sig;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C exits at once */
    signal(SIGTERM, SIG_DFL);
}

/* What the progress hook needs: the bar (on a terminal) and the run row's heartbeat. */
struct ticker {
    double start_ms, last_beat_ms;
    bool bar;
    struct hret_store_runlog *db; /* NULL without a database */
};

/* A one-line progress bar on a terminal: done/total, samples/s, ETA, errors; and the run row's
 * heartbeat every HRET_STORE_HEARTBEAT_S seconds. */
static void progress(void *user, size_t done, size_t total, size_t errors)
{
    struct ticker *t = user;
    double now = hret_clock_now_ms();
    if (t->db != NULL && now - t->last_beat_ms >= HRET_STORE_HEARTBEAT_S * 1000.0) {
        hret_store_runlog_heartbeat(t->db);
        t->last_beat_ms = now;
    }
    if (!t->bar) {
        return;
    }
    const double *start = &t->start_ms;
    double secs = (now - *start) / 1000.0;
    double rate = secs > 0 ? (double)done / secs : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, filled = total ? (int)((double)width * (double)done / (double)total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.0f samples/s  ETA %.0fs  errors %zu ", filled,
            "##############################", width - filled, "", done, total, rate, eta, errors);
    if (done == total) {
        fputc('\n', stderr);
    }
}

static cJSON *pipeline_config(const struct hret_run_args *a, const struct hret_dataset_spec *spec)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "dataset_name", spec->name);
    cJSON *subsets = cJSON_AddArrayToObject(c, "subset");
    for (size_t i = 0; i < a->subsets.count; i++) {
        cJSON_AddItemToArray(subsets, cJSON_CreateString(a->subsets.items[i]));
    }
    cJSON_AddStringToObject(c, "split", spec->split);
    cJSON_AddStringToObject(c, "model_backend_name", a->model);
    cJSON_AddStringToObject(c, "evaluation_method_name", a->method);
    cJSON_AddItemToObject(c, "evaluator_params", cJSON_Duplicate(a->params, true));
    cJSON_AddItemToObject(c, "dataset_params", cJSON_Duplicate(a->dataset_params, true));
    cJSON_AddNumberToObject(c, "num_few_shot", a->num_few_shot);
    cJSON_AddItemToObject(c, "few_shot_split",
                          a->few_shot_split ? cJSON_CreateString(a->few_shot_split)
                                            : cJSON_CreateNull());
    cJSON_AddNumberToObject(c, "limit", (double)a->limit);
    cJSON_AddBoolToObject(c, "language_penalize", a->language_threshold >= 0);
    return c;
}

/* HRET's info block (reference/hret.md §1.3 step 9). */
static cJSON *pipeline_info(const struct hret_run_args *a, const struct hret_dataset_spec *spec,
                            const struct hret_dataset *ds, double elapsed)
{
    cJSON *i = cJSON_CreateObject();
    cJSON_AddStringToObject(i, "dataset_name", spec->name);
    cJSON *subsets = cJSON_AddArrayToObject(i, "subset");
    for (size_t k = 0; k < a->subsets.count; k++) {
        cJSON_AddItemToArray(subsets, cJSON_CreateString(a->subsets.items[k]));
    }
    cJSON_AddStringToObject(i, "split", spec->split);
    cJSON_AddStringToObject(i, "model_backend_name", a->model);
    cJSON_AddItemToObject(i, "scaling_method_name",
                          a->paths > 1 ? cJSON_CreateString("self_consistency")
                                       : cJSON_CreateNull());
    cJSON_AddStringToObject(i, "evaluation_method_name", a->method);
    cJSON_AddNumberToObject(i, "elapsed_time_sec", elapsed);
    cJSON_AddNumberToObject(i, "num_few_shot_configured", a->num_few_shot);
    cJSON_AddNumberToObject(i, "num_few_shot_applied", ds->num_few_shot_applied);
    bool other_split = ds->num_few_shot_applied > 0 && a->few_shot_split != NULL;
    cJSON_AddItemToObject(i, "few_shot_source_split",
                          other_split ? cJSON_CreateString(a->few_shot_split) : cJSON_CreateNull());
    cJSON_AddBoolToObject(i, "language_penalize_enabled", a->language_threshold >= 0);
    cJSON_AddItemToObject(i, "target_lang_for_penalty",
                          a->language_threshold >= 0 ? cJSON_CreateString("ko")
                                                     : cJSON_CreateNull());
    cJSON_AddStringToObject(i, "dataset_version", ds->version);
    return i;
}

static const struct hret_model_config *resolve_model(const struct hret_config *cfg,
                                                     struct hret_run_args *a)
{
    a->model = a->model ? a->model : cfg->default_model;
    if (a->model == NULL) {
        fprintf(stderr, "hret run: no model: pass --model NAME (a key under models: in the "
                        "config) or set default_model\n");
        return NULL;
    }
    const struct hret_model_config *m = hret_config_model(cfg, a->model);
    if (m == NULL) {
        fprintf(stderr, "hret run: model '%s' is not in the config's models:", a->model);
        for (size_t i = 0; i < cfg->models.count; i++) {
            fprintf(stderr, " %s", ((const struct hret_model_config *)cfg->models.items)[i].name);
        }
        fprintf(stderr, "%s\n",
                cfg->models.count ? "" : " (none defined; see examples/hret_config.yaml)");
    }
    return m;
}

/* The model's key reference resolves before any request is sent; else says which one. */
static bool key_ready(const struct hret_model_config *m)
{
    struct hret_err err = HRET_ERR_INIT;
    if (m != NULL && hret_config_model_key_check(m, &err) != HRET_OK) {
        fprintf(stderr, "hret run: %s (export it or fix the config)\n", err.msg);
        return false;
    }
    return true;
}

/* --output, else output_dir/hret_results_<UTC time with ms>_<run id>.json (created
 * exclusively: a generated name never replaces anything). */
static char *default_output(const struct hret_config *cfg, const struct hret_run_args *a,
                            const char *run_id)
{
    if (a->output != NULL) {
        return hret_xstrdup(a->output);
    }
    if (!cfg->auto_save_results) {
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%M%S", &tm);
    return hret_xasprintf("%s/hret_results_%s.%03ldZ_%s.json", cfg->output_dir, when,
                          ts.tv_nsec / 1000000, run_id);
}

struct run_state {
    struct hret_config cfg;
    struct hret_dataset *ds;
    const struct hret_evaluator_ops *eval;
    void *eval_state;
    struct hret_run_feed feed; /* the samples streamed through the run */
    struct hret_run_report report;
    char *data_dir, *output;
    struct hret_store_runlog *db; /* NULL without a database */
    char run_id[37];              /* the runlog's, or a fresh one without a database */
    char data_version[65];        /* the imported version read, "" for files */
    size_t invalid_utf8;          /* bytes replaced by U+FFFD in the dataset */
};

/* With a database: connect and migrate, before the dataset (which may be an imported one). */
static int store_open(struct hret_run_args *a, struct run_state *st,
                      const struct hret_model_config *model)
{
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_runlog_open(&st->cfg, a->db, model, !a->no_cache, &st->db, &err) != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return err.code == HRET_E_CONFIG ? HRET_EXIT_USAGE : HRET_EXIT_FAILURE;
    }
    return HRET_EXIT_OK;
}

/* With a database: the run row before the first request. */
static int store_begin(struct hret_run_args *a, struct run_state *st,
                       const struct hret_model_config *model, const struct hret_dataset_spec *spec,
                       double start_time)
{
    struct hret_err err = HRET_ERR_INIT;
    if (st->db == NULL) {
        return HRET_EXIT_OK;
    }
    cJSON *config = pipeline_config(a, spec);
    struct hret_store_run run = {
        .run_name = a->run_name,
        .model_name = a->model,
        .model_id = model->model,
        .endpoint = model->base_url,
        .dataset_name = a->dataset,
        .dataset_version = st->ds->version,
        .data_version = st->data_version,
        .split = spec->split,
        .method = a->method,
        .planned = st->ds->count,
        .metadata = a->meta,
        .config = config,
        .started_at = start_time,
    };
    enum hret_result r = hret_store_runlog_begin(st->db, &run, &err);
    cJSON_Delete(config);
    if (r != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    return HRET_EXIT_OK;
}

/* Samples, metrics and the final status in one transaction. */
static int store_end(FILE *out, struct run_state *st, const struct hret_results_meta *meta,
                     const cJSON *metrics)
{
    const struct hret_run_report *rep = &st->report;
    const char *nothing = hret_metrics_nothing_scored(metrics);
    struct hret_store_result res = {
        .status = rep->partial ? "partial"
                  : nothing    ? "failed"
                               : "completed",
        .metrics = metrics,
        .info = meta->info,
        .served_model = rep->served_model,
        .fingerprint = rep->fingerprint,
        .error = nothing,
        .done = rep->done,
        .errors = rep->errors,
        .cache_hits = rep->cache_hits,
        .finished_at = meta->end_time,
    };
    struct hret_err err = HRET_ERR_INIT;
    if (hret_store_runlog_end(st->db, st->feed.samples, st->feed.outcomes, st->ds->count, &res,
                              &err) != HRET_OK) {
        fprintf(stderr, "hret run: the run was not stored: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    fprintf(out, "  stored     run %s (%zu cached responses reused)\n",
            hret_store_runlog_id(st->db), rep->cache_hits);
    return HRET_EXIT_OK;
}

/* log_likelihood (probed first), llm_judge (--judge-model), self-consistency and the language
 * gate into p. Prints what to fix; returns an exit status. */
static int setup_modes(struct hret_run_args *a, const struct hret_config *cfg,
                       const struct hret_model_config *model, struct hret_run_params *p)
{
    bool loglik = strcmp(a->method, "log_likelihood") == 0;
    bool judge = strcmp(a->method, "llm_judge") == 0;
    if (judge != (a->judge_model != NULL)) {
        fprintf(stderr, "hret run: %s\n",
                judge ? "--method llm_judge needs --judge-model NAME (the models: entry that "
                        "judges the answers)"
                      : "--judge-model is only used with --method llm_judge");
        return HRET_EXIT_USAGE;
    }
    if (judge) {
        p->judge_model = hret_config_model(cfg, a->judge_model);
        enum hret_judge_type t = HRET_JUDGE_K2_EVAL;
        hret_judge_params(a->params, &t, NULL);
        p->judge_type = (int)t;
        if (p->judge_model == NULL) {
            fprintf(stderr, "hret run: judge model '%s' is not in the config's models:\n",
                    a->judge_model);
            return HRET_EXIT_USAGE;
        }
        if (!key_ready(p->judge_model)) {
            return HRET_EXIT_USAGE;
        }
    }
    if (a->paths > 1) {
        if (loglik || judge || p->external != NULL ||
            (!isnan(a->temperature) && a->temperature <= 0)) {
            fprintf(stderr, "hret run: --self-consistency needs a built-in evaluator that "
                            "parses answers (string_match, partial_match, math_match) and a "
                            "temperature above 0\n");
            return HRET_EXIT_USAGE;
        }
        p->paths = (unsigned)a->paths;
        if (isnan(a->temperature)) {
            p->gen.temperature = model->temperature > 0 ? model->temperature : 0.7;
        }
    }
    if (a->language_gate && a->language_threshold < 0) {
        a->language_threshold = 0.5;
    }
    p->language_threshold = a->language_threshold;
    p->language_gate = a->language_gate;
    p->prompt_suffix = a->prompt_suffix;
    if (loglik && a->prompt_suffix != NULL) {
        fprintf(stderr, "hret run: --prompt-suffix does not go with log_likelihood, which scores "
                        "each option right after the prompt\n");
        return HRET_EXIT_USAGE;
    }
    if (!loglik) {
        return HRET_EXIT_OK;
    }
    p->mode = HRET_RUN_LOGLIK;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_probe_require_echo(model, &err) != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    return HRET_EXIT_OK;
}

/* --track: the finished run to the sinks in this process (none when nothing was scored). */
static int track(const struct hret_config *cfg, const struct hret_run_args *a,
                 const struct hret_results_meta *meta, const cJSON *metrics)
{
    struct hret_strlist sinks = {0};
    struct hret_err err = HRET_ERR_INIT;
    int status = HRET_EXIT_OK;
    if (hret_sink_local_select(cfg, a->track, &sinks, &err) == HRET_OK && sinks.count > 0 &&
        hret_metrics_nothing_scored(metrics) == NULL) {
        cJSON *md = hret_results_run_metadata(meta);
        if (hret_sink_local_deliver(cfg, NULL, &sinks, md, metrics, &err) != HRET_OK) {
            fprintf(stderr, "hret run: tracking: %s\n", err.msg);
            status = HRET_EXIT_FAILURE;
        }
        cJSON_Delete(md);
    }
    hret_strlist_fini(&sinks);
    return status;
}

static int execute(struct hret_run_args *a, struct run_state *st)
{
    struct hret_err err = HRET_ERR_INIT;
    struct hret_strlist problems = {0};
    if (hret_config_load(&st->cfg, hret_config_locate(a->config), &problems, &err) != HRET_OK) {
        for (size_t i = 0; i < problems.count; i++) {
            fprintf(stderr, "%s\n", problems.items[i]);
        }
        hret_strlist_fini(&problems);
        fprintf(stderr, "hret run: fix the configuration (hret config check) and retry\n");
        return HRET_EXIT_USAGE;
    }
    hret_log_setup((enum hret_log_level)st->cfg.log_level,
                   (enum hret_log_format)st->cfg.log_format);
    const struct hret_model_config *model = resolve_model(&st->cfg, a);
    if (model == NULL || !key_ready(model)) {
        return HRET_EXIT_USAGE;
    }
    a->dataset = a->dataset ? a->dataset : st->cfg.default_dataset;
    a->method = a->method ? a->method : st->cfg.default_evaluation_method;
    a->split = a->split ? a->split : st->cfg.default_split;
    st->eval = hret_eval_find(a->method);
    const struct hret_evaluator_config *external =
        st->eval ? NULL : hret_config_evaluator(&st->cfg, a->method);
    if (st->eval == NULL && external == NULL) {
        fprintf(stderr,
                "hret run: unknown evaluation method '%s' (not built in and not in the "
                "config's evaluators:; see hret help run)\n",
                a->method);
        return HRET_EXIT_USAGE;
    }
    if (st->eval != NULL && st->eval->init(a->params, &st->eval_state, &err) != HRET_OK) {
        fprintf(stderr, "hret run: --param: %s\n", err.msg);
        return HRET_EXIT_USAGE;
    }
    st->data_dir = a->data_dir ? hret_xstrdup(a->data_dir)
                               : hret_xasprintf("%s/%s", st->cfg.datasets.root, a->dataset);
    bool replace = a->invalid_utf8 >= 0 ? a->invalid_utf8 == 1 : st->cfg.datasets.invalid_utf8 == 1;
    struct hret_dataset_spec spec = {
        .invalid_utf8_replaced = replace ? &st->invalid_utf8 : NULL,
        .name = a->dataset,
        .data_dir = st->data_dir,
        .root = a->data_dir ? a->data_dir : st->cfg.datasets.root,
        .follow_symlinks = st->cfg.datasets.follow_symlinks,
        .subsets = &a->subsets,
        .split = a->split,
        .limit = a->limit,
        .sample_size = a->sample_size,
        .seed = (unsigned long long)a->seed,
        .num_few_shot = a->num_few_shot,
        .few_shot_split = a->few_shot_split,
        .params = a->dataset_params->child ? a->dataset_params : NULL,
    };
    int opened = store_open(a, st, model);
    if (opened != HRET_EXIT_OK) {
        return opened;
    }
    /* without a database the version is needed only for the results, after the run has read
     * every sample in order (and hashed it on the way) */
    spec.version_on_demand = st->db == NULL;
    enum hret_result loaded = hret_store_dataset_load(
        st->db ? hret_store_runlog_store(st->db) : NULL, &st->cfg.datasets, &spec, a->version,
        a->data_dir != NULL, true, st->data_version, &st->ds, &err);
    if (loaded != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return hret_result_is_retriable(loaded) ? HRET_EXIT_FAILURE : HRET_EXIT_USAGE;
    }
    /* with a database the store writes every sample at the end: those are kept */
    bool results = a->output != NULL || st->cfg.auto_save_results;
    if (hret_run_feed_init(&st->feed, st->ds, results, st->db != NULL, &err) != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double start_time = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    struct ticker ticker = {.start_ms = hret_clock_now_ms()};
    ticker.last_beat_ms = ticker.start_ms;
    bool tty = !a->quiet && isatty(STDERR_FILENO);
    struct hret_run_params params = {
        .model = model,
        .evaluator = st->eval,
        .evaluator_state = st->eval_state,
        .external = external,
        .external_params = a->params,
        .gen = {.max_tokens = a->max_tokens, .temperature = a->temperature, .top_p = NAN},
        .language_threshold = a->language_threshold,
        .progress = progress,
        .progress_user = &ticker,
        .stop = &stop_requested,
    };
    int modes = setup_modes(a, &st->cfg, model, &params);
    if (modes != HRET_EXIT_OK) {
        return modes;
    }
    int stored = store_begin(a, st, model, &spec, start_time);
    if (stored != HRET_EXIT_OK) {
        return stored;
    }
    params.cache = st->db ? hret_store_runlog_cache(st->db) : NULL;
    ticker.bar = tty;
    ticker.db = st->db;
    if (st->db != NULL) {
        snprintf(st->run_id, sizeof st->run_id, "%s", hret_store_runlog_id(st->db));
    } else {
        hret_store_new_run_id(st->run_id);
    }
    params.cache_policy = (int)st->cfg.response_cache;
    params.cache_scope = st->run_id;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    enum hret_result run_result =
        hret_run_stream(&params, &st->feed.source, st->ds->count, &st->report, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (run_result == HRET_OK) {
        run_result = hret_dataset_version(st->ds, &err); /* reads what a stop left unread */
    }
    if (run_result != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        return HRET_EXIT_FAILURE;
    }

    struct hret_prices prices = {model->price_input_per_1m, model->price_output_per_1m};
    cJSON *metrics = hret_metrics_acc_finish(st->feed.tally, &prices);
    cJSON *config = pipeline_config(a, &spec);
    cJSON *info = pipeline_info(a, &spec, st->ds, st->report.elapsed_s);
    if (st->invalid_utf8 > 0) {
        cJSON_AddNumberToObject(info, "invalid_utf8_replaced", (double)st->invalid_utf8);
    }
    clock_gettime(CLOCK_REALTIME, &wall);
    struct hret_results_meta meta = {
        .run_id = st->run_id,
        .run_name = a->run_name,
        .dataset = a->dataset,
        .model = a->model,
        .start_time = start_time,
        .end_time = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9,
        .partial = st->report.partial,
        .planned = st->ds->count,
        .config = config,
        .info = info,
        .metadata = a->meta,
    };
    int status = HRET_EXIT_OK;
    st->output = default_output(&st->cfg, a, st->run_id);
    unsigned flags = a->output == NULL ? HRET_OUTFILE_EXCLUSIVE : 0;
    if (st->output != NULL && hret_results_write_spool(st->output, flags, &meta, metrics,
                                                       st->feed.results, &err) != HRET_OK) {
        fprintf(stderr, "hret run: %s\n", err.msg);
        status = HRET_EXIT_FAILURE;
    }
    /* with --output - the results JSON is standard output: the summary goes to stderr */
    FILE *out = st->output != NULL && strcmp(st->output, "-") == 0 ? stderr : stdout;
    struct hret_run_summary sum = {
        .run_name = a->run_name,
        .split = a->split,
        .ds = st->ds,
        .errors = &st->feed.errors,
        .tally = st->feed.tally,
        .model = model,
        .metrics = metrics,
        .report = &st->report,
        .high_error_rate = a->max_error_rate >= 0 ? a->max_error_rate : 0.05,
        .invalid_utf8 = st->invalid_utf8,
    };
    hret_run_summary_print(out, &sum);
    if (st->output != NULL && status == HRET_EXIT_OK && out == stdout) {
        fprintf(out, "  results    %s%s\n", st->output, st->report.partial ? " (partial)" : "");
    }
    if (st->db != NULL && store_end(out, st, &meta, metrics) != HRET_EXIT_OK) {
        status = HRET_EXIT_FAILURE;
    }
    if (track(&st->cfg, a, &meta, metrics) != HRET_EXIT_OK) {
        status = HRET_EXIT_FAILURE;
    }
    const char *nothing = hret_metrics_nothing_scored(metrics);
    double rate = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(metrics, "error_rate"));
    if (st->report.partial) {
        fprintf(stderr, "hret run: interrupted; partial results kept\n");
        status = stop_requested == SIGINT    ? HRET_EXIT_INTERRUPTED
                 : stop_requested == SIGTERM ? HRET_EXIT_TERMINATED
                                             : HRET_EXIT_FAILURE;
    } else if (nothing != NULL) {
        fprintf(stderr, "hret run: nothing scored: %s\n", nothing);
        status = HRET_EXIT_FAILURE;
    } else if (a->max_error_rate >= 0 && rate > a->max_error_rate) {
        fprintf(stderr, "hret run: error rate %.1f%% is above --max-error-rate %.1f%%\n",
                100 * rate, 100 * a->max_error_rate);
        status = HRET_EXIT_FAILURE;
    }
    cJSON_Delete(metrics);
    cJSON_Delete(config);
    cJSON_Delete(info);
    return status;
}

int hret_cmd_run(int argc, char **argv)
{
    struct hret_run_args a = {0};
    struct run_state st = {0};
    int status = hret_run_args_parse(argc, argv, &a);
    if (status == HRET_EXIT_OK) {
        status = execute(&a, &st);
    }
    hret_run_feed_fini(&st.feed);
    if (st.eval != NULL && st.eval_state != NULL) {
        st.eval->destroy(st.eval_state);
    }
    hret_run_report_fini(&st.report);
    hret_dataset_destroy(st.ds);
    hret_store_runlog_destroy(st.db);
    hret_config_fini(&st.cfg);
    free(st.data_dir);
    free(st.output);
    hret_run_args_fini(&a);
    return status;
}
