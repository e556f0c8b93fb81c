/* crashpoint: named places where a test build of a daemon kills itself
 * (SIGKILL), so that a system test can show what survives a crash there.
 *
 * CRASHPOINT("timer-fired-before-commit") is nothing unless the file is
 * compiled with CONCERTO_TEST_HOOKS, which only concerto_common_testhooks
 * is (common/CMakeLists.txt), and only the test daemons of services/testkit
 * link that: no deployed binary holds a crash point. In a test build the
 * process dies at the point named by CONCERTO_TEST_CRASHPOINT. */
#ifndef CONCERTO_CRASHPOINT_H
#define CONCERTO_CRASHPOINT_H

#ifdef CONCERTO_TEST_HOOKS
void crashpoint(const char *name);
#define CRASHPOINT(name) crashpoint(name)
#else
#define CRASHPOINT(name) ((void)0)
#endif

#endif
