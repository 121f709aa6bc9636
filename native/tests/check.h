/*
 * The C tests' one checking helper: count the checks, print each failure, report at the end
 * ("N passed, N failed"; the exit status is 1 on any failure).
 */
#ifndef CCBOARD_TESTS_CHECK_H
#define CCBOARD_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int passed, failed;

/* One check; on failure prints "FAIL: " and the printf-style message. */
static inline void check(int ok, const char *what, ...) __attribute__((format(printf, 2, 3)));

static inline void check(int ok, const char *what, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, what);
    fputs("FAIL: ", stdout);
    vprintf(what, ap);
    fputc('\n', stdout);
    va_end(ap);
}

/* A check that names itself: file, line and the expression. */
#define CHECK(c) check((c), "%s:%d %s", __FILE__, __LINE__, #c)

/* The last line of main(): prints the counts, returns the exit status. */
static inline int report(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
