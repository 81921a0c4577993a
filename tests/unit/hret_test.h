/* Shared helpers for the cmocka unit tests (header-only, included by each test file). */
#ifndef HRET_TEST_H
#define HRET_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

/* $HRET_SOURCE_DIR/rel (ctest sets HRET_SOURCE_DIR); the result is a static buffer. */
static inline const char *hret_test_path(const char *rel)
{
    static char path[4096];
    const char *root = getenv("HRET_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    return path;
}

#endif
