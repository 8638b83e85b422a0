/*
 * numeric.c -- the arithmetic core of the numeric type; see numeric.h for the model.
 *
 * Working values are decimal digit arrays: simple, exact, and fast enough for the
 * sizes SQL values have (schoolbook multiplication and long division, quadratic in
 * the digit count, bounded by NUMERIC_MAX_INT_DIGITS + NUMERIC_MAX_SCALE).
 */
#include "sql/numeric.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/assert.h"

#define NUM_SIGN_POS  0x0000
#define NUM_SIGN_NEG  0x4000
#define NUM_SIGN_NAN  0xC000
#define NUM_SIGN_PINF 0xD000
#define NUM_SIGN_NINF 0xF000

static int oom(sql_error_t *err) { return sql_error(err, SQLSTATE_OUT_OF_MEMORY, "out of memory"); }

static int overflow(sql_error_t *err)
{
    return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "value overflows numeric format");
}

static uint16_t rd16(const char *p)
{
    return (uint16_t)(((uint8_t)p[0] << 8) | (uint8_t)p[1]);
}

static void wr16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)(v & 0xff);
}

/* ---- working form ---- */

static bool num_alloc(num_t *x, int n, arena_t *a)
{
    x->d = arena_alloc(a, (size_t)(n > 0 ? n : 1));
    if (!x->d)
        return false;
    memset(x->d, 0, (size_t)(n > 0 ? n : 1));
    x->n = n;
    return true;
}

static void num_norm(num_t *x)
{
    while (x->n > 0 && x->d[x->n - 1] == 0)
        x->n--;
    if (x->n == 0)
        x->neg = false;
}

/* Digit of x at position j of a value with scale S (exponent j - S). */
static inline int dig_at(const num_t *x, int j, int S)
{
    int i = j - S + x->scale;
    return i >= 0 && i < x->n ? x->d[i] : 0;
}

static bool is_zero(const num_t *x) { return x->kind == NUM_FINITE && x->n == 0; }

/* Compares |x| and |y|. */
static int mag_cmp(const num_t *x, const num_t *y)
{
    int ix = x->n - x->scale, iy = y->n - y->scale;     /* integer digit counts */
    if (x->n && y->n && ix != iy)
        return ix < iy ? -1 : 1;
    if (!x->n || !y->n)
        return (x->n > 0) - (y->n > 0);
    int S = x->scale > y->scale ? x->scale : y->scale;
    int top = ix + S;
    for (int j = top - 1; j >= 0; j--) {
        int a = dig_at(x, j, S), b = dig_at(y, j, S);
        if (a != b)
            return a < b ? -1 : 1;
    }
    return 0;
}

static int int_digits(const num_t *x) { return x->n - x->scale; }

/* r = |x| + |y| (sub = false) or |x| - |y| (sub = true, |x| >= |y|), sign unset. */
static bool mag_addsub(const num_t *x, const num_t *y, bool sub, arena_t *a, num_t *r)
{
    int S = x->scale > y->scale ? x->scale : y->scale;
    int ix = int_digits(x), iy = int_digits(y);
    int top = (ix > iy ? ix : iy);
    if (top < 0)
        top = 0;
    int len = top + S + 1;
    r->kind = NUM_FINITE;
    r->scale = S;
    r->neg = false;
    if (!num_alloc(r, len, a))
        return false;
    int carry = 0;
    for (int j = 0; j < len; j++) {
        int v = dig_at(x, j, S) + (sub ? -(dig_at(y, j, S) + carry) : dig_at(y, j, S) + carry);
        carry = 0;
        if (sub && v < 0) { v += 10; carry = 1; }
        else if (!sub && v >= 10) { v -= 10; carry = 1; }
        r->d[j] = (uint8_t)v;
    }
    num_norm(r);
    return true;
}

/* r = x + y (neg_y flips y's sign, for subtraction); finite values. */
static bool num_add(const num_t *x, const num_t *y, bool neg_y, arena_t *a, num_t *r)
{
    bool yneg = y->neg != neg_y && y->n > 0;
    if (x->neg == yneg) {
        if (!mag_addsub(x, y, false, a, r))
            return false;
        r->neg = x->neg && r->n > 0;
        return true;
    }
    int c = mag_cmp(x, y);
    if (!mag_addsub(c >= 0 ? x : y, c >= 0 ? y : x, true, a, r))
        return false;
    r->neg = (c >= 0 ? x->neg : yneg) && r->n > 0;
    return true;
}

static bool num_mul(const num_t *x, const num_t *y, arena_t *a, num_t *r)
{
    r->kind = NUM_FINITE;
    r->scale = x->scale + y->scale;
    int len = x->n + y->n;
    if (!num_alloc(r, len, a))
        return false;
    uint32_t *acc = arena_alloc(a, (size_t)(len + 1) * sizeof *acc);
    if (!acc)
        return false;
    memset(acc, 0, (size_t)(len + 1) * sizeof *acc);
    for (int i = 0; i < x->n; i++) {
        if (!x->d[i])
            continue;
        for (int j = 0; j < y->n; j++)
            acc[i + j] += (uint32_t)x->d[i] * y->d[j];
        if ((i & 1023) == 1023) {         /* keep columns far from overflow */
            uint32_t c = 0;
            for (int k = 0; k < len; k++) {
                uint32_t v = acc[k] + c;
                acc[k] = v % 10;
                c = v / 10;
            }
        }
    }
    uint32_t c = 0;
    for (int k = 0; k < len; k++) {
        uint32_t v = acc[k] + c;
        r->d[k] = (uint8_t)(v % 10);
        c = v / 10;
    }
    ASSERT(c == 0);
    r->neg = x->neg != y->neg;
    num_norm(r);
    return true;
}

/* Integer long division of digit arrays: q = floor(N / B), N and B little-endian
 * of nn and nb digits (B nonzero, no high zeros). q has nn digits. */
