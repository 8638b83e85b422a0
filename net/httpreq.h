/*
 * httpreq.h -- HTTP/1.1 request-head parsing (RFC 9112) over a byte buffer.
 *
 * Why: the HTTP endpoint must bound and validate what it reads before acting on it;
 * keeping the parser free of I/O makes every malformed-input case testable.
 *
 * Model: httpreq_parse looks at the bytes received so far. It returns 0 while the head
 * (request line + header lines + empty line) is incomplete, the head's length once
 * complete, or a negative HTTP status for a bad request: -400 malformed, -431 head
 * larger than LIMIT_HTTP_HEADER_BYTES or more than LIMIT_HTTP_HEADERS lines, -505
 * version other than HTTP/1.0 or 1.1. Bare LF line ends are tolerated. The body is
 * the caller's: Content-Length only (a Transfer-Encoding header is reported in
 * `chunked`; the caller answers 501).
 *
 * Interface:
 *   httpreq_parse        head -> httpreq_t (pointers into the buffer)
 *   httpreq_path_is      compares the path part of the target (before '?')
 *   httpreq_reason       reason phrase of a status code
 *
 * Thread: any; pure functions.
 */
#ifndef NEXTDB_HTTPREQ_H
#define NEXTDB_HTTPREQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct httpreq {
    const char *method;      /* not NUL-terminated */
    size_t method_len;
    const char *target;
    size_t target_len;
    size_t path_len;         /* target up to '?' */
    int version_minor;       /* 0 or 1 */
    int64_t content_length;  /* -1 when absent */
    bool chunked;            /* Transfer-Encoding present */
    bool keep_alive;         /* after this request */
    bool expect_continue;    /* Expect: 100-continue */
} httpreq_t;

int httpreq_parse(const char *buf, size_t len, httpreq_t *out);
bool httpreq_method_is(const httpreq_t *r, const char *method);
bool httpreq_path_is(const httpreq_t *r, const char *path);
const char *httpreq_reason(int status);
#endif
