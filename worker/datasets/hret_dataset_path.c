/* Dataset paths that stay under their root (see hret_dataset_path.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "hret_dataset_path.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PART_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

bool hret_dataset_part_ok(const char *s)
{
    if (s == NULL) {
        return false;
    }
    size_t n = strlen(s);
    return n >= 1 && n <= 128 && strspn(s, PART_CHARS) == n && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

/* The length of root without trailing slashes ("/" stays 1). */
static size_t root_len(const char *root)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') {
        n--;
    }
    return n;
}

/* path is root itself or root + "/" + components none of which is "." or "..". */
static bool lexically_below(const char *root, const char *path)
{
    size_t n = root_len(root);
    if (strncmp(path, root, n) != 0) {
        return false;
    }
    const char *p = path + n;
    if (*p == '\0') {
        return true;
    }
    if (*p != '/' && !(n == 1 && root[0] == '/')) {
        return false;
    }
    while (*p != '\0') {
        p += strspn(p, "/");
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
            return false;
        }
        p += len;
    }
    return true;
}

enum hret_result hret_dataset_path_check(const char *root, const char *path, bool follow_symlinks,
                                         struct hret_err *err)
{
    bool inside = lexically_below(root, path);
    if (inside && !follow_symlinks) {
        char *real_root = realpath(root, NULL);
        char *real_path = realpath(path, NULL);
        inside = real_root != NULL && real_path != NULL && lexically_below(real_root, real_path);
        free(real_root);
        free(real_path);
    }
    if (inside) {
        return HRET_OK;
    }
    return hret_err_set(err, HRET_E_INVAL,
                        "%s: refused: it is outside the dataset root %s or leads outside it "
                        "through a symbolic link (set datasets.follow_symlinks: true to allow "
                        "links)",
                        path, root);
}