static bool int_div(const uint8_t *N, int nn, const uint8_t *B, int nb, arena_t *a, uint8_t *q)
{
    uint8_t *R = arena_alloc(a, (size_t)nb + 2);
    if (!R)
        return false;
    int rn = 0;      /* R has rn digits, little-endian, no high zeros */
    for (int i = nn - 1; i >= 0; i--) {
        /* R = R * 10 + N[i] */
        memmove(R + 1, R, (size_t)rn);
        R[0] = N[i];
        rn++;
        while (rn > 0 && R[rn - 1] == 0)
            rn--;
        int qd = 0;
        for (;;) {
            /* compare R with B */
            int c = rn != nb ? (rn < nb ? -1 : 1) : 0;
            for (int k = nb - 1; c == 0 && k >= 0; k--)
                if (R[k] != B[k])
                    c = R[k] < B[k] ? -1 : 1;
            if (c < 0)
                break;
            int borrow = 0;
            for (int k = 0; k < rn; k++) {
                int v = R[k] - (k < nb ? B[k] : 0) - borrow;
                borrow = v < 0;
                R[k] = (uint8_t)(v < 0 ? v + 10 : v);
            }
            while (rn > 0 && R[rn - 1] == 0)
                rn--;
            qd++;
        }
        q[i] = (uint8_t)qd;
    }
    return true;
}

/* r = trunc(|x| / |y| * 10^rs) as an integer with scale rs, sign unset; y nonzero.
 * With round, one more digit is computed and the result rounded half away. */
static bool mag_div(const num_t *x, const num_t *y, int rs, bool round, arena_t *a, num_t *r)
{
    int e = rs - x->scale + y->scale + (round ? 1 : 0);
    int shn = e > 0 ? e : 0, shb = e < 0 ? -e : 0;
    int nn = x->n + shn, nb = y->n + shb;
    uint8_t *N = arena_alloc(a, (size_t)nn + 1), *B = arena_alloc(a, (size_t)nb + 1);
    r->kind = NUM_FINITE;
    r->scale = rs;
    r->neg = false;
    if (!N || !B || !num_alloc(r, nn + 1, a))
        return false;
    memset(N, 0, (size_t)shn);
    memcpy(N + shn, x->d, (size_t)x->n);
    memset(B, 0, (size_t)shb);
    memcpy(B + shb, y->d, (size_t)y->n);
    if (nn > 0 && !int_div(N, nn, B, nb, a, r->d))
        return false;
    r->n = nn + 1;                    /* r->d[nn] is 0: room for a carry */
    if (round && nn > 0) {
        int last = r->d[0];
        memmove(r->d, r->d + 1, (size_t)nn);
        r->d[nn] = 0;
        if (last >= 5) {
            for (int k = 0; k <= nn; k++) {
                if (r->d[k] < 9) { r->d[k]++; break; }
                r->d[k] = 0;
            }
        }
    }
    num_norm(r);
    return true;
}

/* Base-10000 weight and first digit of a finite value (0, 0 for zero). */
static void b10k_lead(const num_t *x, int *weight, int *first)
{
    if (!x->n) { *weight = 0; *first = 0; return; }
    int e = x->n - 1 - x->scale;              /* exponent of the leading digit */
    int w = e >= 0 ? e / 4 : -((-e + 3) / 4);
    int v = 0;
    for (int p = 3; p >= 0; p--)
        v = v * 10 + dig_at(x, 4 * w + p + x->scale, x->scale);
    *weight = w;
    *first = v;
}

/* PostgreSQL's select_div_scale. */
static int div_scale(const num_t *x, const num_t *y)
{
    int w1, f1, w2, f2;
    b10k_lead(x, &w1, &f1);
    b10k_lead(y, &w2, &f2);
    int qweight = w1 - w2;
    if (f1 <= f2)
        qweight--;
    int rs = NUMERIC_MIN_SIG_DIGITS - qweight * 4;
    if (rs < x->scale) rs = x->scale;
    if (rs < y->scale) rs = y->scale;
    if (rs < 0) rs = 0;
    if (rs > NUMERIC_MAX_DISPLAY_SCALE) rs = NUMERIC_MAX_DISPLAY_SCALE;
    return rs;
}

/* Rounds (or truncates) x to s digits after the point (s may be negative); the
 * result's scale is max(s, 0). */
static bool num_round(const num_t *x, int s, bool trunc, arena_t *a, num_t *r)
{
    *r = *x;
    if (x->kind != NUM_FINITE)
        return true;
    if (s >= x->scale) {
        int sh = s - x->scale;
        if (!num_alloc(r, x->n + sh, a))
            return false;
        if (x->n)
            memcpy(r->d + sh, x->d, (size_t)x->n);
        else
            r->n = 0;
        r->scale = s;
        r->neg = x->neg;
        return true;
    }
    int drop = x->scale - s;           /* > 0 */
    int keep = x->n - drop;
    int rd = drop - 1 < x->n ? x->d[drop - 1] : 0;
    int len = (keep > 0 ? keep : 0) + 1;
    if (!num_alloc(r, len, a))
        return false;
    for (int k = 0; k < keep; k++)
        r->d[k] = x->d[k + drop];
    if (!trunc && rd >= 5) {
        for (int k = 0; k < len; k++) {
            if (r->d[k] < 9) { r->d[k]++; break; }
            r->d[k] = 0;
        }
    }
    r->scale = s;
    r->neg = x->neg;
    num_norm(r);
    if (s < 0) {                      /* back to scale 0: append -s zeros */
        num_t t = *r;
        if (!num_alloc(r, t.n ? t.n - s : 0, a))
            return false;
        if (t.n)
            memcpy(r->d - s, t.d, (size_t)t.n);
        r->scale = 0;
        r->neg = t.neg;
        num_norm(r);
    }
    return true;
}

/* ---- packing ---- */

int numeric_unpack(datum_t dt, arena_t *a, num_t *x)
{
    const vstr_t *v = dt.s;
    ASSERT(v && v->len >= 8);
    int nd = rd16(v->data), weight = (int16_t)rd16(v->data + 2);
    uint16_t sign = rd16(v->data + 4);
    int dscale = rd16(v->data + 6);
    memset(x, 0, sizeof *x);
    x->kind = sign == NUM_SIGN_NAN ? NUM_NAN : sign == NUM_SIGN_PINF ? NUM_PINF
            : sign == NUM_SIGN_NINF ? NUM_NINF : NUM_FINITE;
    x->scale = dscale;
    if (x->kind != NUM_FINITE || nd == 0) {
        x->scale = x->kind == NUM_FINITE ? dscale : 0;
        static uint8_t zero;
        x->d = &zero;
        return 0;
    }
    int n = 4 * weight + 4 + dscale;
    if (n < 0)
        n = 0;
    if (!num_alloc(x, n, a))
        return -1;
    for (int k = 0; k < nd; k++) {
        int g = rd16(v->data + 8 + 2 * k);
        int w = weight - k;
        for (int p = 0; p < 4; p++, g /= 10) {
            int i = 4 * w + p + dscale;
            if (i >= 0 && i < n)
                x->d[i] = (uint8_t)(g % 10);
        }
    }
    x->neg = sign == NUM_SIGN_NEG;
    num_norm(x);
    return 0;
}

