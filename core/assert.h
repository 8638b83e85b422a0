/*
 * assert.h -- ASSERT stays on in release for cheap checks (programmer errors);
 * DASSERT only in debug builds (NEXTDB_DEBUG) for expensive ones; STATIC_ASSERT for
 * constant relationships. A failed assertion logs file:line and the expression and
 * aborts. Operating errors (bad client bytes, disk full) never use these.
 */
#ifndef NEXTDB_ASSERT_H
#define NEXTDB_ASSERT_H
void assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define ASSERT(e) ((e) ? (void)0 : assert_fail(#e, __FILE__, __LINE__))
#ifdef NEXTDB_DEBUG
#define DASSERT(e) ASSERT(e)
#else
#define DASSERT(e) ((void)0)
#endif
#define STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#endif
