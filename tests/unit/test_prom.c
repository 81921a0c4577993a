/* hret_prom: exact text format 0.0.4 exposition, label limits, and counting from several threads
 * while another renders. */
#include "hret_test.h"

#include <pthread.h>
#include <string.h>

#include "hret_prom.h"

static char *render(struct hret_prom *p)
{
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_prom_render(p, &b, &err), HRET_OK);
    return hret_buf_take(&b);
}

static void exposition_is_exact(void **state)
{
    (void)state;
    struct hret_prom *p = hret_prom_new();
    struct hret_prom_metric *req =
        hret_prom_register(p, &(struct hret_prom_def){.type = HRET_PROM_COUNTER,
                                                      .name = "t_requests_total",
                                                      .help = "Requests,\nby \\outcome\\.",
                                                      .labels = {"outcome"}});
    struct hret_prom_metric *plain = hret_prom_register(
        p, &(struct hret_prom_def){
               .type = HRET_PROM_COUNTER, .name = "t_cost_usd_total", .help = "Cost."});
    struct hret_prom_metric *lag =
        hret_prom_register(p, &(struct hret_prom_def){.type = HRET_PROM_GAUGE,
                                                      .name = "t_lag",
                                                      .help = "Lag.",
                                                      .labels = {"topic", "partition"}});
    struct hret_prom_metric *lat =
        hret_prom_register(p, &(struct hret_prom_def){.type = HRET_PROM_HISTOGRAM,
                                                      .name = "t_latency_seconds",
                                                      .help = "Latency.",
                                                      .labels = {"model"},
                                                      .buckets = {0.1, 1, 2.5},
                                                      .bucket_count = 3});
    hret_prom_inc(hret_prom_series(req, (const char *[]){"ok"}), 3);
    hret_prom_inc(hret_prom_series(req, (const char *[]){"bad \"x\"\\\n"}), 1);
    hret_prom_inc(hret_prom_series(req, (const char *[]){"ok"}), 2);
    hret_prom_add(hret_prom_series(plain, NULL), 0.25);
    hret_prom_add(hret_prom_series(plain, NULL), 0.5);
    struct hret_prom_series *l0 = hret_prom_series(lag, (const char *[]){"req", "0"});
    hret_prom_set(l0, 7);
    hret_prom_inc(l0, 2);
    hret_prom_add(l0, -1);
    struct hret_prom_series *a = hret_prom_series(lat, (const char *[]){"a"});
    hret_prom_observe(a, 0.1); /* le is inclusive */
    hret_prom_observe(a, 0.5);
    hret_prom_observe(a, 3);
    hret_prom_observe(hret_prom_series(lat, (const char *[]){"b"}), 2.5);
    char *text = render(p);
    assert_string_equal(text, "# HELP t_requests_total Requests,\\nby \\\\outcome\\\\.\n"
                              "# TYPE t_requests_total counter\n"
                              "t_requests_total{outcome=\"ok\"} 5\n"
                              "t_requests_total{outcome=\"bad \\\"x\\\"\\\\\\n\"} 1\n"
                              "# HELP t_cost_usd_total Cost.\n"
                              "# TYPE t_cost_usd_total counter\n"
                              "t_cost_usd_total 0.75\n"
                              "# HELP t_lag Lag.\n"
                              "# TYPE t_lag gauge\n"
                              "t_lag{topic=\"req\",partition=\"0\"} 8\n"
                              "# HELP t_latency_seconds Latency.\n"
                              "# TYPE t_latency_seconds histogram\n"
                              "t_latency_seconds_bucket{model=\"a\",le=\"0.1\"} 1\n"
                              "t_latency_seconds_bucket{model=\"a\",le=\"1\"} 2\n"
                              "t_latency_seconds_bucket{model=\"a\",le=\"2.5\"} 2\n"
                              "t_latency_seconds_bucket{model=\"a\",le=\"+Inf\"} 3\n"
                              "t_latency_seconds_sum{model=\"a\"} 3.6\n"
                              "t_latency_seconds_count{model=\"a\"} 3\n"
                              "t_latency_seconds_bucket{model=\"b\",le=\"0.1\"} 0\n"
                              "t_latency_seconds_bucket{model=\"b\",le=\"1\"} 0\n"
                              "t_latency_seconds_bucket{model=\"b\",le=\"2.5\"} 1\n"
                              "t_latency_seconds_bucket{model=\"b\",le=\"+Inf\"} 1\n"
                              "t_latency_seconds_sum{model=\"b\"} 2.5\n"
                              "t_latency_seconds_count{model=\"b\"} 1\n");
    assert_true(hret_prom_total(req) == 6);
    assert_true(hret_prom_total_where(req, 0, "ok") == 5);
    assert_true(hret_prom_total_where(lag, 1, "0") == 8);
    assert_true(hret_prom_total_where(lag, 1, "1") == 0);
    assert_true(hret_prom_total(lat) == 4);
    assert_true(hret_prom_value(a) == 3);
    free(text);
    hret_prom_destroy(p);
}

