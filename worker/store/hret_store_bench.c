#include "hret_store_bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hret_exit.h"
#include "hret_mem.h"

/* A KMMLU-shaped item: a ~450-byte Korean prompt, options (A)..(D), a short answer. */
static void make(struct hret_sample *s, struct hret_outcome *o, size_t i)
{
    s->idx = i;
    s->id = hret_xasprintf("Law/test/%zu", i);
    s->subset = hret_xstrdup(i % 2 ? "Law" : "Taxation");
    s->input =
        hret_xasprintf("다음은 법률에 관한 객관식 문제입니다. 문제 %zu: 민법상 계약의 해제와 "
                       "해지에 관한 설명으로 옳은 것은?\nA. 해제는 소급효가 있다\nB. 해지는 "
                       "소급효가 있다\nC. 해제권은 형성권이 아니다\nD. 해지는 언제나 "
                       "합의로만 가능하다\n정답:",
                       i);
    s->reference = hret_xstrdup("(A)");
    const char *opts[] = {"(A)", "(B)", "(C)", "(D)"};
    for (int k = 0; k < 4; k++) {
        hret_strlist_push(&s->options, hret_xstrdup(opts[k]));
    }
    o->done = true;
    o->prediction = hret_xstrdup(i % 3 ? "정답은 (A)입니다." : "(B)");
    o->finish_reason = hret_xstrdup("stop");
    o->verdict.correct = i % 3 != 0;
    o->verdict.score = NAN;
    o->verdict.normalized_pred = hret_xstrdup(i % 3 ? "(a)" : "(b)");
    o->verdict.normalized_ref = hret_xstrdup("(a)");
    o->language_penalizer = NAN;
    o->latency_ms = 100.0 + (double)(i % 1000) / 7.0;
    o->prompt_tokens = 180;
    o->completion_tokens = 6;
    o->attempts = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int hret_store_bench_write(struct hret_store *s, size_t n)
{
    struct hret_sample *samples = hret_xcalloc(n ? n : 1, sizeof *samples);
    struct hret_outcome *outcomes = hret_xcalloc(n ? n : 1, sizeof *outcomes);
    for (size_t i = 0; i < n; i++) {
        make(&samples[i], &outcomes[i], i);
    }
    char run_id[37];
    hret_store_new_run_id(run_id);
    struct hret_store_run run = {.run_id = run_id,
                                 .run_name = "bench-write",
                                 .model_name = "bench",
                                 .dataset_name = "bench",
                                 .planned = n};
    cJSON *metrics = cJSON_CreateObject();
    cJSON_AddNumberToObject(metrics, "accuracy", 2.0 / 3.0);
    struct hret_store_result res = {.status = "completed", .metrics = metrics, .done = n};
    struct hret_err err = HRET_ERR_INIT;
    size_t inserted = 0;
    int status = HRET_EXIT_OK;
    double t0 = now_s();
    if (hret_store_run_begin(s, &run, &err) != HRET_OK ||
        hret_store_run_complete(s, run_id, samples, outcomes, n, &res, &inserted, &err) !=
            HRET_OK) {
        fprintf(stderr, "hret runs bench-write: %s\n", err.msg);
        status = HRET_EXIT_FAILURE;
    } else {
        double secs = now_s() - t0;
        printf("{\"samples\":%zu,\"seconds\":%.3f,\"samples_per_s\":%.0f,\"run_id\":\"%s\"}\n",
               inserted, secs, (double)inserted / secs, run_id);
    }
    for (size_t i = 0; i < n; i++) {
        hret_sample_fini(&samples[i]);
        hret_outcome_fini(&outcomes[i]);
    }
    free(samples);
    free(outcomes);
    cJSON_Delete(metrics);
    return status;
}