static int pack_special(int kind, arena_t *a, datum_t *out, sql_error_t *err)
{
    vstr_t *v = arena_alloc(a, sizeof(vstr_t) + 8);
    if (!v)
        return oom(err);
    v->len = 8;
    memset(v->data, 0, 8);
    wr16(v->data + 4, kind == NUM_NAN ? NUM_SIGN_NAN : kind == NUM_PINF ? NUM_SIGN_PINF : NUM_SIGN_NINF);
    out->s = v;
    return 0;
}

int numeric_pack(const num_t *x, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (x->kind != NUM_FINITE)
        return pack_special(x->kind, a, out, err);
    if (int_digits(x) > NUMERIC_MAX_INT_DIGITS || x->scale > NUMERIC_MAX_SCALE)
        return overflow(err);
    int wlo = 0, whi = 0, nd = 0;
    if (x->n) {
        int elo = -x->scale, ehi = x->n - 1 - x->scale;
        wlo = elo >= 0 ? elo / 4 : -((-elo + 3) / 4);
        whi = ehi >= 0 ? ehi / 4 : -((-ehi + 3) / 4);
        nd = whi - wlo + 1;
    }
    vstr_t *v = arena_alloc(a, sizeof(vstr_t) + 8 + 2 * (size_t)nd);
    if (!v)
        return oom(err);
    int k0 = 0, kn = nd;
    int16_t *g = arena_alloc(a, sizeof(int16_t) * (size_t)(nd + 1));
    if (!g)
        return oom(err);
    for (int k = 0; k < nd; k++) {
        int w = whi - k, val = 0;
        for (int p = 3; p >= 0; p--)
            val = val * 10 + dig_at(x, 4 * w + p + x->scale, x->scale);
        g[k] = (int16_t)val;
    }
    while (k0 < kn && g[k0] == 0) k0++;
    while (kn > k0 && g[kn - 1] == 0) kn--;
    int weight = k0 < kn ? whi - k0 : 0;
    v->len = 8 + 2 * (uint32_t)(kn - k0);
    wr16(v->data, (uint16_t)(kn - k0));
    wr16(v->data + 2, (uint16_t)(int16_t)weight);
    wr16(v->data + 4, x->neg ? NUM_SIGN_NEG : NUM_SIGN_POS);
    wr16(v->data + 6, (uint16_t)x->scale);
    for (int k = k0; k < kn; k++)
        wr16(v->data + 8 + 2 * (k - k0), (uint16_t)g[k]);
    out->s = v;
    return 0;
}

/* ---- text ---- */

static int bad_input(const char *s, size_t len, sql_error_t *err)
{
    return sql_error(err, SQLSTATE_INVALID_TEXT_REP, "invalid input syntax for type numeric: \"%.*s\"",
                     (int)(len > 256 ? 256 : len), s);
}

static bool word_is(const char *p, size_t n, const char *w)
{
    return n == strlen(w) && strncasecmp(p, w, n) == 0;
}

