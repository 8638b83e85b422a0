/*
 * http.h -- the HTTP/1.1 endpoint: JSON queries, Prometheus metrics, health.
 *
 * Why: scripts, dashboards and AI tooling want to run SQL without a PostgreSQL
 * driver, and Prometheus scrapes over HTTP.
 *
 * Model: one fiber per connection on the accepting shard, keep-alive, requests
 * handled in order (pipelined requests too). Routes:
 *   POST /query   {"sql": "...", "params": [scalars]} -> sql_exec_params on a
 *                 per-connection session (user "http", database "nextdb"), answered
 *                 {"columns":[{"name","type"}],"rows":[[...]],"command":"SELECT 1"};
 *                 ints and floats as JSON numbers (NaN/Infinity as strings), bools as
 *                 true/false, everything else as strings in PostgreSQL text form;
 *                 SQL errors -> 400 {"error":{"sqlstate","message","detail",...}};
 *                 bad JSON -> 400 with 22P02, a body of the wrong shape -> 400 08P01.
 *   GET /metrics  metrics_render, text/plain; version=0.0.4
 *   GET /health   {"status":"ok","shards":N}
 *   otherwise     404 / 405 with a JSON error.
 * Bodies: Content-Length only; Transfer-Encoding -> 501; heads over
 * LIMIT_HTTP_HEADER_BYTES -> 431; bodies over LIMIT_HTTP_BODY_BYTES -> 413;
 * "Expect: 100-continue" is answered before the body is read.
 *
 * Interface:
 *   http_serve   fiber body for an accepted socket (arg = fd cast to a pointer)
 *
 * Limits: LIMIT_HTTP_* in core/limits.h; a /query response is capped at
 * LIMIT_HTTP_RESPONSE_BYTES (54000 error beyond).
 *
 * Thread: the accepting shard, inside the connection's own fiber.
 */
#ifndef NEXTDB_HTTP_H
#define NEXTDB_HTTP_H
void http_serve(void *arg);
#endif
