/* lib/runtime/sockdir.h: where the socket directory goes ($TMPDIR when usable,
 * else /tmp), what it is named, and that removing it twice is harmless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sockdir.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void under_tmpdir(void **state)
{
    (void)state;
    char base[] = "/tmp/vfu-sockdir-test-XXXXXX";
    assert_non_null(mkdtemp(base));
    setenv("TMPDIR", base, 1);
    struct vfu_sockdir d;
    assert_true(vfu_sockdir_make(&d, "vfu-test"));
    assert_true(is_dir(d.dir));
    char want[128];
    snprintf(want, sizeof want, "%s/vfu-test-", base);
    assert_memory_equal(d.dir, want, strlen(want));
    snprintf(want, sizeof want, "%s/sock", d.dir);
    assert_string_equal(d.sock, want);
    /* a socket file left inside goes with the directory */
    FILE *f = fopen(d.sock, "w");
    assert_non_null(f);
    fclose(f);
    char dir[VFU_SOCKDIR_MAX];
    snprintf(dir, sizeof dir, "%s", d.dir);
    vfu_sockdir_remove(&d);
    assert_false(is_dir(dir));
    assert_string_equal(d.dir, "");
    vfu_sockdir_remove(&d);   /* again: nothing */
    rmdir(base);
    unsetenv("TMPDIR");
}

static void unusable_tmpdir_falls_back(void **state)
{
    (void)state;
    const char *bad[] = {"relative/dir", "/a/path/far/too/long/to/leave/room/for/a/socket/name/x"};
    for (unsigned i = 0; i < 2; i++) {
        setenv("TMPDIR", bad[i], 1);
        struct vfu_sockdir d;
        assert_true(vfu_sockdir_make(&d, "vfu-test"));
        assert_memory_equal(d.dir, "/tmp/vfu-test-", 14);
        vfu_sockdir_remove(&d);
    }
    /* a TMPDIR that does not exist: the error, nothing made */
    setenv("TMPDIR", "/nonexistent-vfu", 1);
    struct vfu_sockdir d;
    assert_false(vfu_sockdir_make(&d, "vfu-test"));
    assert_int_equal(errno, ENOENT);
    assert_string_equal(d.dir, "");
    unsetenv("TMPDIR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(under_tmpdir),
        cmocka_unit_test(unusable_tmpdir_falls_back),
    };
    return cmocka_run_group_tests_name("sockdir", tests, NULL, NULL);
}
