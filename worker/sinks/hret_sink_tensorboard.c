/* The TensorBoard sink: one event file per completed run, under
 * <tensorboard.log_dir>/<run_name or request id>/<model>/, so the runs of one name (a sweep over
 * epochs) form one curve per model. The file holds the file_version event and one Event with
 * every forwarded metric (hret_sink_metrics) as a scalar at step metadata.epoch/step, wall_time
 * the run's finished_at.
 *
 * Idempotent: the file's name and bytes depend only on the event, it is written to a temporary
 * name, fsynced and renamed into place, and bridge_state ("tensorboard", run id) records it
 * afterwards. A redelivered event finds the row and writes nothing; a crash between the rename
 * and the row rewrites the same bytes under the same name. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hret_cloudevents.h"
#include "hret_log.h"
#include "hret_mem.h"
#include "hret_outfile.h"
#include "hret_sink.h"
#include "hret_tfrecord.h"

#define WHO "bridge tensorboard"
#define FILE_VERSION "brain.Event:2"
#define MAX_FILE_BYTES (16u << 20)
#define MAX_NAME_BYTES 100

struct tb {
    struct hret_pg *pg; /* borrowed from the role's store */
    const char *log_dir;
    char host[64];
};

static const char *const tb_events[] = {"hret.run.completed.v1", NULL};

/* A path component from a label: '/', '\' and control bytes become '_', a leading '.' gets a '_'
 * in front (no "..", no hidden files); cut at MAX_NAME_BYTES on a UTF-8 boundary. */
static char *component(const char *label)
{
    char *out = hret_xmalloc(MAX_NAME_BYTES + 2);
    size_t n = 0;
    if (*label == '.' || *label == '\0') {
        out[n++] = '_';
    }
    for (const unsigned char *p = (const unsigned char *)label; *p && n < MAX_NAME_BYTES; p++) {
        if (n + 4 > MAX_NAME_BYTES && (*p & 0xC0) != 0x80) {
            break; /* a character that might not fit whole */
        }
        out[n++] = (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7F) ? '_' : (char)*p;
    }
    out[n] = '\0';
    return out;
}

static enum hret_result make_dirs(const char *path, struct hret_err *err)
{
    char *dir = hret_xstrdup(path);
    enum hret_result r = HRET_OK;
    for (char *p = dir + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') {
            continue;
        }
        *p = '\0';
        if (mkdir(dir, 0775) != 0 && errno != EEXIST) {
            r = hret_err_set(err, HRET_E_UNAVAILABLE, "cannot create directory %s: %s", dir,
                             strerror(errno));
            break;
        }
        *p = c;
        if (c == '\0') {
            break;
        }
    }
    free(dir);
    return r;
}

static enum hret_result open_tb(struct hret_role *r, void **state, struct hret_err *err)
{
    const char *dir = r->cfg.tensorboard.log_dir;
    if (dir == NULL || *dir == '\0') {
        return hret_err_set(err, HRET_E_CONFIG,
                            "tensorboard.log_dir is empty: set it in the "
                            "config (a directory the bridge may write)");
    }
    if (make_dirs(dir, err) != HRET_OK) {
        hret_err_prefix(err, "tensorboard.log_dir");
        err->code = HRET_E_CONFIG;
        return err->code;
    }
    struct tb *tb = hret_xcalloc(1, sizeof *tb);
    tb->pg = hret_store_pg(r->store);
    tb->log_dir = dir;
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char *safe = component(host);
    snprintf(tb->host, sizeof tb->host, "%s", safe);
    free(safe);
    hret_log_info(WHO, NULL, "writing event files under %s", dir);
    *state = tb;
    return HRET_OK;
}

static void close_tb(void *state)
{
    free(state);
}

/* The file's bytes: the version record, then one Event with every scalar. */
static enum hret_result encode(const cJSON *data, double wall, struct hret_buf *out,
                               size_t *nscalars, struct hret_err *err)
{
    cJSON *metrics = hret_sink_metrics(data);
    size_t n = (size_t)cJSON_GetArraySize(metrics);
    struct hret_tfrecord_scalar *vals = hret_xcalloc(n + 1, sizeof *vals);
    size_t i = 0;
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, metrics)
    {
        double v = it->valuedouble; /* finite; past float's range it becomes an infinity */
        float f = fabs(v) <= FLT_MAX ? (float)v : (v > 0 ? INFINITY : -INFINITY);
        vals[i++] = (struct hret_tfrecord_scalar){it->string, f};
    }
    struct hret_buf ev;
    hret_buf_init(&ev, MAX_FILE_BYTES);
    enum hret_result r = hret_tfrecord_event(&ev, wall, 0, FILE_VERSION, NULL, 0, err);
    if (r == HRET_OK) {
        r = hret_tfrecord_frame(out, ev.data, ev.len, err);
    }
    if (r == HRET_OK && n > 0) {
        hret_buf_reset(&ev);
        r = hret_tfrecord_event(&ev, wall, hret_sink_step(data), NULL, vals, n, err);
        if (r == HRET_OK) {
            r = hret_tfrecord_frame(out, ev.data, ev.len, err);
        }
    }
    *nscalars = n;
    hret_buf_fini(&ev);
    free(vals);
    cJSON_Delete(metrics);
    return r;
}

