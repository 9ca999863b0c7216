/* Shell-free command lines: words, quotes, backslashes, refusals, and the
 * {socket}/{fd} substitution the supervisor relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"

static void expect_words(const char *cmd, const char *const *want, int nwant)
{
    char **argv;
    struct vfu_error err;
    int n = vfu_cmdline_split(cmd, &argv, &err);
    assert_int_equal(n, nwant);
    for (int i = 0; i < nwant; i++) assert_string_equal(argv[i], want[i]);
    assert_null(argv[nwant]);
    vfu_cmdline_free(argv);
}

static void expect_refusal(const char *cmd, enum vfu_cmdline_problem why, size_t at)
{
    char **argv = (char **)1;
    struct vfu_error err;
    assert_int_equal(vfu_cmdline_split(cmd, &argv, &err), -1);
    assert_null(argv);
    assert_int_equal(err.code, VFU_E_BAD_VALUE);
    assert_int_equal(err.want, why);
    assert_int_equal(err.got, at);
}

static void plain_words(void **state)
{
    (void)state;
    const char *w[] = {"server", "-v", "--x=1"};
    expect_words("  server\t-v \n --x=1  ", w, 3);
}

static void quotes_keep_blanks_and_join(void **state)
{
    (void)state;
    const char *w[] = {"/opt/my server", "a b\"c", "ab cd", "", "it's"};
    expect_words("'/opt/my server' \"a b\\\"c\" a'b c'd '' \"it's\"", w, 5);
}

static void backslashes(void **state)
{
    (void)state;
    /* outside quotes any char; inside double quotes only " and \; inside
     * single quotes none */
    const char *w[] = {"a b", "\\", "x\\ny", "q\\\"", "$HOME*"};
    expect_words("a\\ b \\\\ \"x\\ny\" 'q\\\"' $HOME*", w, 5);
}

static void refusals(void **state)
{
    (void)state;
    expect_refusal("", VFU_CMDLINE_EMPTY, 0);
    expect_refusal(" \t\n", VFU_CMDLINE_EMPTY, 0);
    expect_refusal("a 'bc", VFU_CMDLINE_SQUOTE, 2);
    expect_refusal("a \"b\\\"", VFU_CMDLINE_DQUOTE, 2);
    expect_refusal("abc\\", VFU_CMDLINE_BACKSLASH, 3);
    assert_string_equal(vfu_cmdline_problem_str(VFU_CMDLINE_SQUOTE), "single quote not closed");
}

static void limits(void **state)
{
    (void)state;
    char *big = malloc(VFU_CMDLINE_MAX_LEN + 2);
    assert_non_null(big);
    memset(big, 'x', VFU_CMDLINE_MAX_LEN + 1);
    big[VFU_CMDLINE_MAX_LEN + 1] = '\0';
    expect_refusal(big, VFU_CMDLINE_TOO_LONG, VFU_CMDLINE_MAX_LEN);
    /* exactly at the limit is fine */
    big[VFU_CMDLINE_MAX_LEN] = '\0';
    char **argv;
    struct vfu_error err;
    assert_int_equal(vfu_cmdline_split(big, &argv, &err), 1);
    vfu_cmdline_free(argv);
    /* one word more than allowed */
    for (int i = 0; i <= VFU_CMDLINE_MAX_ARGS; i++) {
        big[2 * i] = 'w';
        big[2 * i + 1] = ' ';
    }
    big[2 * (VFU_CMDLINE_MAX_ARGS + 1)] = '\0';
    assert_int_equal(vfu_cmdline_split(big, &argv, &err), -1);
    assert_int_equal(err.want, VFU_CMDLINE_TOO_MANY);
    big[2 * VFU_CMDLINE_MAX_ARGS] = '\0';
    assert_int_equal(vfu_cmdline_split(big, &argv, &err), VFU_CMDLINE_MAX_ARGS);
    /* full: nothing more may be appended */
    assert_false(vfu_cmdline_append(&argv, "more"));
    assert_null(argv[VFU_CMDLINE_MAX_ARGS]);
    vfu_cmdline_free(argv);
    free(big);
}

static void substitution(void **state)
{
    (void)state;
    char **argv;
    struct vfu_error err;
    assert_int_equal(vfu_cmdline_split("srv {socket} --sock={socket},{socket} {sock}", &argv, &err), 4);
    assert_int_equal(vfu_cmdline_subst(argv, "{socket}", "/tmp/a b"), 3);
    assert_string_equal(argv[1], "/tmp/a b");
    assert_string_equal(argv[2], "--sock=/tmp/a b,/tmp/a b");
    assert_string_equal(argv[3], "{sock}");
    assert_int_equal(vfu_cmdline_subst(argv, "{fd}", "3"), 0);
    assert_true(vfu_cmdline_append(&argv, "--fd=3"));
    assert_string_equal(argv[4], "--fd=3");
    assert_null(argv[5]);
    vfu_cmdline_free(argv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_words),
        cmocka_unit_test(quotes_keep_blanks_and_join),
        cmocka_unit_test(backslashes),
        cmocka_unit_test(refusals),
        cmocka_unit_test(limits),
        cmocka_unit_test(substitution),
    };
    return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
