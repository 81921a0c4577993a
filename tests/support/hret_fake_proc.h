/* Starts and stops build/fake-llm for integration tests (header-only). */
#ifndef HRET_FAKE_PROC_H
#define HRET_FAKE_PROC_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct hret_fake {
    pid_t pid;
    int port;
    char base_url[64]; /* http://127.0.0.1:PORT/v1 */
};

/* argv: extra flags, NULL-terminated. Returns 0 on success. */
static inline int hret_fake_start(struct hret_fake *f, const char *const *extra)
{
    const char *dir = getenv("HRET_BUILD_DIR");
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/fake-llm", dir ? dir : ".");
    const char *argv[64] = {exe, "--port", "0", "--log-level", "warn"};
    int n = 5;
    for (; extra != NULL && *extra != NULL && n < 62; extra++) {
        argv[n++] = *extra;
    }
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    f->pid = fork();
    if (f->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *args[64]; /* execv wants mutable strings: give it copies */
        for (int i = 0; i <= n; i++) {
            args[i] = argv[i] ? strdup(argv[i]) : NULL;
        }
        execv(exe, args);
        _exit(127);
    }
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    char line[256] = "";
    char *got = fgets(line, sizeof line, out);
    fclose(out);
    const char *colon = got ? strrchr(line, ':') : NULL;
    if (colon == NULL || strncmp(line, "listening on ", 13) != 0) {
        return -1;
    }
    f->port = atoi(colon + 1);
    snprintf(f->base_url, sizeof f->base_url, "http://127.0.0.1:%d/v1", f->port);
    return 0;
}

/* SIGTERM, then the exit status (0 = clean). */
static inline int hret_fake_stop(struct hret_fake *f)
{
    int status = -1;
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, &status, 0);
        f->pid = 0;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