static void unlabelled_family_shows_zero_and_unbucketed_histogram(void **state)
{
    (void)state;
    struct hret_prom *p = hret_prom_new();
    hret_prom_register(
        p, &(struct hret_prom_def){.type = HRET_PROM_GAUGE, .name = "t_backlog", .help = "Rows."});
    hret_prom_register(p, &(struct hret_prom_def){.type = HRET_PROM_HISTOGRAM,
                                                  .name = "t_h",
                                                  .help = "H.",
                                                  .buckets = {1e-3},
                                                  .bucket_count = 1});
    char *text = render(p);
    assert_string_equal(text, "# HELP t_backlog Rows.\n"
                              "# TYPE t_backlog gauge\n"
                              "t_backlog 0\n"
                              "# HELP t_h H.\n"
                              "# TYPE t_h histogram\n"
                              "t_h_bucket{le=\"0.001\"} 0\n"
                              "t_h_bucket{le=\"+Inf\"} 0\n"
                              "t_h_sum 0\n"
                              "t_h_count 0\n");
    free(text);
    hret_prom_destroy(p);
}

static void label_sets_are_bounded(void **state)
{
    (void)state;
    struct hret_prom *p = hret_prom_new();
    struct hret_prom_metric *m = hret_prom_register(
        p, &(struct hret_prom_def){
               .type = HRET_PROM_COUNTER, .name = "t_x_total", .help = "X.", .labels = {"k"}});
    for (int i = 0; i < HRET_PROM_MAX_SERIES + 10; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        hret_prom_inc(hret_prom_series(m, (const char *[]){v}), 1);
    }
    /* the first MAX-1 sets are themselves, the rest share "other" */
    assert_true(hret_prom_value(hret_prom_series(m, (const char *[]){"v0"})) == 1);
    assert_true(hret_prom_value(hret_prom_series(m, (const char *[]){"other"})) == 11);
    assert_true(hret_prom_total(m) == HRET_PROM_MAX_SERIES + 10);
    char *text = render(p);
    size_t lines = 0;
    for (const char *s = text; (s = strchr(s, '\n')) != NULL; s++) {
        lines++;
    }
    assert_int_equal(lines, 2 + HRET_PROM_MAX_SERIES);
    free(text);

    /* a long value is cut at a UTF-8 boundary, and the cut value names the same series */
    char longv[300];
    memset(longv, 'a', sizeof longv);
    memcpy(longv + HRET_PROM_MAX_LABEL_VALUE - 1, "\xea\xb0\x80", 3); /* straddles the cut */
    longv[sizeof longv - 1] = '\0';
    struct hret_prom *q = hret_prom_new();
    struct hret_prom_metric *n = hret_prom_register(
        q, &(struct hret_prom_def){
               .type = HRET_PROM_COUNTER, .name = "t_y_total", .help = "Y.", .labels = {"k"}});
    hret_prom_inc(hret_prom_series(n, (const char *[]){longv}), 1);
    hret_prom_inc(hret_prom_series(n, (const char *[]){longv}), 1);
    text = render(q);
    char expect[400];
    snprintf(expect, sizeof expect, "t_y_total{k=\"%.*s\"} 2\n", HRET_PROM_MAX_LABEL_VALUE - 1,
             longv);
    assert_non_null(strstr(text, expect));
    free(text);
    hret_prom_destroy(q);
    hret_prom_destroy(p);
}

