/* External evaluators: one child process per batch, fed and read through pipes under poll. */
#include "hret_eval_external.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_json.h"
#include "hret_mem.h"

/* The variables the child sees: enough to find and run an interpreter, never a secret. */
static const char *const kept_env[] = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ"};
#define N_KEPT_ENV (sizeof kept_env / sizeof kept_env[0])

/* ---- verdict lines ---- */

static enum hret_result optional_text(const cJSON *obj, const char *key, const char *def,
                                      char **out, struct hret_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsString(v)) {
        return hret_err_set(err, HRET_E_PROTO, "\"%s\" must be a string", key);
    }
    *out = hret_xstrdup(cJSON_IsString(v) ? v->valuestring : def ? def : "");
    return HRET_OK;
}

enum hret_result hret_eval_external_parse(const char *line, size_t len, const char *prediction,
                                          const char *reference, struct hret_verdict *out,
                                          struct hret_err *err)
{
    struct hret_err perr = HRET_ERR_INIT;
    cJSON *doc = hret_json_parse(line, len, HRET_EVAL_EXTERNAL_LINE_CAP, &perr);
    if (doc == NULL || !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return hret_err_set(err, HRET_E_PROTO, "not a JSON object%s%s", doc ? "" : ": ",
                            doc ? "" : perr.msg);
    }
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(doc, "is_correct");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(doc, "score");
    enum hret_result r = HRET_OK;
    *out = (struct hret_verdict){0};
    if (!cJSON_IsBool(ok)) {
        r = hret_err_set(err, HRET_E_PROTO, "\"is_correct\" must be true or false");
    } else if (score != NULL && !cJSON_IsNull(score) &&
               (!cJSON_IsNumber(score) || !isfinite(score->valuedouble))) {
        r = hret_err_set(err, HRET_E_PROTO, "\"score\" must be a finite number");
    } else {
        out->correct = cJSON_IsTrue(ok);
        out->score = cJSON_IsNumber(score) ? score->valuedouble : out->correct ? 1.0 : 0.0;
        r = optional_text(doc, "normalized_pred", prediction, &out->normalized_pred, err);
        if (r == HRET_OK) {
            r = optional_text(doc, "normalized_ref", reference, &out->normalized_ref, err);
        }
    }
    cJSON_Delete(doc);
    if (r != HRET_OK) {
        hret_verdict_fini(out);
    }
    return r;
}

/* ---- the batch ---- */

struct batch {
    const struct hret_evaluator_config *ev;
    const struct hret_eval_external_item *items;
    size_t n;
    struct hret_verdict *verdicts;
    char **errors;
    struct hret_buf line; /* the line being read, capped */
    bool line_too_long;
    size_t lines; /* complete lines read */
    size_t total; /* bytes read */
};

/* The JSONL fed to the command (caller owns result). */
static char *input_jsonl(const struct hret_eval_external_item *items, size_t n, const cJSON *params,
                         size_t *len)
{
    struct hret_buf b;
    hret_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct hret_sample *s = items[i].sample;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", s->id ? s->id : "");
        if (s->subset != NULL) {
            cJSON_AddStringToObject(o, "subset", s->subset);
        }
        cJSON_AddStringToObject(o, "prediction", items[i].prediction ? items[i].prediction : "");
        cJSON_AddStringToObject(o, "reference", s->reference ? s->reference : "");
        if (s->options.count > 0) {
            cJSON_AddItemToObject(o, "options",
                                  cJSON_CreateStringArray((const char *const *)s->options.items,
                                                          (int)s->options.count));
        }
        if (cJSON_IsObject(params) && params->child != NULL) {
            cJSON_AddItemToObject(o, "params", cJSON_Duplicate(params, true));
        }
        char *text = hret_json_print(o);
        hret_buf_appendf(&b, NULL, "%s\n", text);
        free(text);
        cJSON_Delete(o);
    }
    *len = b.len;
    return hret_buf_take(&b);
}

static void item_error(struct batch *b, size_t i, char *reason)
{
    if (b->errors[i] == NULL) {
        hret_verdict_fini(&b->verdicts[i]);
        b->verdicts[i] = (struct hret_verdict){0};
        b->errors[i] = reason;
    } else {
        free(reason);
    }
}

