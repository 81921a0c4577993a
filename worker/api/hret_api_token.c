/* The API's bearer tokens (see hret_api_token.h). */
#include "hret_api_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hret_buf.h"
#include "hret_hash.h"
#include "hret_mem.h"

static const char *const scope_names[] = {"submit", "read"}; /* bit i = 1 << i */
#define N_SCOPES (sizeof scope_names / sizeof scope_names[0])

bool hret_api_name_valid(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= HRET_API_NAME_MAX &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

enum hret_result hret_api_scopes_parse(const char *text, unsigned *out, struct hret_err *err)
{
    *out = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < N_SCOPES &&
               !(strlen(scope_names[i]) == n && strncmp(p, scope_names[i], n) == 0)) {
            i++;
        }
        if (i == N_SCOPES) {
            return hret_err_set(err, HRET_E_INVAL, "unknown scope '%.*s' (scopes: submit, read)",
                                (int)(n > 32 ? 32 : n), p);
        }
        *out |= 1u << i;
        p += n + (p[n] == ',');
    }
    return *out ? HRET_OK : hret_err_set(err, HRET_E_INVAL, "no scope given (submit, read)");
}

void hret_api_scopes_format(unsigned scopes, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_SCOPES; i++) {
        if (scopes & (1u << i)) {
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "",
                                    scope_names[i]);
        }
    }
}

/* One line "NAME SCOPES sha256:HEX CREATED" into t; false when malformed (why in msg). */
static bool parse_line(char *line, struct hret_api_token *t, char *msg, size_t cap)
{
    char *fields[4];
    size_t n = 0;
    for (char *save = NULL, *f = strtok_r(line, " \t", &save); f != NULL;
         f = strtok_r(NULL, " \t", &save)) {
        if (n == 4) {
            snprintf(msg, cap, "expected NAME SCOPES sha256:HEX CREATED, got more fields");
            return false;
        }
        fields[n++] = f;
    }
    struct hret_err e = HRET_ERR_INIT;
    if (n != 4) {
        snprintf(msg, cap, "expected NAME SCOPES sha256:HEX CREATED, got %zu fields", n);
    } else if (!hret_api_name_valid(fields[0])) {
        snprintf(msg, cap, "bad token name (1-64 of A-Z a-z 0-9 . _ -)");
    } else if (hret_api_scopes_parse(fields[1], &t->scopes, &e) != HRET_OK) {
        snprintf(msg, cap, "%s", e.msg);
    } else if (strncmp(fields[2], "sha256:", 7) != 0 || strlen(fields[2] + 7) != 64 ||
               strspn(fields[2] + 7, "0123456789abcdef") != 64) {
        snprintf(msg, cap, "expected sha256: and 64 lowercase hex digits");
    } else if (strlen(fields[3]) >= sizeof t->created) {
        snprintf(msg, cap, "creation time too long");
    } else {
        snprintf(t->name, sizeof t->name, "%s", fields[0]);
        snprintf(t->hash, sizeof t->hash, "%s", fields[2] + 7);
        snprintf(t->created, sizeof t->created, "%s", fields[3]);
        return true;
    }
    return false;
}

enum hret_result hret_api_tokens_parse(const char *text, size_t len, const char *where,
                                       struct hret_api_tokens *out, struct hret_err *err)
{
    size_t alloc = 0, lineno = 0;
    for (size_t pos = 0; pos < len; lineno++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (memchr(text + pos, '\0', n) != NULL) {
            return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: a NUL byte", where, lineno + 1);
        }
        char *line = hret_xstrndup(text + pos, n);
        pos += n + 1;
        line[strcspn(line, "\r")] = '\0';
        const char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#') {
            free(line);
            continue;
        }
        if (out->count == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            out->items = hret_xrealloc(out->items, alloc * sizeof *out->items);
        }
        struct hret_api_token *t = &out->items[out->count];
        *t = (struct hret_api_token){0};
        char msg[160];
        bool ok = parse_line(line, t, msg, sizeof msg);
        free(line);
        if (!ok) {
            return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: %s", where, lineno + 1, msg);
        }
        for (size_t i = 0; i < out->count; i++) {
            if (strcmp(out->items[i].name, t->name) == 0) {
                return hret_err_set(err, HRET_E_CONFIG, "%s:%zu: token name '%s' repeated", where,
                                    lineno + 1, t->name);
            }
        }
        out->count++;
    }
    return HRET_OK;
}

enum hret_result hret_api_tokens_load(const char *path, struct hret_api_tokens *out,
                                      struct hret_err *err)
{
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        return HRET_OK;
    }
    struct hret_buf b;
    hret_buf_init(&b, HRET_API_TOKENS_MAX_BYTES);
    enum hret_result r = hret_buf_append_file(&b, path, err);
    if (r == HRET_OK) {
        r = hret_api_tokens_parse(hret_buf_str(&b), b.len, path, out, err);
    }
    hret_buf_fini(&b);
    return r;
}