static void render_past_the_cap_adds_nothing(void **state)
{
    (void)state;
    struct hret_prom *p = hret_prom_new();
    hret_prom_register(
        p, &(struct hret_prom_def){.type = HRET_PROM_GAUGE, .name = "t_g", .help = "G."});
    struct hret_buf b;
    hret_buf_init(&b, 16);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_prom_render(p, &b, &err), HRET_E_PROTO);
    assert_int_equal(b.len, 0);
    hret_buf_fini(&b);
    hret_prom_destroy(p);
}

#define PER_THREAD 200000

struct shared {
    struct hret_prom *p;
    struct hret_prom_metric *c, *h, *g;
};

static void *count(void *arg)
{
    struct shared *s = arg;
    struct hret_prom_series *one = hret_prom_series(s->c, (const char *[]){"same"});
    for (int i = 0; i < PER_THREAD; i++) {
        hret_prom_inc(one, 1);
        hret_prom_add(hret_prom_series(s->g, NULL), 0.5);
        hret_prom_observe(hret_prom_series(s->h, NULL), (i % 3) * 1.0);
        if (i % 1000 == 0) { /* new label sets while the other thread counts */
            char v[16];
            snprintf(v, sizeof v, "k%d", i / 1000 % 40);
            hret_prom_inc(hret_prom_series(s->c, (const char *[]){v}), 1);
        }
    }
    return NULL;
}

static void *scrape(void *arg)
{
    struct shared *s = arg;
    for (int i = 0; i < 200; i++) {
        char *text = render(s->p);
        /* a histogram's +Inf bucket always equals its count, whatever the interleaving */
        const char *inf = strstr(text, "t_h_bucket{le=\"+Inf\"} ");
        const char *cnt = strstr(text, "t_h_count ");
        assert_non_null(inf);
        assert_non_null(cnt);
        assert_int_equal(strtoull(inf + strlen("t_h_bucket{le=\"+Inf\"} "), NULL, 10),
                         strtoull(cnt + strlen("t_h_count "), NULL, 10));
        free(text);
    }
    return NULL;
}

static void two_threads_count_exactly(void **state)
{
    (void)state;
    struct shared s = {.p = hret_prom_new()};
    s.c = hret_prom_register(
        s.p, &(struct hret_prom_def){
                 .type = HRET_PROM_COUNTER, .name = "t_c_total", .help = "C.", .labels = {"k"}});
    s.g = hret_prom_register(
        s.p, &(struct hret_prom_def){.type = HRET_PROM_GAUGE, .name = "t_g", .help = "G."});
    s.h = hret_prom_register(s.p, &(struct hret_prom_def){.type = HRET_PROM_HISTOGRAM,
                                                          .name = "t_h",
                                                          .help = "H.",
                                                          .buckets = {0.5, 1.5},
                                                          .bucket_count = 2});
    pthread_t t[3];
    assert_int_equal(pthread_create(&t[0], NULL, count, &s), 0);
    assert_int_equal(pthread_create(&t[1], NULL, count, &s), 0);
    assert_int_equal(pthread_create(&t[2], NULL, scrape, &s), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
    }
    assert_true(hret_prom_value(hret_prom_series(s.c, (const char *[]){"same"})) ==
                2.0 * PER_THREAD);
    assert_true(hret_prom_total(s.c) == 2.0 * PER_THREAD + 2 * (PER_THREAD / 1000));
    assert_true(hret_prom_value(hret_prom_series(s.g, NULL)) == PER_THREAD);
    assert_true(hret_prom_total(s.h) == 2.0 * PER_THREAD);
    char *text = render(s.p);
    /* i % 3 is 0, 1, 2: a third of each thread's values in each bucket */
    char expect[256];
    int third = PER_THREAD / 3;
    snprintf(expect, sizeof expect,
             "t_h_bucket{le=\"0.5\"} %d\nt_h_bucket{le=\"1.5\"} %d\nt_h_bucket{le=\"+Inf\"} %d\n"
             "t_h_sum %d\nt_h_count %d\n",
             2 * (third + 1), 2 * (2 * third + 2), 2 * PER_THREAD, 2 * (3 * third + 1),
             2 * PER_THREAD);
    assert_non_null(strstr(text, expect));
    free(text);
    hret_prom_destroy(s.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exposition_is_exact),
        cmocka_unit_test(unlabelled_family_shows_zero_and_unbucketed_histogram),
        cmocka_unit_test(label_sets_are_bounded),
        cmocka_unit_test(render_past_the_cap_adds_nothing),
        cmocka_unit_test(two_threads_count_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
