#include "hret_test.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hret_mem.h"
#include "hret_outfile.h"

static char dir[] = "/tmp/hret_outfile_XXXXXX";

static void put(const char *path, unsigned flags, const char *text, enum hret_result want)
{
    struct hret_outfile *f = NULL;
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r = hret_outfile_open(path, flags, &f, &err);
    if (r == HRET_OK) {
        fputs(text, hret_outfile_stream(f));
        r = hret_outfile_commit(f, &err);
    }
    assert_int_equal(r, want);
}

static void assert_content(const char *path, const char *want)
{
    char got[64] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    assert_string_equal(got, want);
}

static void test_outfile_symlink_target_written(void **state)
{
    (void)state;
    char *target = hret_xasprintf("%s/sub/target", dir), *link = hret_xasprintf("%s/link", dir);
    assert_int_equal(symlink("sub/target", link), 0); /* dangling: sub/ does not exist yet */
    put(link, 0, "one", HRET_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_content(target, "one");
    put(link, 0, "two", HRET_OK);
    assert_content(target, "two");
    free(target);
    free(link);
}

static void test_outfile_keeps_mode(void **state)
{
    (void)state;
    char *path = hret_xasprintf("%s/mode", dir);
    put(path, 0, "old", HRET_OK);
    assert_int_equal(chmod(path, 0604), 0);
    put(path, 0, "new", HRET_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0604);
    assert_content(path, "new");
    free(path);
}

static void test_outfile_exclusive_never_replaces(void **state)
{
    (void)state;
    char *path = hret_xasprintf("%s/excl", dir);
    put(path, HRET_OUTFILE_EXCLUSIVE, "first", HRET_OK);
    put(path, HRET_OUTFILE_EXCLUSIVE, "second", HRET_E_CONFLICT);
    assert_content(path, "first");
    free(path);
}

static void test_outfile_abort_leaves_nothing(void **state)
{
    (void)state;
    char *path = hret_xasprintf("%s/aborted", dir);
    struct hret_outfile *f = NULL;
    assert_int_equal(hret_outfile_open(path, HRET_OUTFILE_EXCLUSIVE, &f, NULL), HRET_OK);
    fputs("half", hret_outfile_stream(f));
    hret_outfile_abort(f);
    assert_int_equal(access(path, F_OK), -1);
    free(path);
}

static void test_outfile_folder_refused(void **state)
{
    (void)state;
    struct hret_outfile *f = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_outfile_open(dir, 0, &f, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, "folder"));
    assert_null(f);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = hret_xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* Positional I/O on a scratch file: written and read back at offsets, a read past the end
 * fails with errno 0, a write to a read-only descriptor with the system's errno. */
static void test_outfile_positional_io(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    FILE *f = hret_outfile_scratch("test", &err);
    assert_non_null(f);
    int fd = fileno(f);
    assert_true(hret_outfile_pwrite(fd, "hello", 5, 0));
    assert_true(hret_outfile_pwrite(fd, "world", 5, 100)); /* a hole between */
    char got[6] = "";
    assert_true(hret_outfile_pread(fd, got, 5, 100));
    assert_string_equal(got, "world");
    assert_true(hret_outfile_pread(fd, got, 5, 0));
    assert_string_equal(got, "hello");
    errno = EINVAL;
    assert_false(hret_outfile_pread(fd, got, 5, 103));
    assert_int_equal(errno, 0);
    fclose(f);
    int ro = open("/dev/null", O_RDONLY);
    assert_false(hret_outfile_pwrite(ro, "x", 1, 0));
    assert_int_not_equal(errno, 0);
    close(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outfile_symlink_target_written),
        cmocka_unit_test(test_outfile_keeps_mode),
        cmocka_unit_test(test_outfile_exclusive_never_replaces),
        cmocka_unit_test(test_outfile_abort_leaves_nothing),
        cmocka_unit_test(test_outfile_folder_refused),
        cmocka_unit_test(test_outfile_positional_io),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
