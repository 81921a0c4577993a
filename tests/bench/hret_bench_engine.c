/* Drives the endpoint engine against one URL: N chat requests with C in flight, optionally
 * through the per-model budget's gate (4th argument "budget": what every run pays now). Prints
 * one JSON line: requests, ok, seconds, rps, cpu_s, max_rss_kb. Used by tests/bench/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "hret_budget.h"
#include "hret_clock.h"
#include "hret_http.h"

struct counts {
    long ok, failed;
};

static enum hret_result on_done(void *user, const struct hret_http_result *r)
{
    struct counts *c = user;
    if (r->code == HRET_OK) {
        c->ok++;
    } else {
        c->failed++;
    }
    return HRET_OK;
}

int main(int argc, char **argv)
{
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "budget") == 0)) {
        fprintf(stderr, "usage: bench-engine URL REQUESTS INFLIGHT [budget]\n");
        return 2;
    }
    const char *url = argv[1];
    long total = atol(argv[2]), inflight = atol(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct hret_http *h = hret_http_new(NULL);
    struct hret_http_limits lim = {.name = "bench",
                                   .max_inflight = inflight,
                                   .timeout_ms = 60000,
                                   .connect_timeout_ms = 10000,
                                   .max_retries = 3,
                                   .retry_after_cap_ms = 10000,
                                   .max_response_bytes = 1 << 20};
    struct hret_model_config model = {.name = (char[]){"bench"}, .max_inflight = inflight};
    struct hret_budget *budget = argc == 5 ? hret_budget_get(&model) : NULL;
    struct hret_http_gate gate;
    if (budget != NULL) {
        hret_budget_gate(budget, &gate);
        lim.gate = &gate;
    }
    int pool = hret_http_add_pool(h, &lim, NULL);
    static const char body[] = "{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\","
                               "\"content\":\"다음은 객관식 문제입니다. 정답은?\"}],"
                               "\"temperature\":0}";
    struct hret_http_request req = {
        .url = url, .body = body, .body_len = sizeof body - 1, .est_tokens = 10};
    struct counts c = {0, 0};
    double t0 = hret_clock_now_ms();
    long submitted = 0;
    /* keep a bounded window queued, as the pipeline does */
    while (c.ok + c.failed < total) {
        while (submitted < total && submitted - (c.ok + c.failed) < inflight * 2) {
            hret_http_submit(h, pool, &req, on_done, &c, NULL);
            submitted++;
        }
        hret_http_run(h, 100);
    }
    double secs = (hret_clock_now_ms() - t0) / 1000.0;
    hret_http_destroy(h);
    hret_budget_put(budget);
    curl_global_cleanup();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("{\"requests\":%ld,\"ok\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"cpu_s\":%.3f,"
           "\"max_rss_kb\":%ld}\n",
           total, c.ok, secs, (double)total / secs, cpu, ru.ru_maxrss);
    return c.failed == 0 ? 0 : 1;
}
