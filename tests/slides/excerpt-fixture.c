/*
 * excerpt-fixture.c - input for tests/check_slides.c, never compiled: the shapes of C that the
 * slide generator's @code directive must handle.
 */
#include <stdio.h>

/* Not the add() the slide wants: a different function whose name contains it. */
int not_this_one_add(int a)
{
    return a;
}

/* Adds two numbers, the teaching way. */
static int add(int a, int b) __attribute__((unused));
static int add(int a, int b)
{
    //> lab2 the students write this line
    return a + b;
    //< lab2
}

int main(void)
{
    /* An indented call is not a definition. */
    printf("%d\n", add(1, 2));
    return 0;
}