/* The line just completed belongs to sample b->lines. */
static void line_done(struct batch *b)
{
    size_t i = b->lines++;
    if (i >= b->n) {
        return; /* past the last sample: ignored */
    }
    if (b->line_too_long) {
        item_error(b, i,
                   hret_xasprintf("evaluator '%s': line %zu exceeds %zu bytes", b->ev->name, i + 1,
                                  HRET_EVAL_EXTERNAL_LINE_CAP));
    } else {
        const struct hret_eval_external_item *it = &b->items[i];
        struct hret_err err = HRET_ERR_INIT;
        if (hret_eval_external_parse(b->line.data, b->line.len, it->prediction,
                                     it->sample->reference, &b->verdicts[i], &err) != HRET_OK) {
            item_error(b, i,
                       hret_xasprintf("evaluator '%s': line %zu is malformed: %s", b->ev->name,
                                      i + 1, err.msg));
        }
    }
    hret_buf_reset(&b->line);
    b->line_too_long = false;
}

static void take_output(struct batch *b, const char *p, size_t n)
{
    b->total += n;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        if (!b->line_too_long && hret_buf_append(&b->line, p, k, NULL) != HRET_OK) {
            b->line_too_long = true;
        }
        if (nl == NULL) {
            return;
        }
        line_done(b);
        p += k + 1;
        n -= k + 1;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char **child_env(void)
{
    char **env = hret_xcalloc(N_KEPT_ENV + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < N_KEPT_ENV; i++) {
        const char *v = getenv(kept_env[i]);
        if (v != NULL) {
            env[k++] = hret_xasprintf("%s=%s", kept_env[i], v);
        }
    }
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i] != NULL; i++) {
        free(env[i]);
    }
    free(env);
}

static bool cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0) {
        return false;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return true;
}

/* Starts the command in its own process group with stdin from in[0] and stdout to out[1]. */
static int spawn(const struct hret_evaluator_config *ev, int in[2], int out[2], pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    char **argv = hret_xcalloc(ev->command.count + 1, sizeof *argv);
    memcpy(argv, ev->command.items, ev->command.count * sizeof *argv);
    char **env = child_env();
    int rc = posix_spawnp(pid, argv[0], &fa, &at, argv, env);
    free_env(env);
    free(argv);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

enum outcome { RAN, TIMED_OUT, TOO_MUCH };

struct io {
    int in_w, out_r;
    const char *data;
    size_t len, sent;
};

/* One poll round; false when the time is up. */
static bool pump(struct batch *b, struct io *io, double deadline)
{
    double left = deadline - now_ms();
    if (left <= 0) {
        return false;
    }
    struct pollfd fds[2] = {{.fd = io->out_r, .events = POLLIN},
                            {.fd = io->in_w, .events = POLLOUT}};
    int nfds = io->in_w >= 0 ? 2 : 1;
    if (poll(fds, (nfds_t)nfds, left < 1 ? 1 : (int)left) < 0 && errno != EINTR) {
        return false;
    }
    if (nfds == 2 && fds[1].revents != 0) {
        ssize_t k = write(io->in_w, io->data + io->sent, io->len - io->sent);
        io->sent += k > 0 ? (size_t)k : 0;
        if ((k < 0 && errno != EAGAIN && errno != EINTR) || io->sent == io->len) {
            close(io->in_w); /* done, or the command stopped reading (EPIPE) */
            io->in_w = -1;
        }
    }
    if (fds[0].revents != 0) {
        char chunk[65536];
        ssize_t k = read(io->out_r, chunk, sizeof chunk);
        if (k > 0) {
            take_output(b, chunk, (size_t)k);
        } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
            close(io->out_r);
            io->out_r = -1;
        }
    }
    return true;
}

/* Feeds the input and reads the output until EOF, the deadline or the cap. */
static enum outcome exchange(struct batch *b, struct io *io, double deadline)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old); /* EPIPE instead of a dead hret */
    enum outcome o = RAN;
    while (io->out_r >= 0 && o == RAN) {
        if (!pump(b, io, deadline)) {
            o = TIMED_OUT;
        } else if (b->total > HRET_EVAL_EXTERNAL_TOTAL_CAP) {
            o = TOO_MUCH;
        }
    }
    struct timespec zero = {0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return o;
}

/* Waits for the child until the deadline; kills its process group after it. */
static enum outcome reap(pid_t pid, double deadline, enum outcome o, int *status)
{
    if (o != RAN) {
        kill(-pid, SIGKILL);
    }
    while (waitpid(pid, status, o == RAN ? WNOHANG : 0) == 0) {
        if (now_ms() >= deadline) {
            kill(-pid, SIGKILL);
            o = TIMED_OUT;
            waitpid(pid, status, 0);
            break;
        }
        struct timespec tick = {0, 5000000};
        nanosleep(&tick, NULL);
    }
    return o;
}