static enum hret_result fsync_path(const char *path, int flags, struct hret_err *err)
{
    int fd = open(path, flags);
    if (fd < 0 || fsync(fd) != 0) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "fsync %s: %s", path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return err->code;
}

/* Writes the bytes to path durably and atomically: a temporary file, fsync, rename, fsync dir. */
static enum hret_result write_file(const char *dir, const char *path, const struct hret_buf *b,
                                   struct hret_err *err)
{
    char *tmp = hret_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0 && hret_outfile_pwrite(fd, b->data, b->len, 0);
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? fsync_path(dir, O_RDONLY, err) : err->code;
}

static enum hret_role_verdict deliver_tb(void *state, const struct hret_role_event *ev,
                                         struct hret_err *err)
{
    struct tb *tb = state;
    const cJSON *d = ev->data;
    const cJSON *run_id = cJSON_GetObjectItemCaseSensitive(d, "run_id");
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(d, "request_id");
    const cJSON *run_name = cJSON_GetObjectItemCaseSensitive(d, "run_name");
    const cJSON *model =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "model"), "name");
    const cJSON *finished = cJSON_GetObjectItemCaseSensitive(d, "finished_at");
    const char *missing = !cJSON_IsString(run_id)    ? "run_id"
                          : !cJSON_IsString(request) ? "request_id"
                          : !cJSON_IsString(model)   ? "model.name"
                                                     : NULL;
    double wall = 0;
    if (missing == NULL &&
        (!cJSON_IsString(finished) || !hret_cloudevent_parse_time(finished->valuestring, &wall))) {
        missing = "finished_at as RFC 3339 UTC";
    }
    if (missing != NULL) {
        hret_err_set(err, HRET_E_PROTO, "%s without %s (see schemas/events/%s.schema.json)",
                     ev->ce.type, missing, ev->ce.type);
        return HRET_ROLE_REJECT;
    }
    const char *id = run_id->valuestring;
    struct hret_bridge_state st;
    bool found = false;
    if (hret_bridge_state_get(tb->pg, "tensorboard", id, &st, &found, err) != HRET_OK) {
        hret_bridge_state_fini(&st);
        return HRET_ROLE_RETRY; /* the database is ours: wait for it, never drop the run */
    }
    bool done = found && st.state != NULL && strcmp(st.state, "finished") == 0;
    hret_bridge_state_fini(&st);
    if (done) {
        hret_log_debug(WHO, id, "already written (bridge_state); nothing to do");
        return HRET_ROLE_DONE;
    }

    char *group =
        component(cJSON_IsString(run_name) && *run_name->valuestring ? run_name->valuestring
                                                                     : request->valuestring);
    char *sub = component(model->valuestring);
    char *dir = hret_xasprintf("%s/%s/%s", tb->log_dir, group, sub);
    char *safe_id = component(id); /* the event's run id is not trusted to be a UUID */
    char *name = hret_xasprintf("events.out.tfevents.%lld.%s.%.36s.hret", (long long)wall, tb->host,
                                safe_id);
    free(safe_id);
    char *path = hret_xasprintf("%s/%s", dir, name);
    struct hret_buf bytes;
    hret_buf_init(&bytes, MAX_FILE_BYTES);
    size_t n = 0;
    enum hret_role_verdict v = HRET_ROLE_RETRY;
    if (encode(d, wall, &bytes, &n, err) != HRET_OK) {
        v = HRET_ROLE_REJECT; /* over the cap: the same event never fits */
    } else if (make_dirs(dir, err) == HRET_OK && write_file(dir, path, &bytes, err) == HRET_OK) {
        struct hret_bridge_state put = {
            .external_id = hret_xasprintf("%s/%s/%s", group, sub, name),
            .state = hret_xstrdup("finished"),
            .last_event_id = hret_xstrdup(ev->ce.id),
        };
        if (hret_bridge_state_put(tb->pg, "tensorboard", id, &put, err) == HRET_OK) {
            hret_log_info(WHO, id, "wrote %zu scalars at step %lld to %s", n, hret_sink_step(d),
                          put.external_id);
            v = HRET_ROLE_DONE;
        }
        hret_bridge_state_fini(&put);
    }
    hret_buf_fini(&bytes);
    free(path);
    free(name);
    free(dir);
    free(sub);
    free(group);
    return v;
}

const struct hret_sink hret_sink_tensorboard = {
    .name = "tensorboard",
    .events = tb_events,
    .open = open_tb,
    .deliver = deliver_tb,
    .close = close_tb,
};