void hret_api_tokens_fini(struct hret_api_tokens *t)
{
    if (t != NULL) {
        free(t->items);
        *t = (struct hret_api_tokens){0};
    }
}

const struct hret_api_token *hret_api_tokens_match(const struct hret_api_tokens *t,
                                                   const char *token)
{
    char hash[65];
    hret_hash_sha256_hex(token, strlen(token), hash);
    const struct hret_api_token *found = NULL;
    for (size_t i = 0; i < t->count; i++) {
        if (CRYPTO_memcmp(hash, t->items[i].hash, 64) == 0) {
            found = &t->items[i];
        }
    }
    return found;
}

/* ---- the file: add and revoke under "<path>.lock" ------------------------------------------ */

static int lock_file(const char *path, struct hret_err *err)
{
    char *lock = hret_xasprintf("%s.lock", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        hret_err_set(err, HRET_E_INVAL, "cannot lock %s: %s", lock, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    free(lock);
    return fd;
}

static void unlock_file(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static enum hret_result append_line(const char *path, const char *line, struct hret_err *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    size_t n = strlen(line);
    if (fd < 0 || write(fd, line, n) != (ssize_t)n || fsync(fd) != 0) {
        hret_err_set(err, HRET_E_INVAL, "cannot write %s: %s", path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    return err->code;
}

enum hret_result hret_api_token_add(const char *path, const char *name, unsigned scopes,
                                    char *token, struct hret_err *err)
{
    if (!hret_api_name_valid(name)) {
        return hret_err_set(err, HRET_E_INVAL, "token name '%.64s': use 1-64 of A-Z a-z 0-9 . _ -",
                            name);
    }
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        return hret_err_set(err, HRET_E_FATAL, "no random bytes for a token");
    }
    int lock = lock_file(path, err);
    if (lock < 0) {
        return err->code;
    }
    struct hret_api_tokens have = {0};
    if (hret_api_tokens_load(path, &have, err) == HRET_OK) {
        for (size_t i = 0; i < have.count; i++) {
            if (strcmp(have.items[i].name, name) == 0) {
                hret_err_set(err, HRET_E_CONFLICT,
                             "a token named '%s' exists (revoke it first: hret api token revoke "
                             "%s)",
                             name, name);
            }
        }
    }
    hret_api_tokens_fini(&have);
    if (err->code == HRET_OK) {
        char hex[65], hash[65], scope_text[64], created[32];
        for (size_t i = 0; i < sizeof raw; i++) {
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        }
        snprintf(token, HRET_API_TOKEN_LEN + 1, "%s%s", HRET_API_TOKEN_PREFIX, hex);
        hret_hash_sha256_hex(token, strlen(token), hash);
        hret_api_scopes_format(scopes, scope_text, sizeof scope_text);
        time_t now = time(NULL);
        struct tm tm;
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        char *line = hret_xasprintf("%s %s sha256:%s %s\n", name, scope_text, hash, created);
        append_line(path, line, err);
        free(line);
        OPENSSL_cleanse(hex, sizeof hex);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    unlock_file(lock);
    return err->code;
}

/* Writes every line of text but name's to a temporary file and renames it over path. */
static enum hret_result rewrite_without(const char *path, const char *text, const char *name,
                                        bool *found, struct hret_err *err)
{
    char *tmp = hret_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        hret_err_set(err, HRET_E_INVAL, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return err->code;
    }
    size_t nl = strlen(name);
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        const char *s = p + strspn(p, " \t");
        bool match = strncmp(s, name, nl) == 0 && (s[nl] == ' ' || s[nl] == '\t');
        *found = *found || match;
        if (!match) {
            fwrite(p, 1, n, f);
            fputc('\n', f);
        }
        p += n + (p[n] == '\n');
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        hret_err_set(err, HRET_E_INVAL, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return err->code;
}

enum hret_result hret_api_token_revoke(const char *path, const char *name, struct hret_err *err)
{
    int lock = lock_file(path, err);
    if (lock < 0) {
        return err->code;
    }
    struct hret_buf b;
    hret_buf_init(&b, HRET_API_TOKENS_MAX_BYTES);
    bool found = false;
    if (hret_buf_append_file(&b, path, err) == HRET_OK &&
        rewrite_without(path, hret_buf_str(&b), name, &found, err) == HRET_OK && !found) {
        hret_err_set(err, HRET_E_INVAL, "no token named '%.64s' in %s (hret api token list)", name,
                     path);
    }
    hret_buf_fini(&b);
    unlock_file(lock);
    return err->code;
}