int numeric_in(const char *s, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    size_t i = 0, e = len;
    while (i < e && isspace((unsigned char)s[i])) i++;
    while (e > i && isspace((unsigned char)s[e - 1])) e--;
    const char *p = s + i;
    size_t n = e - i;
    if (word_is(p, n, "NaN"))
        return pack_special(NUM_NAN, a, out, err);
    if (word_is(p, n, "Infinity") || word_is(p, n, "+Infinity") || word_is(p, n, "inf") || word_is(p, n, "+inf"))
        return pack_special(NUM_PINF, a, out, err);
    if (word_is(p, n, "-Infinity") || word_is(p, n, "-inf"))
        return pack_special(NUM_NINF, a, out, err);
    size_t k = 0;
    bool neg = false;
    if (k < n && (p[k] == '+' || p[k] == '-'))
        neg = p[k++] == '-';
    size_t ndig = 0, nfrac = 0;
    bool dot = false;
    size_t dstart = k;
    for (; k < n; k++) {
        if (isdigit((unsigned char)p[k])) {
            ndig++;
            if (dot) nfrac++;
        } else if (p[k] == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    size_t dend = k;
    if (ndig == 0)
        return bad_input(s, len, err);
    long exp10 = 0;
    if (k < n && (p[k] == 'e' || p[k] == 'E')) {
        k++;
        bool eneg = false;
        if (k < n && (p[k] == '+' || p[k] == '-'))
            eneg = p[k++] == '-';
        if (k >= n || !isdigit((unsigned char)p[k]))
            return bad_input(s, len, err);
        for (; k < n && isdigit((unsigned char)p[k]); k++) {
            exp10 = exp10 * 10 + (p[k] - '0');
            if (exp10 > 10 * (NUMERIC_MAX_INT_DIGITS + NUMERIC_MAX_SCALE))
                return overflow(err);        /* beyond any representable value */
        }
        if (eneg) exp10 = -exp10;
    }
    if (k != n)
        return bad_input(s, len, err);
    if (ndig > (size_t)(NUMERIC_MAX_INT_DIGITS + NUMERIC_MAX_SCALE + 2 * NUMERIC_MAX_PRECISION))
        return overflow(err);
    num_t x = {0};
    long scale = (long)nfrac - exp10;
    if ((long)ndig - scale > NUMERIC_MAX_INT_DIGITS + (long)ndig || scale > NUMERIC_MAX_SCALE)
        return overflow(err);                /* checked exactly once packed */
    long sh = scale < 0 ? -scale : 0;
    if (!num_alloc(&x, (int)(ndig + (size_t)sh), a))
        return oom(err);
    int at = (int)sh;
    for (size_t q = dend; q-- > dstart;)
        if (p[q] != '.')
            x.d[at++] = (uint8_t)(p[q] - '0');
    x.scale = scale < 0 ? 0 : (int)scale;
    x.neg = neg;
    num_norm(&x);
    return numeric_pack(&x, a, out, err);
}

void numeric_out(datum_t dt, strbuf_t *out)
{
    const vstr_t *v = dt.s;
    uint16_t sign = rd16(v->data + 4);
    if (sign == NUM_SIGN_NAN) { strbuf_puts(out, "NaN"); return; }
    if (sign == NUM_SIGN_PINF) { strbuf_puts(out, "Infinity"); return; }
    if (sign == NUM_SIGN_NINF) { strbuf_puts(out, "-Infinity"); return; }
    int nd = rd16(v->data), weight = (int16_t)rd16(v->data + 2), dscale = rd16(v->data + 6);
    if (sign == NUM_SIGN_NEG && nd > 0)
        strbuf_putc(out, '-');
    /* integer part: groups of weight >= 0 */
    if (nd == 0 || weight < 0) {
        strbuf_putc(out, '0');
    } else {
        for (int w = weight; w >= 0; w--) {
            int k = weight - w;
            int g = k < nd ? rd16(v->data + 8 + 2 * k) : 0;
            if (w == weight) strbuf_printf(out, "%d", g);
            else strbuf_printf(out, "%04d", g);
        }
    }
    if (dscale <= 0)
        return;
    strbuf_putc(out, '.');
    for (int j = 1; j <= dscale; j++) {
        int w = -((j + 3) / 4);               /* group holding 10^-j */
        int k = weight - w;
        int g = nd > 0 && k >= 0 && k < nd ? rd16(v->data + 8 + 2 * k) : 0;
        int pos = (j - 1) % 4;                /* 0 = highest digit of the group */
        static const int div[4] = {1000, 100, 10, 1};
        strbuf_putc(out, (char)('0' + g / div[pos] % 10));
    }
}

/* ---- binary ---- */

int numeric_recv(const uint8_t *p, size_t len, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (len < 8)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "insufficient data left in message");
    const char *c = (const char *)p;
    int nd = rd16(c), weight = (int16_t)rd16(c + 2);
    uint16_t sign = rd16(c + 4), dscale = rd16(c + 6);
    (void)weight;
    if (len != 8 + 2 * (size_t)nd)
        return sql_error(err, SQLSTATE_PROTOCOL_VIOLATION, "insufficient data left in message");
    if (sign != NUM_SIGN_POS && sign != NUM_SIGN_NEG && sign != NUM_SIGN_NAN && sign != NUM_SIGN_PINF &&
        sign != NUM_SIGN_NINF)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER /* 22P03 in PG */, "invalid sign in external \"numeric\" value");
    if (dscale & 0xC000)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid scale in external \"numeric\" value");
    for (int k = 0; k < nd; k++)
        if (rd16(c + 8 + 2 * k) >= 10000)
            return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid digit in external \"numeric\" value");
    if (sign == NUM_SIGN_NAN || sign == NUM_SIGN_PINF || sign == NUM_SIGN_NINF)
        return pack_special(sign == NUM_SIGN_NAN ? NUM_NAN : sign == NUM_SIGN_PINF ? NUM_PINF : NUM_NINF, a, out,
                            err);
    if (dscale > NUMERIC_MAX_SCALE || (nd > 0 && (weight + 1) * 4 > NUMERIC_MAX_INT_DIGITS + 4))
        return overflow(err);
    vstr_t *tmp = arena_alloc(a, sizeof(vstr_t) + len);
    if (!tmp)
        return oom(err);
    tmp->len = (uint32_t)len;
    memcpy(tmp->data, p, len);
    num_t x;
    if (numeric_unpack((datum_t){.s = tmp}, a, &x) < 0)    /* truncates digits below dscale */
        return oom(err);
    return numeric_pack(&x, a, out, err);
}

void numeric_send(datum_t d, strbuf_t *out) { strbuf_append(out, d.s->data, d.s->len); }

/* ---- typmod ---- */

int numeric_typmod(int nmods, const int *mods, int32_t *typmod, sql_error_t *err)
{
    if (nmods < 1 || nmods > 2)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "invalid NUMERIC type modifier");
    int p = mods[0], s = nmods == 2 ? mods[1] : 0;
    if (p < 1 || p > NUMERIC_MAX_PRECISION)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "NUMERIC precision %d must be between 1 and %d", p,
                         NUMERIC_MAX_PRECISION);
    if (s < NUMERIC_MIN_TYPMOD_SCALE || s > NUMERIC_MAX_TYPMOD_SCALE)
        return sql_error(err, SQLSTATE_INVALID_PARAMETER, "NUMERIC scale %d must be between %d and %d", s,
                         NUMERIC_MIN_TYPMOD_SCALE, NUMERIC_MAX_TYPMOD_SCALE);
    *typmod = (int32_t)(((uint32_t)p << 16) | ((uint32_t)s & 0x7ff)) + 4;
    return 0;
}

static void typmod_ps(int32_t typmod, int *p, int *s)
{
    int32_t t = typmod - 4;
    *p = (t >> 16) & 0xffff;
    *s = (int)(((t & 0x7ff) ^ 1024) - 1024);
}

void numeric_typmod_format(int32_t typmod, strbuf_t *out)
{
    int p, s;
    typmod_ps(typmod, &p, &s);
    strbuf_printf(out, "numeric(%d,%d)", p, s);
}

int numeric_apply_typmod(datum_t in, int32_t typmod, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (typmod < 4) { *out = in; return 0; }
    int p, s;
    typmod_ps(typmod, &p, &s);
    num_t x, r;
    if (numeric_unpack(in, a, &x) < 0)
        return oom(err);
    if (x.kind == NUM_NAN) { *out = in; return 0; }
    if (x.kind != NUM_FINITE) {
        sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "numeric field overflow");
        sql_error_detail(err, "A field with precision %d, scale %d cannot hold an infinite value.", p, s);
        return -1;
    }
    if (!num_round(&x, s, false, a, &r))
        return oom(err);
    int maxdigits = p - s;
    if (r.n > 0 && int_digits(&r) > maxdigits) {
        sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "numeric field overflow");
        sql_error_detail(err, "A field with precision %d, scale %d must round to an absolute value less than %s%d.",
                         p, s, maxdigits ? "10^" : "", maxdigits ? maxdigits : 1);
        return -1;
    }
    return numeric_pack(&r, a, out, err);
}

