#include "testlib.h"
#include "upper.h"
START_TEST(net_upper_ascii)
{
    char s[] = "hello, World 42 \xc3\xa9";
    upper_ascii(s, sizeof s - 1);
    ck_assert_str_eq(s, "HELLO, WORLD 42 \xc3\xa9");
}
END_TEST
static Suite *smoke_suite(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("smoke");
    tcase_add_test(tc, net_upper_ascii);
    suite_add_tcase(s, tc);
    return s;
}
TK_MAIN(smoke_suite)