/* The reason every sample fails, or NULL when the command ran and exited 0. */
static char *batch_reason(const struct batch *b, enum outcome o, int status)
{
    const char *name = b->ev->name;
    if (o == TIMED_OUT) {
        return hret_xasprintf("evaluator '%s' timed out after %lld ms (process group killed)", name,
                              b->ev->timeout_ms);
    }
    if (o == TOO_MUCH) {
        return hret_xasprintf("evaluator '%s' wrote more than %zu bytes", name,
                              HRET_EVAL_EXTERNAL_TOTAL_CAP);
    }
    if (WIFSIGNALED(status)) {
        return hret_xasprintf("evaluator '%s' crashed: killed by signal %d", name,
                              WTERMSIG(status));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        return hret_xasprintf("evaluator '%s' crashed: exit status %d", name, WEXITSTATUS(status));
    }
    return NULL;
}

static void fail_all(struct batch *b, const char *reason)
{
    for (size_t i = 0; i < b->n; i++) {
        hret_verdict_fini(&b->verdicts[i]);
        b->verdicts[i] = (struct hret_verdict){0};
        free(b->errors[i]);
        b->errors[i] = hret_xstrdup(reason);
    }
}

static enum hret_result run_batch(struct batch *b, const cJSON *params, struct hret_err *err)
{
    int in[2], out[2];
    if (!cloexec_pipe(in)) {
        return hret_err_set(err, HRET_E_FATAL, "pipe: %s", strerror(errno));
    }
    if (!cloexec_pipe(out)) {
        close(in[0]);
        close(in[1]);
        return hret_err_set(err, HRET_E_FATAL, "pipe: %s", strerror(errno));
    }
    pid_t pid;
    int rc = spawn(b->ev, in, out, &pid);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        return hret_err_set(err, HRET_E_CONFIG, "evaluator '%s' cannot start %s: %s", b->ev->name,
                            b->ev->command.items[0], strerror(rc));
    }
    struct io io = {.in_w = in[1], .out_r = out[0]};
    char *data = input_jsonl(b->items, b->n, params, &io.len);
    io.data = data;
    fcntl(io.in_w, F_SETFL, O_NONBLOCK);
    fcntl(io.out_r, F_SETFL, O_NONBLOCK);
    double deadline = now_ms() + (double)b->ev->timeout_ms;
    enum outcome o = exchange(b, &io, deadline);
    if (io.in_w >= 0) {
        close(io.in_w);
    }
    if (io.out_r >= 0) {
        close(io.out_r);
    }
    free(data);
    if (o == RAN && (b->line.len > 0 || b->line_too_long)) {
        line_done(b); /* the last line had no newline */
    }
    int status = 0;
    o = reap(pid, deadline, o, &status);
    char *why = batch_reason(b, o, status);
    if (why != NULL) {
        fail_all(b, why);
        enum hret_result r =
            hret_err_set(err, o == TIMED_OUT ? HRET_E_TIMEOUT : HRET_E_PROTO, "%s", why);
        free(why);
        return r;
    }
    return HRET_OK;
}

enum hret_result hret_eval_external_score(const struct hret_evaluator_config *ev,
                                          const cJSON *params,
                                          const struct hret_eval_external_item *items, size_t n,
                                          struct hret_verdict *verdicts, char **errors,
                                          struct hret_err *err)
{
    if (n == 0) {
        return HRET_OK;
    }
    struct batch b = {.ev = ev, .items = items, .n = n, .verdicts = verdicts, .errors = errors};
    hret_buf_init(&b.line, HRET_EVAL_EXTERNAL_LINE_CAP);
    enum hret_result r =
        ev->command.count == 0
            ? hret_err_set(err, HRET_E_CONFIG, "evaluator '%s' has no command", ev->name)
            : run_batch(&b, params, err);
    hret_buf_fini(&b.line);
    if (r != HRET_OK && errors[0] == NULL) {
        fail_all(&b, err->msg); /* it never ran */
        return r;
    }
    if (r == HRET_OK && b.lines < n) {
        for (size_t i = b.lines; i < n; i++) {
            item_error(&b, i,
                       hret_xasprintf("evaluator '%s': short output: %zu verdict lines for %zu "
                                      "samples",
                                      ev->name, b.lines, n));
        }
    }
    for (size_t i = 0; i < n && r == HRET_OK; i++) {
        if (errors[i] != NULL) {
            r = hret_err_set(err, HRET_E_PROTO, "%s", errors[i]);
        }
    }
    return r;
}