/* ---- comparison and hashing ---- */

static int kind_rank(uint16_t sign)
{
    return sign == NUM_SIGN_NAN ? 3 : sign == NUM_SIGN_PINF ? 2 : sign == NUM_SIGN_NINF ? -2 : 0;
}

int numeric_cmp(datum_t da, datum_t db)
{
    const char *x = da.s->data, *y = db.s->data;
    uint16_t sx = rd16(x + 4), sy = rd16(y + 4);
    int kx = kind_rank(sx), ky = kind_rank(sy);
    if (kx || ky)
        return kx < ky ? -1 : kx > ky;
    int nx = rd16(x), ny = rd16(y);
    int sgx = nx == 0 ? 0 : sx == NUM_SIGN_NEG ? -1 : 1, sgy = ny == 0 ? 0 : sy == NUM_SIGN_NEG ? -1 : 1;
    if (sgx != sgy)
        return sgx < sgy ? -1 : 1;
    if (sgx == 0)
        return 0;
    int wx = (int16_t)rd16(x + 2), wy = (int16_t)rd16(y + 2);
    int c = 0;
    if (wx != wy) {
        c = wx < wy ? -1 : 1;
    } else {
        int m = nx < ny ? nx : ny;
        for (int k = 0; k < m && !c; k++) {
            int gx = rd16(x + 8 + 2 * k), gy = rd16(y + 8 + 2 * k);
            if (gx != gy) c = gx < gy ? -1 : 1;
        }
        if (!c && nx != ny)
            c = nx < ny ? -1 : 1;
    }
    return sgx < 0 ? -c : c;
}

uint64_t numeric_hash(datum_t d)
{
    /* FNV-1a over everything but dscale: normalized values that are equal hash equal */
    const uint8_t *p = (const uint8_t *)d.s->data;
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < d.s->len; i++) {
        if (i == 6 || i == 7)
            continue;
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* ---- arithmetic ---- */

static int unpack2(datum_t a, datum_t b, arena_t *ar, num_t *x, num_t *y, sql_error_t *err)
{
    if (numeric_unpack(a, ar, x) < 0 || numeric_unpack(b, ar, y) < 0)
        return oom(err);
    return 0;
}

static int ret_kind(int kind, arena_t *a, datum_t *out, sql_error_t *err) { return pack_special(kind, a, out, err); }

/* Special-value rules of PostgreSQL 15 for + - * / % (x or y special). */
static int arith_special(int op, const num_t *x, const num_t *y, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (x->kind == NUM_NAN || y->kind == NUM_NAN)
        return ret_kind(NUM_NAN, a, out, err);
    int sx = x->kind == NUM_PINF ? 1 : x->kind == NUM_NINF ? -1 : 0;   /* infinite signs */
    int sy = y->kind == NUM_PINF ? 1 : y->kind == NUM_NINF ? -1 : 0;
    int vx = x->kind != NUM_FINITE ? sx : is_zero(x) ? 0 : x->neg ? -1 : 1;
    int vy = y->kind != NUM_FINITE ? sy : is_zero(y) ? 0 : y->neg ? -1 : 1;
    switch (op) {
    case ARITH_ADD:
    case ARITH_SUB: {
        int ey = op == ARITH_SUB ? -sy : sy;
        if (sx && ey && sx != ey)
            return ret_kind(NUM_NAN, a, out, err);
        int r = sx ? sx : ey;
        return ret_kind(r > 0 ? NUM_PINF : NUM_NINF, a, out, err);
    }
    case ARITH_MUL:
        if (vx == 0 || vy == 0)
            return ret_kind(NUM_NAN, a, out, err);
        return ret_kind(vx * vy > 0 ? NUM_PINF : NUM_NINF, a, out, err);
    case ARITH_DIV:
        if (sx && sy)
            return ret_kind(NUM_NAN, a, out, err);
        if (sx) {
            if (vy == 0)
                return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
            return ret_kind(sx * vy > 0 ? NUM_PINF : NUM_NINF, a, out, err);
        }
        /* finite / infinity = 0 */
        return numeric_from_i64(0, a, out, err);
    default: /* MOD */
        if (sx)
            return ret_kind(NUM_NAN, a, out, err);
        if (vy == 0)
            return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
        *out = (datum_t){0};
        {
            num_t c = *x;     /* finite % infinity = the dividend */
            return numeric_pack(&c, a, out, err);
        }
    }
}

static bool num_mod(const num_t *x, const num_t *y, arena_t *a, num_t *r)
{
    num_t q, p;
    if (!mag_div(x, y, 0, false, a, &q))
        return false;
    q.neg = (x->neg != y->neg) && q.n > 0;
    if (!num_mul(&q, y, a, &p))
        return false;
    return num_add(x, &p, true, a, r);
}

int numeric_arith(int op, datum_t da, datum_t db, arena_t *a, datum_t *out, sql_error_t *err)
{
    num_t x, y, r;
    if (op == ARITH_NEG) {
        if (numeric_unpack(da, a, &x) < 0)
            return oom(err);
        if (x.kind == NUM_PINF || x.kind == NUM_NINF)
            return ret_kind(x.kind == NUM_PINF ? NUM_NINF : NUM_PINF, a, out, err);
        x.neg = !x.neg && x.n > 0;
        return numeric_pack(&x, a, out, err);
    }
    if (unpack2(da, db, a, &x, &y, err) < 0)
        return -1;
    if (x.kind != NUM_FINITE || y.kind != NUM_FINITE) {
        if ((op == ARITH_DIV || op == ARITH_MOD) && y.kind == NUM_FINITE && is_zero(&y) && x.kind != NUM_NAN)
            return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
        return arith_special(op, &x, &y, a, out, err);
    }
    bool ok = true;
    switch (op) {
    case ARITH_ADD: ok = num_add(&x, &y, false, a, &r); break;
    case ARITH_SUB: ok = num_add(&x, &y, true, a, &r); break;
    case ARITH_MUL: ok = num_mul(&x, &y, a, &r); break;
    case ARITH_DIV:
        if (is_zero(&y))
            return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
        ok = mag_div(&x, &y, div_scale(&x, &y), true, a, &r);
        r.neg = x.neg != y.neg && r.n > 0;
        break;
    case ARITH_MOD:
        if (is_zero(&y))
            return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
        ok = num_mod(&x, &y, a, &r);
        break;
    default:
        ASSERT(!"bad numeric op");
    }
    if (!ok)
        return oom(err);
    return numeric_pack(&r, a, out, err);
}

/* ---- conversions ---- */

int numeric_from_i128(__int128 v, arena_t *a, datum_t *out, sql_error_t *err)
{
    num_t x = {0};
    if (!num_alloc(&x, 40, a))
        return oom(err);
    x.neg = v < 0;
    unsigned __int128 u = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    int n = 0;
    while (u) {
        x.d[n++] = (uint8_t)(u % 10);
        u /= 10;
    }
    x.n = n;
    num_norm(&x);
    return numeric_pack(&x, a, out, err);
}

int numeric_from_i64(int64_t v, arena_t *a, datum_t *out, sql_error_t *err)
{
    return numeric_from_i128(v, a, out, err);
}

int numeric_from_f64(double v, bool is_float4, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (isnan(v))
        return pack_special(NUM_NAN, a, out, err);
    if (isinf(v))
        return pack_special(v > 0 ? NUM_PINF : NUM_NINF, a, out, err);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*g", is_float4 ? 6 : 15, v);
    return numeric_in(buf, (size_t)n, a, out, err);
}

int numeric_to_i128(datum_t d, __int128 *out)
{
    uint8_t buf[64];
    arena_t *none = NULL;
    (void)none;
    const char *c = d.s->data;
    int nd = rd16(c), weight = (int16_t)rd16(c + 2);
    uint16_t sign = rd16(c + 4);
    if (sign != NUM_SIGN_POS && sign != NUM_SIGN_NEG)
        return -1;
    if (nd > 0 && (weight >= 9 || nd - 1 > weight))
        return -1;                              /* too large or not integral */
    (void)buf;
    __int128 v = 0;
    for (int w = weight; nd > 0 && w >= 0; w--) {
        int k = weight - w;
        v = v * 10000 + (k < nd ? rd16(c + 8 + 2 * k) : 0);
    }
    *out = sign == NUM_SIGN_NEG ? -v : v;
    return 0;
}

int numeric_to_int(datum_t d, type_oid_t t, int64_t *out, sql_error_t *err)
{
    const char *c = d.s->data;
    uint16_t sign = rd16(c + 4);
    const char *tn = t == TYPE_INT2 ? "smallint" : t == TYPE_INT4 ? "integer" : "bigint";
    if (sign == NUM_SIGN_NAN)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot convert NaN to %s", tn);
    if (sign == NUM_SIGN_PINF || sign == NUM_SIGN_NINF)
        return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED, "cannot convert infinity to %s", tn);
    int nd = rd16(c), weight = (int16_t)rd16(c + 2);
    if (nd > 0 && weight >= 5)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "%s out of range", tn);
    /* integer part, then round half away using the first fractional digit */
    __int128 v = 0;
    for (int w = weight; nd > 0 && w >= 0; w--) {
        int k = weight - w;
        v = v * 10000 + (k < nd ? rd16(c + 8 + 2 * k) : 0);
    }
    int k = weight + 1;                  /* group of weight -1 */
    if (nd > 0 && k >= 0 && k < nd && rd16(c + 8 + 2 * k) >= 5000)
        v++;
    if (sign == NUM_SIGN_NEG)
        v = -v;
    int64_t lo = t == TYPE_INT2 ? INT16_MIN : t == TYPE_INT4 ? INT32_MIN : INT64_MIN;
    int64_t hi = t == TYPE_INT2 ? INT16_MAX : t == TYPE_INT4 ? INT32_MAX : INT64_MAX;
    if (v < lo || v > hi)
        return sql_error(err, SQLSTATE_NUMERIC_OUT_OF_RANGE, "%s out of range", tn);
    *out = (int64_t)v;
    return 0;
}

