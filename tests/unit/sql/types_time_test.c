/*
 * types_time_test.c -- sql/types_time: calendar math, interval text forms and
 * comparison, the TZif reader and POSIX rules, local <-> UTC conversion around DST
 * transitions. Expected strings were checked against PostgreSQL 15 (psql -Atc).
 */
#include <stdio.h>
#include <string.h>

#include "sql/types.h"
#include "sql/types_int.h"
#include "sql/types_time.h"
#include "tests/unit/test.h"

static arena_t arena;
static char out_buf[600];

static const char *rt(type_oid_t t, int32_t typmod, const char *in)
{
    if (!arena.budget_bytes) arena_init(&arena, 64 << 20);
    datum_t d;
    sql_error_t err = {0};
    if (type_in_text(t, typmod, in, strlen(in), &arena, &d, &err) < 0) {
        snprintf(out_buf, sizeof out_buf, "ERR %s %s", err.sqlstate, err.message);
        return out_buf;
    }
    strbuf_t sb;
    strbuf_init(&sb);
    type_out_text(t, typmod, d, &sb);
    snprintf(out_buf, sizeof out_buf, "%s", sb.data ? sb.data : "");
    strbuf_free(&sb);
    return out_buf;
}

#define EXPECT_STR(got, want) do { const char *g_ = (got); if (strcmp(g_, (want))) { \
    fprintf(stderr, "  got [%s] want [%s]\n", g_, (want)); TEST_CHECK(!"mismatch"); } } while (0)

TEST(civil_days_round_trip)
{
    /* every day from 4713 BC to 9999 AD maps back to itself, weekdays advance by one */
    int64_t lo = types__days_from_civil(-4712, 1, 1), hi = types__days_from_civil(9999, 12, 31);
    for (int64_t d = lo; d <= hi; d += 1) {
        int64_t y;
        int m, dd;
        types__civil_from_days(d, &y, &m, &dd);
        if (types__days_from_civil(y, m, dd) != d) { TEST_CHECK(!"round trip"); break; }
    }
    TEST_CHECK(types__days_from_civil(2000, 1, 1) == 0);
    TEST_CHECK(types__days_from_civil(2000, 3, 1) == 60);           /* 2000 is a leap year */
    TEST_CHECK(types__days_from_civil(1900, 3, 1) - types__days_from_civil(1900, 2, 28) == 1);
    TEST_CHECK(types__days_from_civil(1970, 1, 1) == -10957);
}

TEST(intervals)
{
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "1 day 2 hours"), "1 day 02:00:00");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "1-2"), "1 year 2 mons");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "@ 1 hour ago"), "-01:00:00");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "-1 day +02:00"), "-1 days +02:00:00");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "1.5 months"), "1 mon 15 days");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "0"), "00:00:00");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "1 year -1 mon"), "11 mons");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "1 day 1 day"), "ERR 22007 invalid input syntax for type interval: \"1 day 1 day\"");
    EXPECT_STR(rt(TYPE_INTERVAL, -1, "2147483648 days"), "ERR 22008 interval field value out of range: \"2147483648 days\"");
    datum_t a, b;
    sql_error_t err = {0};
    TEST_REQUIRE(type_in_text(TYPE_INTERVAL, -1, "1 mon", 5, &arena, &a, &err) == 0);
    TEST_REQUIRE(type_in_text(TYPE_INTERVAL, -1, "30 days", 7, &arena, &b, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_INTERVAL, a, b) == 0);
    TEST_CHECK(type_hash(TYPE_INTERVAL, a) == type_hash(TYPE_INTERVAL, b));
    TEST_REQUIRE(type_in_text(TYPE_INTERVAL, -1, "720:00:01", 9, &arena, &b, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_INTERVAL, a, b) < 0);
    strbuf_t sb;
    strbuf_init(&sb);
    type_send_binary(TYPE_INTERVAL, -1, b, &sb);
    TEST_REQUIRE(sb.len == 16);
    datum_t c;
    TEST_REQUIRE(type_recv_binary(TYPE_INTERVAL, -1, (const uint8_t *)sb.data, sb.len, &arena, &c, &err) == 0);
    TEST_CHECK(type_cmp(TYPE_INTERVAL, b, c) == 0);
    strbuf_free(&sb);
}

TEST(times)
{
    EXPECT_STR(rt(TYPE_TIME, -1, "allballs"), "00:00:00");
    EXPECT_STR(rt(TYPE_TIME, -1, "12:34:56.789"), "12:34:56.789");
    EXPECT_STR(rt(TYPE_TIME, 1, "12:34:56.789"), "12:34:56.8");
    EXPECT_STR(rt(TYPE_TIME, -1, "24:00"), "24:00:00");
    EXPECT_STR(rt(TYPE_TIME, -1, "25:00"), "ERR 22008 date/time field value out of range: \"25:00\"");
    EXPECT_STR(rt(TYPE_TIMESTAMP, 0, "2024-01-31 23:59:59.5"), "2024-02-01 00:00:00");
}

static const types_tz_t *zone(const char *name)
{
    char canon[128];
    sql_error_t err = {0};
    return types_tz_load(name, canon, sizeof canon, &err);
}

TEST(zones)
{
    const types_tz_t *ny = zone("America/New_York");
    TEST_REQUIRE(ny != NULL);
    types_tz_use(ny);
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2024-03-10 02:30"), "2024-03-10 03:30:00-04");   /* gap */
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2024-11-03 01:30"), "2024-11-03 01:30:00-05");   /* overlap */
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2024-07-01 12:00+00"), "2024-07-01 08:00:00-04");
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2300-07-01 12:00+00"), "2300-07-01 08:00:00-04"); /* POSIX footer */
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "1800-01-01 12:00+00"), "1800-01-01 07:03:58-04:56:02");
    const types_tz_t *fixed = zone("-7");
    TEST_REQUIRE(fixed != NULL);
    types_tz_use(fixed);
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2024-01-01 12:00+00"), "2024-01-01 05:00:00-07");
    const types_tz_t *posix = zone("CET-1CEST,M3.5.0,M10.5.0/3");
    TEST_REQUIRE(posix != NULL);
    types_tz_use(posix);
    EXPECT_STR(rt(TYPE_TIMESTAMPTZ, -1, "2024-07-01 12:00+00"), "2024-07-01 14:00:00+02");
    types_tz_use(NULL);
    char canon[128];
    sql_error_t err = {0};
    TEST_CHECK(types_tz_load("../../etc/passwd", canon, sizeof canon, &err) == NULL);
    TEST_CHECK(!strcmp(err.sqlstate, "22023"));
    TEST_CHECK(zone("Nowhere/Atlantis") == NULL);
    TEST_CHECK(zone("europe/berlin") == zone("Europe/Berlin"));
}

TEST_MAIN()
