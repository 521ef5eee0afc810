/* The corpus memory's index (core/memory.py): a style's training text as the Burrows-Wheeler
 * transform of its reverse, searched backwards one written character at a time.
 *
 * bwt (n1 bytes, the sentinel 0 once) is the BWT of reverse(text) + sentinel. For a context s
 * (the last k characters written, newest last), the suffixes of reverse(text) that begin with
 * reverse(s) form one interval [lo, hi) of the suffix array, and the characters that followed s in
 * the text are bwt[lo:hi). Writing x turns the interval of s into that of s+x by one backward
 * step, lo' = C[x] + occ(x, lo), hi' = C[x] + occ(x, hi), where occ(x, i) counts x in bwt[0:i). So
 * every order's interval follows the text for two occ lookups a character, and the interval of
 * order k+1 after x comes from order k's before it.
 *
 * occ is sampled every BLOCK characters: occ[b * 128 + c] = count of c in bwt[0 : b * BLOCK); the
 * rest of a lookup counts inside one block. Only numpy arrays cross (ctypes releases the GIL while
 * this runs); nothing is allocated here. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ctypes finds these by name; MSVC exports nothing from a DLL unless told to. Plain C, no
 * intrinsics: it builds wherever a C compiler does (the loops are short and the compiler
 * vectorises the counting). */
#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

#define BLOCK 512
#define SYMBOLS 128
#define WIDE 1024 /* an interval wider than this is counted from the samples, not byte by byte */

EXPORT int mem_block(void) { return BLOCK; }

/* occ samples for bwt[0:n1): (n1 / BLOCK + 1) rows of SYMBOLS, and C[c] = symbols below c. */
EXPORT void mem_build(const uint8_t *bwt, int64_t n1, uint32_t *occ, int64_t *C) {
    uint32_t run[SYMBOLS];
    memset(run, 0, sizeof run);
    for (int64_t i = 0; i < n1; i++) {
        if (i % BLOCK == 0) memcpy(occ + (i / BLOCK) * SYMBOLS, run, sizeof run);
        run[bwt[i] & (SYMBOLS - 1)]++;
    }
    if (n1 % BLOCK == 0) memcpy(occ + (n1 / BLOCK) * SYMBOLS, run, sizeof run);
    int64_t below = 0;
    for (int c = 0; c < SYMBOLS; c++) { C[c] = below; below += run[c]; }
    C[SYMBOLS] = below;
}

static inline int64_t occ_of(const uint8_t *bwt, const uint32_t *occ, int c, int64_t i) {
    int64_t b = i / BLOCK, count = occ[b * SYMBOLS + c];
    const uint8_t *p = bwt + b * BLOCK;
    int64_t m = i - b * BLOCK;
    for (int64_t j = 0; j < m; j++) count += (p[j] == c);
    return count;
}

/* Each of R rows reads its character x[r] (-1: it waits): its D intervals (lo, hi of order k+1 at
 * column k, row-major) move one order up. An empty interval (lo == hi) stays empty. */
EXPORT void mem_advance(const uint8_t *bwt, int64_t n1, const uint32_t *occ, const int64_t *C, int R, int D,
                 int64_t *lo, int64_t *hi, const int32_t *x) {
    for (int r = 0; r < R; r++) {
        int c = x[r];
        if (c < 0) continue;
        int64_t *l = lo + (int64_t)r * D, *h = hi + (int64_t)r * D;
        c &= SYMBOLS - 1;
        for (int k = D - 1; k >= 1; k--) {
            if (l[k - 1] < h[k - 1]) {
                l[k] = C[c] + occ_of(bwt, occ, c, l[k - 1]);
                h[k] = C[c] + occ_of(bwt, occ, c, h[k - 1]);
            } else {
                l[k] = h[k] = 0;
            }
        }
        l[0] = C[c];
        h[0] = C[c + 1];
        (void)n1;
    }
}

static void histogram(const uint8_t *p, int64_t m, int32_t *out, int sign) {
    for (int64_t j = 0; j < m; j++) out[p[j] & (SYMBOLS - 1)] += sign;
}

/* What followed each of the first K orders' contexts: out (R, K, SYMBOLS) counts (the sentinel's
 * column 0 cleared). */
EXPORT void mem_counts(const uint8_t *bwt, const uint32_t *occ, int R, int D, int K, const int64_t *lo,
                const int64_t *hi, int32_t *out) {
    for (int r = 0; r < R; r++) {
        for (int k = 0; k < K; k++) {
            int32_t *o = out + ((int64_t)r * K + k) * SYMBOLS;
            int64_t l = lo[(int64_t)r * D + k], h = hi[(int64_t)r * D + k];
            memset(o, 0, SYMBOLS * sizeof(int32_t));
            if (h - l <= WIDE) {
                histogram(bwt + l, h - l, o, 1);
            } else {
                int64_t bl = l / BLOCK, bh = h / BLOCK;
                for (int c = 0; c < SYMBOLS; c++)
                    o[c] = (int32_t)(occ[bh * SYMBOLS + c] - occ[bl * SYMBOLS + c]);
                histogram(bwt + bh * BLOCK, h - bh * BLOCK, o, 1);
                histogram(bwt + bl * BLOCK, l - bl * BLOCK, o, -1);
            }
            o[0] = 0;
        }
    }
}

/* A module with no methods: Python finds the file with importlib, ctypes calls the functions. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_memory_kernel", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__memory_kernel(void) { return PyModule_Create(&module); }