double numeric_to_f64(datum_t d)
{
    strbuf_t sb;
    strbuf_init(&sb);
    numeric_out(d, &sb);
    strbuf_putc(&sb, '\0');
    double v = strtod(sb.data, NULL);
    strbuf_free(&sb);
    return v;
}

/* ---- functions ---- */

/* Exact square root rounded to rs digits: isqrt(x * 10^(2 rs + 2)) then round the
 * extra digit, by Newton's iteration on integers. */
static bool num_sqrt(const num_t *x, int rs, arena_t *a, num_t *r)
{
    /* X = x's digits as an integer shifted so that X = x * 10^(2 rs + 2) */
    int e = 2 * (rs + 1) - x->scale;
    num_t X = {0};
    if (e >= 0) {
        if (!num_alloc(&X, x->n + e, a))
            return false;
        memcpy(X.d + e, x->d, (size_t)x->n);
    } else {
        num_t t;
        if (!num_round(x, 2 * (rs + 1), true, a, &t))
            return false;
        X = t;
    }
    X.scale = 0;
    X.neg = false;
    X.kind = NUM_FINITE;
    num_norm(&X);
    if (X.n == 0) {
        *r = X;
        r->scale = rs;
        return true;
    }
    /* initial guess from long double, then Newton: g = (g + X / g) / 2 until stable */
    num_t g = {0};
    int half = (X.n + 1) / 2;
    if (!num_alloc(&g, half + 1, a))
        return false;
    g.d[half] = 1;             /* 10^half >= sqrt(X) */
    g.kind = NUM_FINITE;
    num_norm(&g);
    num_t two = {0};
    uint8_t twod = 2;
    two.d = &twod;
    two.n = 1;
    for (int it = 0; it < 100000; it++) {
        num_t q, s, ng;
        if (!mag_div(&X, &g, 0, false, a, &q) || !mag_addsub(&g, &q, false, a, &s) ||
            !mag_div(&s, &two, 0, false, a, &ng))
            return false;
        if (mag_cmp(&ng, &g) >= 0)
            break;
        g = ng;
    }
    /* g = floor(sqrt(X)); now round away the extra digit */
    g.scale = rs + 1;
    return num_round(&g, rs, false, a, r);
}

