#include "hret_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hret_mem.h"

#define MAX_LINKS 40 /* as the kernel's ELOOP limit */

enum kind { KIND_STDOUT, KIND_DIRECT, KIND_ATOMIC };

struct hret_outfile {
    enum kind kind;
    FILE *stream;
    char *path;    /* the resolved path written (or renamed over) */
    char *tmp;     /* KIND_ATOMIC: the temporary file */
    bool reserved; /* EXCLUSIVE created path: remove it on abort */
};

static enum hret_result fail_errno(struct hret_err *err, const char *what, const char *path)
{
    return hret_err_set(err, errno == EEXIST ? HRET_E_CONFLICT : HRET_E_INVAL, "cannot %s %s: %s",
                        what, path, strerror(errno));
}

/* The folder part of path ("." when none; caller owns result). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return hret_xstrdup(".");
    }
    return slash == path ? hret_xstrdup("/") : hret_xstrndup(path, (size_t)(slash - path));
}

/* Follows symlinks, dangling ones too, to the path that is really written (caller owns). */
static enum hret_result resolve(const char *path, char **out, struct hret_err *err)
{
    char *cur = hret_xstrdup(path);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            *out = cur;
            return HRET_OK;
        }
        if (hops == MAX_LINKS) {
            errno = ELOOP;
            enum hret_result r = fail_errno(err, "resolve", path);
            free(cur);
            return r;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0) {
            enum hret_result r = fail_errno(err, "read the link", cur);
            free(cur);
            return r;
        }
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = hret_xstrdup(target);
        } else {
            char *dir = dir_of(cur);
            next = hret_xasprintf("%s/%s", dir, target);
            free(dir);
        }
        free(cur);
        cur = next;
    }
}

static enum hret_result make_dirs(const char *path, struct hret_err *err)
{
    char *dir = hret_xstrdup(path);
    enum hret_result r = HRET_OK;
    for (char *p = dir + 1; *p && r == HRET_OK; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                r = fail_errno(err, "create the folder", dir);
            }
            *p = '/';
        }
    }
    free(dir);
    return r;
}

static mode_t new_file_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

static enum hret_result open_direct(struct hret_outfile *f, struct hret_err *err)
{
    int fd = open(f->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || (f->stream = fdopen(fd, "w")) == NULL) {
        enum hret_result r = fail_errno(err, "open", f->path);
        if (fd >= 0) {
            close(fd);
        }
        return r;
    }
    f->kind = KIND_DIRECT;
    return HRET_OK;
}

/* A temporary file beside f->path with the mode (and owner) the result should have. */
static enum hret_result open_atomic(struct hret_outfile *f, const struct stat *old,
                                    struct hret_err *err)
{
    char *dir = dir_of(f->path);
    const char *base = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;
    f->tmp = hret_xasprintf("%s/.%s.XXXXXX", dir, base);
    free(dir);
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        enum hret_result r = fail_errno(err, "create a temporary file for", f->path);
        free(f->tmp);
        f->tmp = NULL;
        return r;
    }
    if (old != NULL) {
        int ignored = fchown(fd, old->st_uid, old->st_gid); /* EPERM: the writer owns it */
        (void)ignored;
        fchmod(fd, old->st_mode & 07777);
    } else {
        fchmod(fd, new_file_mode());
    }
    f->stream = fdopen(fd, "w");
    if (f->stream == NULL) {
        enum hret_result r = fail_errno(err, "open", f->tmp);
        close(fd);
        unlink(f->tmp);
        return r;
    }
    f->kind = KIND_ATOMIC;
    return HRET_OK;
}

static enum hret_result reserve(struct hret_outfile *f, struct hret_err *err)
{
    int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, new_file_mode());
    if (fd < 0) {
        return fail_errno(err, "create", f->path);
    }
    close(fd);
    f->reserved = true;
    return HRET_OK;
}

