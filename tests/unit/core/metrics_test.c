/*
 * metrics_test.c -- registry rules and the Prometheus text rendering: HELP/TYPE
 * lines, the shard label, cumulative histogram buckets with +Inf, _sum and _count.
 * Updates run on real shard threads (a 2-shard runtime), since slots are per shard.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/rt.h"
#include "core/strbuf.h"
#include "tests/unit/test.h"

static int m_req, m_conn, m_lat;
static _Atomic int updated;

static int init_hook(int shard, void *arg)
{
    metrics_add(m_req, shard == 0 ? 3 : 40);
    metrics_add(m_req, 2);
    metrics_set(m_conn, shard == 0 ? -2 : 7);
    if (shard == 1) {
        metrics_observe(m_lat, 0.0005);   /* le 0.001 */
        metrics_observe(m_lat, 0.001);    /* le 0.001 (bounds are inclusive) */
        metrics_observe(m_lat, 0.02);     /* le 0.1 */
        metrics_observe(m_lat, 7.5);      /* +Inf only */
    }
    atomic_fetch_add(&updated, 1);
    return 0;
}

TEST(register_rules)
{
    static const double bad[] = {1.0, 0.5};
    TEST_CHECK(metrics_register("bad name", "x", METRIC_COUNTER, NULL, 0) == -1);
    TEST_CHECK(metrics_register("1starts_with_digit", "x", METRIC_COUNTER, NULL, 0) == -1);
    TEST_CHECK(metrics_register("unsorted_seconds", "x", METRIC_HISTOGRAM, bad, 2) == -1);
    int a = metrics_register("test_dup_total", "x", METRIC_COUNTER, NULL, 0);
    TEST_CHECK(a >= 0);
    TEST_CHECK(metrics_register("test_dup_total", "x", METRIC_COUNTER, NULL, 0) == -1);
}

TEST(render_format)
{
    static const double bounds[] = {0.001, 0.1, 1};
    m_req = metrics_register("test_requests_total", "Requests served.", METRIC_COUNTER, NULL, 0);
    m_conn = metrics_register("test_connections", "Open connections.\nSecond line \\ here.",
                              METRIC_GAUGE, NULL, 0);
    m_lat = metrics_register("test_latency_seconds", "Latency.", METRIC_HISTOGRAM, bounds, 3);
    TEST_REQUIRE(m_req >= 0 && m_conn >= 0 && m_lat >= 0);
    metrics_init_shards(2);

    /* Off a shard thread, updates are dropped. */
    metrics_add(m_req, 1000);

    rt_config_t cfg = {.shards_count = 2, .shard_init = init_hook};
    rt_t *rt = NULL;
    TEST_REQUIRE(rt_start(&cfg, &rt) == 0);
    rt_request_stop(rt);
    rt_join(rt);
    TEST_CHECK(atomic_load(&updated) == 2);

    strbuf_t sb;
    strbuf_init(&sb);
    metrics_render(&sb);
    TEST_REQUIRE(!sb.oom && sb.data != NULL);
    const char *t = sb.data;
    TEST_CHECK(strstr(t, "# HELP test_requests_total Requests served.\n"
                         "# TYPE test_requests_total counter\n"
                         "test_requests_total{shard=\"0\"} 5\n"
                         "test_requests_total{shard=\"1\"} 42\n") != NULL);
    TEST_CHECK(strstr(t, "# HELP test_connections Open connections.\\nSecond line \\\\ here.\n"
                         "# TYPE test_connections gauge\n"
                         "test_connections{shard=\"0\"} -2\n"
                         "test_connections{shard=\"1\"} 7\n") != NULL);
    TEST_CHECK(strstr(t, "# TYPE test_latency_seconds histogram\n"
                         "test_latency_seconds_bucket{shard=\"0\",le=\"0.001\"} 0\n"
                         "test_latency_seconds_bucket{shard=\"0\",le=\"0.1\"} 0\n"
                         "test_latency_seconds_bucket{shard=\"0\",le=\"1\"} 0\n"
                         "test_latency_seconds_bucket{shard=\"0\",le=\"+Inf\"} 0\n"
                         "test_latency_seconds_sum{shard=\"0\"} 0\n"
                         "test_latency_seconds_count{shard=\"0\"} 0\n"
                         "test_latency_seconds_bucket{shard=\"1\",le=\"0.001\"} 2\n"
                         "test_latency_seconds_bucket{shard=\"1\",le=\"0.1\"} 3\n"
                         "test_latency_seconds_bucket{shard=\"1\",le=\"1\"} 3\n"
                         "test_latency_seconds_bucket{shard=\"1\",le=\"+Inf\"} 4\n"
                         "test_latency_seconds_sum{shard=\"1\"} 7.5215\n"
                         "test_latency_seconds_count{shard=\"1\"} 4\n") != NULL);
    /* The runtime registered its own metrics. */
    TEST_CHECK(strstr(t, "# TYPE nextdb_loop_turns_total counter\n") != NULL);
    TEST_CHECK(strstr(t, "# TYPE nextdb_fibers gauge\n") != NULL);
    TEST_CHECK(strstr(t, "# TYPE nextdb_ring_messages_total counter\n") != NULL);
    TEST_CHECK(strstr(t, "# TYPE nextdb_ring_full_total counter\n") != NULL);
    if (test__failed_checks)
        fputs(t, stderr);
    strbuf_free(&sb);
}

TEST(labeled_family)
{
    int a = metrics_register_labeled("test_ends_total", "Ends by reason.", METRIC_COUNTER, "reason", "commit");
    int b = metrics_register_labeled("test_ends_total", "ignored", METRIC_COUNTER, "reason", "error");
    TEST_CHECK(a >= 0 && b == a + 1);
    TEST_CHECK(metrics_register_labeled("test_ends_total", "x", METRIC_COUNTER, "reason", "error") == -1);
    TEST_CHECK(metrics_register_labeled("test_ends_total", "x", METRIC_GAUGE, "reason", "other") == -1);
    TEST_CHECK(metrics_register_labeled("test_ends_total", "x", METRIC_COUNTER, "kind", "other") == -1);
    TEST_CHECK(metrics_register_labeled("test_odd_total", "x", METRIC_COUNTER, "reason", "a\"b") == -1);
    TEST_CHECK(metrics_register_labeled("test_odd_total", "x", METRIC_COUNTER, "shard", "1") == -1);
    TEST_CHECK(metrics_register("test_ends_total", "x", METRIC_COUNTER, NULL, 0) == -1);
    strbuf_t sb;
    strbuf_init(&sb);
    metrics_render(&sb);
    TEST_REQUIRE(!sb.oom && sb.data != NULL);
    TEST_CHECK(strstr(sb.data, "# HELP test_ends_total Ends by reason.\n"
                               "# TYPE test_ends_total counter\n"
                               "test_ends_total{reason=\"commit\",shard=\"0\"} 0\n"
                               "test_ends_total{reason=\"commit\",shard=\"1\"} 0\n"
                               "test_ends_total{reason=\"error\",shard=\"0\"} 0\n"
                               "test_ends_total{reason=\"error\",shard=\"1\"} 0\n") != NULL);
    if (test__failed_checks)
        fputs(sb.data, stderr);
    strbuf_free(&sb);
}

TEST_MAIN()