int numeric_sqrt_at(datum_t d, int rs, arena_t *a, datum_t *out, sql_error_t *err)
{
    num_t x, r;
    if (numeric_unpack(d, a, &x) < 0)
        return oom(err);
    if (x.kind != NUM_FINITE || x.neg)
        return sql_error(err, SQLSTATE_INTERNAL_ERROR, "numeric_sqrt_at of a negative or special value");
    if (!num_sqrt(&x, rs, a, &r))
        return oom(err);
    return numeric_pack(&r, a, out, err);
}

static int sqrt_scale(const num_t *x)
{
    /* PostgreSQL: sweight = (weight + 1) * DEC_DIGITS / 2 - 1; rscale = 16 - sweight */
    int w, f;
    b10k_lead(x, &w, &f);
    int sweight = (w + 1) * 4 / 2 - 1;
    int rs = NUMERIC_MIN_SIG_DIGITS - sweight;
    if (rs < x->scale) rs = x->scale;
    if (rs < 0) rs = 0;
    if (rs > NUMERIC_MAX_DISPLAY_SCALE) rs = NUMERIC_MAX_DISPLAY_SCALE;
    return rs;
}

static int min_scale(const num_t *x)
{
    int k = 0;
    while (k < x->n && k < x->scale && x->d[k] == 0)
        k++;
    return x->n ? x->scale - k : 0;
}

/* x^n for an integer n, exactly (n >= 0) or as 1 / x^-n with PostgreSQL's scale. */
static int num_power_int(const num_t *x, int64_t n, arena_t *a, datum_t *out, sql_error_t *err)
{
    num_t r = {0}, base = *x;
    uint8_t one = 1;
    r.d = &one;
    r.n = 1;
    r.kind = NUM_FINITE;
    uint64_t m = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    while (m) {
        if (m & 1) {
            num_t t;
            if (!num_mul(&r, &base, a, &t))
                return oom(err);
            r = t;
            if (int_digits(&r) > NUMERIC_MAX_INT_DIGITS || r.scale > NUMERIC_MAX_SCALE)
                return overflow(err);
        }
        m >>= 1;
        if (m) {
            num_t t;
            if (!num_mul(&base, &base, a, &t))
                return oom(err);
            base = t;
            if (int_digits(&base) > NUMERIC_MAX_INT_DIGITS || base.scale > NUMERIC_MAX_SCALE)
                return overflow(err);
        }
    }
    /* PostgreSQL 15's power_var for integer exponents: at least 16 digits after the
     * point and the base's scale, rounded */
    int rs = x->scale > NUMERIC_MIN_SIG_DIGITS ? x->scale : NUMERIC_MIN_SIG_DIGITS;
    if (rs > NUMERIC_MAX_DISPLAY_SCALE)
        rs = NUMERIC_MAX_DISPLAY_SCALE;
    num_t q;
    if (n >= 0) {
        if (!num_round(&r, rs, false, a, &q))
            return oom(err);
        return numeric_pack(&q, a, out, err);
    }
    num_t o = {0};
    o.d = &one;
    o.n = 1;
    if (!mag_div(&o, &r, rs, true, a, &q))
        return oom(err);
    q.neg = r.neg && q.n > 0;
    return numeric_pack(&q, a, out, err);
}

int numeric_func(int fn, datum_t dx, datum_t db, int s, arena_t *a, datum_t *out, sql_error_t *err)
{
    num_t x, r;
    if (numeric_unpack(dx, a, &x) < 0)
        return oom(err);
    bool special = x.kind != NUM_FINITE;
    switch (fn) {
    case NUMFN_ABS:
        if (x.kind == NUM_NINF) return ret_kind(NUM_PINF, a, out, err);
        x.neg = false;
        return numeric_pack(&x, a, out, err);
    case NUMFN_SIGN:
        if (x.kind == NUM_NAN) return ret_kind(NUM_NAN, a, out, err);
        return numeric_from_i64(x.kind == NUM_PINF ? 1 : x.kind == NUM_NINF ? -1 : is_zero(&x) ? 0 : x.neg ? -1 : 1,
                                a, out, err);
    case NUMFN_ROUND:
    case NUMFN_TRUNC:
        if (special) { *out = dx; return 0; }
        if (s > NUMERIC_MAX_SCALE) s = NUMERIC_MAX_SCALE;
        if (s < -NUMERIC_MAX_INT_DIGITS - 1) s = -NUMERIC_MAX_INT_DIGITS - 1;
        if (!num_round(&x, s, fn == NUMFN_TRUNC, a, &r))
            return oom(err);
        return numeric_pack(&r, a, out, err);
    case NUMFN_CEIL:
    case NUMFN_FLOOR: {
        if (special) { *out = dx; return 0; }
        if (!num_round(&x, 0, true, a, &r))
            return oom(err);
        bool frac = mag_cmp(&r, &x) != 0;
        if (frac && ((fn == NUMFN_CEIL && !x.neg) || (fn == NUMFN_FLOOR && x.neg))) {
            num_t one = {0}, t;
            uint8_t od = 1;
            one.d = &od;
            one.n = 1;
            one.neg = x.neg;
            if (!num_add(&r, &one, false, a, &t))
                return oom(err);
            r = t;
        }
        return numeric_pack(&r, a, out, err);
    }
    case NUMFN_SCALE:
        out->i64 = special ? -1 : x.scale;
        return 0;
    case NUMFN_MIN_SCALE:
        out->i64 = special ? -1 : min_scale(&x);
        return 0;
    case NUMFN_TRIM_SCALE:
        if (special) { *out = dx; return 0; }
        if (!num_round(&x, min_scale(&x), true, a, &r))
            return oom(err);
        return numeric_pack(&r, a, out, err);
    case NUMFN_SQRT:
        if (x.kind == NUM_NAN || x.kind == NUM_PINF) { *out = dx; return 0; }
        if (x.kind == NUM_NINF || x.neg)
            return sql_error(err, "2201F", "cannot take square root of a negative number");
        if (!num_sqrt(&x, sqrt_scale(&x), a, &r))
            return oom(err);
        return numeric_pack(&r, a, out, err);
    case NUMFN_DIV: {
        num_t y;
        if (numeric_unpack(db, a, &y) < 0)
            return oom(err);
        if (y.kind == NUM_FINITE && is_zero(&y) && x.kind != NUM_NAN)
            return sql_error(err, SQLSTATE_DIVISION_BY_ZERO, "division by zero");
        if (special || y.kind != NUM_FINITE) {
            if (x.kind == NUM_NAN || y.kind == NUM_NAN || (special && y.kind != NUM_FINITE))
                return ret_kind(NUM_NAN, a, out, err);
            if (special)
                return ret_kind((x.kind == NUM_PINF) != y.neg ? NUM_PINF : NUM_NINF, a, out, err);
            return numeric_from_i64(0, a, out, err);
        }
        if (!mag_div(&x, &y, 0, false, a, &r))
            return oom(err);
        r.neg = x.neg != y.neg && r.n > 0;
        return numeric_pack(&r, a, out, err);
    }
    case NUMFN_POWER: {
        num_t y;
        if (numeric_unpack(db, a, &y) < 0)
            return oom(err);
        if (special || y.kind != NUM_FINITE)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "power of numeric infinity or NaN is not supported");
        num_t yi;
        if (!num_round(&y, 0, true, a, &yi))
            return oom(err);
        if (mag_cmp(&yi, &y) != 0 || int_digits(&yi) > 9)
            return sql_error(err, SQLSTATE_FEATURE_NOT_SUPPORTED,
                             "power(numeric, numeric) with a non-integer exponent is not supported");
        int64_t n = 0;
        for (int k = yi.n - 1; k >= 0; k--)
            n = n * 10 + yi.d[k];
        if (yi.neg) n = -n;
        if (is_zero(&x) && n < 0)
            return sql_error(err, "2201F", "zero raised to a negative power is undefined");
        return num_power_int(&x, n, a, out, err);
    }
    default:
        ASSERT(!"bad numeric function");
        return -1;
    }
}