enum hret_result hret_outfile_open(const char *path, unsigned flags, struct hret_outfile **out,
                                   struct hret_err *err)
{
    *out = NULL;
    struct hret_outfile *f = hret_xcalloc(1, sizeof *f);
    enum hret_result r = HRET_OK;
    if (strcmp(path, "-") == 0) {
        f->kind = KIND_STDOUT;
        f->stream = stdout;
        *out = f;
        return HRET_OK;
    }
    if ((r = resolve(path, &f->path, err)) != HRET_OK || (r = make_dirs(f->path, err)) != HRET_OK) {
        goto fail;
    }
    struct stat st;
    bool exists = stat(f->path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        r = hret_err_set(err, HRET_E_INVAL, "cannot write %s: it is a folder", path);
    } else if (exists && (flags & HRET_OUTFILE_EXCLUSIVE)) {
        errno = EEXIST;
        r = fail_errno(err, "create", f->path);
    } else if (exists && !S_ISREG(st.st_mode)) {
        r = open_direct(f, err);
    } else {
        bool exclusive = !exists && (flags & HRET_OUTFILE_EXCLUSIVE);
        r = exclusive ? reserve(f, err) : HRET_OK;
        r = r == HRET_OK ? open_atomic(f, exists ? &st : NULL, err) : r;
    }
    if (r == HRET_OK) {
        *out = f;
        return HRET_OK;
    }
fail:
    hret_outfile_abort(f);
    return r;
}

FILE *hret_outfile_stream(struct hret_outfile *f)
{
    return f->stream;
}

static void release(struct hret_outfile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

/* Flushes and syncs the stream; false with errno set on a write error. */
static bool flush_sync(struct hret_outfile *f)
{
    if (ferror(f->stream)) {
        /* a write failed earlier and its errno is gone: flushing what is still buffered
         * again reports the cause (ENOSPC, EPIPE, EIO) */
        clearerr(f->stream);
        if (fflush(f->stream) == 0) {
            errno = EIO;
        }
        return false;
    }
    if (fflush(f->stream) != 0) {
        return false;
    }
    /* devices, pipes and terminals cannot sync (EINVAL/EROFS): that is not a failure */
    return fsync(fileno(f->stream)) == 0 || errno == EINVAL || errno == EROFS;
}

static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

enum hret_result hret_outfile_commit(struct hret_outfile *f, struct hret_err *err)
{
    errno = 0;
    bool ok = flush_sync(f);
    const char *name = f->kind == KIND_STDOUT ? "standard output" : f->path;
    enum hret_result r = ok ? HRET_OK : fail_errno(err, "write", name);
    if (f->kind == KIND_STDOUT) {
        release(f);
        return r;
    }
    if (fclose(f->stream) != 0 && r == HRET_OK) {
        r = fail_errno(err, "write", name);
    }
    f->stream = NULL;
    if (f->kind == KIND_ATOMIC && r == HRET_OK) {
        if (rename(f->tmp, f->path) != 0) {
            r = fail_errno(err, "write", name);
        } else {
            free(f->tmp);
            f->tmp = NULL;
            f->reserved = false;
            sync_dir(f->path);
        }
    }
    if (r != HRET_OK) {
        hret_outfile_abort(f);
        return r;
    }
    release(f);
    return HRET_OK;
}

void hret_outfile_abort(struct hret_outfile *f)
{
    if (f == NULL) {
        return;
    }
    if (f->stream != NULL && f->kind != KIND_STDOUT) {
        fclose(f->stream);
    }
    if (f->tmp != NULL) {
        unlink(f->tmp);
    }
    if (f->reserved) {
        unlink(f->path);
    }
    release(f);
}

FILE *hret_outfile_scratch(const char *what, struct hret_err *err)
{
    const char *dir = getenv("TMPDIR");
    char *path = hret_xasprintf("%s/hret-scratch-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) {
        unlink(path); /* gone with the process */
    }
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (f == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        hret_err_set(err, HRET_E_UNAVAILABLE, "cannot make the %s file %s: %s", what, path,
                     strerror(e));
    }
    free(path);
    return f;
}

bool hret_outfile_pread(int fd, void *dst, size_t n, uint64_t off)
{
    for (size_t done = 0; done < n;) {
        ssize_t got = pread(fd, (char *)dst + done, n - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            errno = got < 0 ? errno : 0;
            return false;
        }
        done += (size_t)got;
    }
    return true;
}

bool hret_outfile_pwrite(int fd, const void *src, size_t n, uint64_t off)
{
    for (size_t done = 0; done < n;) {
        ssize_t put = pwrite(fd, (const char *)src + done, n - done, (off_t)(off + done));
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put <= 0) {
            errno = put < 0 && errno != 0 ? errno : EIO;
            return false;
        }
        done += (size_t)put;
    }
    return true;
}