/* ---- sum accumulator ---- */

static int64_t floordiv10(int64_t v) { return v >= 0 ? v / 10 : -((-v + 9) / 10); }

/* Makes room for mincap columns at scale >= newscale (shifting the columns up). */
static bool acc_grow(numeric_acc_t *acc, int mincap, int newscale, arena_t *a)
{
    int sh = newscale > acc->scale ? newscale - acc->scale : 0;
    if (acc->d && acc->cap >= mincap + sh + 24 && sh == 0)
        return true;
    int need = (mincap > acc->n ? mincap : acc->n) + sh + 24;
    int cap = need * 2 < 64 ? 64 : need * 2;
    int32_t *nd = arena_alloc(a, (size_t)cap * sizeof *nd);
    if (!nd)
        return false;
    memset(nd, 0, (size_t)cap * sizeof *nd);
    if (acc->n)
        memcpy(nd + sh, acc->d, (size_t)acc->n * sizeof *nd);
    acc->d = nd;
    acc->cap = cap;
    acc->n = acc->n ? acc->n + sh : 0;
    acc->scale += sh;
    return true;
}

/* Carries every column into 0..9; a negative total leaves -1 in a new top column.
 * Needs 24 spare columns (acc_grow keeps them). */
static void acc_carry(numeric_acc_t *acc)
{
    int64_t c = 0;
    for (int i = 0; i < acc->n; i++) {
        int64_t v = acc->d[i] + c, q = floordiv10(v);
        acc->d[i] = (int32_t)(v - q * 10);
        c = q;
    }
    while (c != 0) {
        ASSERT(acc->n < acc->cap);
        if (c == -1) {
            acc->d[acc->n++] = -1;
            break;
        }
        int64_t q = floordiv10(c);
        acc->d[acc->n++] = (int32_t)(c - q * 10);
        c = q;
    }
    acc->adds = 0;
}

int numeric_acc_add(numeric_acc_t *acc, datum_t v, arena_t *a, sql_error_t *err)
{
    num_t x;
    if (numeric_unpack(v, a, &x) < 0)
        return oom(err);
    if (x.kind != NUM_FINITE) {
        acc->nan |= x.kind == NUM_NAN;
        acc->pinf |= x.kind == NUM_PINF;
        acc->ninf |= x.kind == NUM_NINF;
        return 0;
    }
    int newscale = x.scale > acc->scale ? x.scale : acc->scale;
    int off = newscale - x.scale;
    if (!acc_grow(acc, x.n + off + 1, newscale, a))
        return oom(err);
    if (acc->scale < x.scale)
        acc->scale = x.scale;
    if (x.n + off > acc->n)
        acc->n = x.n + off;
    for (int i = 0; i < x.n; i++)
        acc->d[i + off] += x.neg ? -(int32_t)x.d[i] : (int32_t)x.d[i];
    if (++acc->adds >= (1 << 26)) {
        if (!acc_grow(acc, acc->n, acc->scale, a))
            return oom(err);
        acc_carry(acc);
    }
    return 0;
}

int numeric_acc_result(numeric_acc_t *acc, arena_t *a, datum_t *out, sql_error_t *err)
{
    if (acc->nan || (acc->pinf && acc->ninf))
        return pack_special(NUM_NAN, a, out, err);
    if (acc->pinf || acc->ninf)
        return pack_special(acc->pinf ? NUM_PINF : NUM_NINF, a, out, err);
    num_t x = {0};
    if (!acc->d) {
        x.d = (uint8_t *)"";
        return numeric_pack(&x, a, out, err);
    }
    if (!acc_grow(acc, acc->n, acc->scale, a))
        return oom(err);
    acc_carry(acc);
    bool neg = acc->n > 0 && acc->d[acc->n - 1] < 0;
    if (neg) {
        for (int i = 0; i < acc->n; i++)
            acc->d[i] = -acc->d[i];
        acc_carry(acc);
    }
    if (!num_alloc(&x, acc->n, a))
        return oom(err);
    for (int i = 0; i < acc->n; i++) {
        ASSERT(acc->d[i] >= 0 && acc->d[i] <= 9);
        x.d[i] = (uint8_t)acc->d[i];
    }
    x.scale = acc->scale;
    x.neg = neg;
    num_norm(&x);
    if (neg)                          /* keep accumulating with the true sign */
        for (int i = 0; i < acc->n; i++)
            acc->d[i] = -acc->d[i];
    return numeric_pack(&x, a, out, err);
}

int numeric_div_count(datum_t sum, int64_t count, arena_t *a, datum_t *out, sql_error_t *err)
{
    datum_t c;
    if (numeric_from_i64(count, a, &c, err) < 0)
        return -1;
    return numeric_arith(ARITH_DIV, sum, c, a, out, err);
}
