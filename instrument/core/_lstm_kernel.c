/* Batched LSTM step for an ensemble of same-shape char models: int8 or fp16 weights, fp32 math.
 *
 * Why C: at batch 1 each layer is a matrix-vector product, bound by how many weight bytes come in
 * from memory (measured here: ~13 GB/s from DRAM, ~30 GB/s from cache). fp16 weights (F16C converts
 * 8 per instruction) give numbers identical to the shipped fp16 files at half the bytes of fp32;
 * int8 with a scale per row and per input segment halves them again. One call steps every listed
 * model, whole models shared out over threads, with no allocation per step.
 *
 * Layouts, per group of G models with L layers of H units (row-major):
 *   wx0    (G, 128, H, 4)     fp16  layer-0 input weights; [m, x] is char x's column, gates i,f,g,o
 *   wrec   per layer l: (G, H, S_l, H/16, 4, 16), back to back: per unit, per input segment
 *          (S_0 = 1: W_hh; S_l = 2: W_ih then W_hh), the 4 gate rows interleaved by 16;
 *          fp16 (uint16) or int8
 *   scale  per layer l: (G, H, 4, S_l) fp32, S_0 = 1, S_l = 2 (W_ih part, W_hh part); int8 only
 *   bias   (L, G, H, 4)       fp32  b_ih + b_hh
 *   wo     (G, 128, H) fp16, bo (G, 128) fp32
 *   h, c   (G, L, H) fp32 state, updated in place; hnew (G, L, H) scratch
 *   logits (n_models, 128) fp32 out, for the listed models after the last character
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* ctypes finds these by name; MSVC exports nothing from a DLL unless told to. */
#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define MAX_THREADS 16

typedef struct {
    int G, L, H, n_models, n_chars, n_threads, int8;
    int rows; /* 0: one state per model, n_chars characters; R > 0: R states per model, one
                 character each (chars[r], -1 = row r does not step), see ens_rows */
    const int32_t *models, *chars;
    const uint16_t *wx0, *wo, *wot;
    const void *wrec, *wrow;
    const float *scale, *bias, *bo;
    float *h, *c, *hnew, *logits;
} job_t;

TARGET static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD_I8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))

/* out[q] = dot(gate q's row, v) for the 4 gate rows of one unit over n inputs. The rows are
 * interleaved in chunks of 16, [chunk][gate][16], so the weights stream in one sequential run
 * (the hardware prefetcher keeps up; four strided rows starved it). n is a multiple of 16. */
#define DEFINE_DOT4(NAME, T, LOAD)                                                                \
    TARGET static inline void NAME(const T *w, const float *v, int n, float out[4]) {           \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
        for (int k = 0; k < n; k += 16, w += 64) {                                                \
            __m256 x = _mm256_loadu_ps(v + k), y = _mm256_loadu_ps(v + k + 8);                   \
            a0 = _mm256_fmadd_ps(LOAD(w), x, a0);                                                 \
            b0 = _mm256_fmadd_ps(LOAD(w + 8), y, b0);                                             \
            a1 = _mm256_fmadd_ps(LOAD(w + 16), x, a1);                                            \
            b1 = _mm256_fmadd_ps(LOAD(w + 24), y, b1);                                            \
            a2 = _mm256_fmadd_ps(LOAD(w + 32), x, a2);                                            \
            b2 = _mm256_fmadd_ps(LOAD(w + 40), y, b2);                                            \
            a3 = _mm256_fmadd_ps(LOAD(w + 48), x, a3);                                            \
            b3 = _mm256_fmadd_ps(LOAD(w + 56), y, b3);                                            \
        }                                                                                         \
        out[0] = hsum(_mm256_add_ps(a0, b0));                                                     \
        out[1] = hsum(_mm256_add_ps(a1, b1));                                                     \
        out[2] = hsum(_mm256_add_ps(a2, b2));                                                     \
        out[3] = hsum(_mm256_add_ps(a3, b3));                                                     \
    }
DEFINE_DOT4(dot4_f16, uint16_t, LOAD_F16)
DEFINE_DOT4(dot4_i8, int8_t, LOAD_I8)

/* exp for 8 floats: Cephes-style range reduction and polynomial, ~1 ulp over the range used. */
TARGET static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

TARGET static inline __m256 sigmoid8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

TARGET static inline __m256 tanh8(__m256 x) { /* tanh x = 2 sigmoid(2x) - 1 */
    __m256 two = _mm256_set1_ps(2.0f);
    return _mm256_fmsub_ps(two, sigmoid8(_mm256_mul_ps(two, x)), _mm256_set1_ps(1.0f));
}

static size_t layer_offset(const job_t *j, int l) { /* weights before layer l's block */
    size_t G = j->G, H = j->H;
    return l == 0 ? 0 : G * H * 4 * H + (size_t)(l - 1) * G * H * 4 * 2 * H;
}

static size_t scale_offset(const job_t *j, int l) {
    size_t G = j->G, H = j->H;
    return l == 0 ? 0 : G * H * 4 + (size_t)(l - 1) * G * H * 4 * 2;
}

/* Pre-activations of the 4 gates of one unit. */
TARGET static void gates(const job_t *j, int l, int x, int m, int unit, float g[4]) {
    const int H = j->H, L = j->L;
    const size_t K = l == 0 ? H : 2 * (size_t)H;
    const size_t row = ((size_t)m * H + unit) * 4 * K;
    const float *own = j->h + ((size_t)m * L + l) * H;              /* this layer, previous step */
    const float *below = j->hnew + ((size_t)m * L + l - 1) * H;     /* layer below, this step */
    float a[4], b[4] = {0, 0, 0, 0};
    if (j->int8) {
        const int8_t *w = (const int8_t *)j->wrec + layer_offset(j, l) + row;
        const float *s = j->scale + scale_offset(j, l) + ((size_t)m * H + unit) * 4 * (l == 0 ? 1 : 2);
        if (l == 0) {
            dot4_i8(w, own, H, a);
            for (int q = 0; q < 4; q++) a[q] *= s[q];
        } else {
            dot4_i8(w, below, H, a);
            dot4_i8(w + 4 * (size_t)H, own, H, b);
            for (int q = 0; q < 4; q++) {
                a[q] = a[q] * s[2 * q] + b[q] * s[2 * q + 1];
                b[q] = 0.0f; /* folded into a */
            }
        }
    } else {
        const uint16_t *w = (const uint16_t *)j->wrec + layer_offset(j, l) + row;
        if (l == 0) {
            dot4_f16(w, own, H, a);
        } else {
            dot4_f16(w, below, H, a);
            dot4_f16(w + 4 * (size_t)H, own, H, b);
        }
    }
    const float *bias = j->bias + (((size_t)l * j->G + m) * H + unit) * 4;
    for (int q = 0; q < 4; q++) {
        g[q] = a[q] + b[q] + bias[q];
        if (l == 0) g[q] += _cvtsh_ss(j->wx0[(((size_t)m * 128 + x) * H + unit) * 4 + q]);
    }
}

/* One layer for units [u0, u1) of the flattened (listed model, unit) range, 8 units at a time:
 * the nonlinearities run on 8 lanes. u0, u1 and H are multiples of 8. */
TARGET static void layer(job_t *j, int l, int x, int u0, int u1) {
    const int H = j->H, L = j->L;
    for (int u = u0; u < u1; u += 8) {
        const int m = j->models[u / H], unit = u % H;
        float gi[8], gf[8], gg[8], go[8], g[4];
        for (int k = 0; k < 8; k++) {
            gates(j, l, x, m, unit + k, g);
            gi[k] = g[0]; gf[k] = g[1]; gg[k] = g[2]; go[k] = g[3];
        }
        float *c = j->c + ((size_t)m * L + l) * H + unit;
        __m256 cn = _mm256_fmadd_ps(sigmoid8(_mm256_loadu_ps(gf)), _mm256_loadu_ps(c),
                                    _mm256_mul_ps(sigmoid8(_mm256_loadu_ps(gi)), tanh8(_mm256_loadu_ps(gg))));
        _mm256_storeu_ps(c, cn);
        _mm256_storeu_ps(j->hnew + ((size_t)m * L + l) * H + unit,
                         _mm256_mul_ps(sigmoid8(_mm256_loadu_ps(go)), tanh8(cn)));
    }
}

TARGET static void head(job_t *j, int r0, int r1) {
    const int H = j->H, L = j->L;
    for (int r = r0; r < r1; r++) {
        const int i = r / 128, m = j->models[i], row = r % 128;
        const uint16_t *w = j->wo + ((size_t)m * 128 + row) * H;
        const float *v = j->hnew + ((size_t)m * L + L - 1) * H;
        __m256 acc = _mm256_setzero_ps();
        for (int k = 0; k < H; k += 8) acc = _mm256_fmadd_ps(LOAD_F16(w + k), _mm256_loadu_ps(v + k), acc);
        j->logits[(size_t)i * 128 + row] = hsum(acc) + j->bo[(size_t)m * 128 + row];
    }
}

static void commit(job_t *j, int u0, int u1) { /* hnew -> h, every layer, units [u0, u1) */
    const int H = j->H, L = j->L;
    for (int u = u0; u < u1; u += 8) {
        const int m = j->models[u / H], unit = u % H;
        for (int l = 0; l < L; l++) {
            size_t at = ((size_t)m * L + l) * H + unit;
            memcpy(j->h + at, j->hnew + at, 8 * sizeof(float));
        }
    }
}


/* --- Rows: R hidden states per model (the lookahead's candidate paths), one character each ----
 * A row is a (model, path) state in (G, R, L, H) arrays. Here a layer is a matrix product, the
 * weights (4H x K) times the rows' vectors (K x R), done as outer products: for each input k, 16
 * outputs' weights (converted once) times each row's v[k] (broadcast), into accumulators per row.
 * So a weight is read and converted once per step for a whole block of rows; the dot-product
 * layout of the single-row step would convert it again for every row, and the conversion costs
 * as much as the arithmetic. Blocks are 6 rows with AVX2 (12 of 16 registers accumulate) and 12
 * with AVX-512 where the CPU has it (measured on a Zen 4 core, weights streamed from memory:
 * 27 and 42 GMAC/s; 8 outputs by 12 rows with AVX2 gave 21, the broadcasts being the limit).
 * The weights come in another order for this:
 *   wrow  per layer l: (G, H/16, 4, K_l, 16), back to back, K_l = S_l * H (W_ih part first); the
 *         same int8 (or fp16) values as wrec, so both steps compute with the same weights
 *   wot   (G, 8, H, 16) fp16: the head, 16 logits at a time
 * The rows' input vectors are packed first, ROW_BLOCK floats per k: in place they sit 4 KB apart,
 * and a dozen of them share one set of the L1 cache and evict each other. */
#define MAX_ROWS 64
#define ROW_BLOCK 12
/* The weights stream from memory faster than the hardware prefetcher fetches them here (the
 * multiply-adds waited on the loads: 3.2 -> 1.7 ms for 8 models x 8 rows): ask this far ahead. */
#define PREFETCH 4096
#define TARGET512 __attribute__((target("avx512f,avx2,fma,f16c")))

#define ROW_AT(arr, m, r, l) ((arr) + ((((size_t)(m) * j->rows + (r)) * j->L + (l)) * j->H))

static int have_avx512;

/* out[i][0..16) = sum over k < n of W(k, 16 outputs) * v[k][i], NB rows; w advances 16 per k. */
#define DEFINE_OUTER2(NAME, T, LOAD, NB)                                                          \
    TARGET static void NAME(const T *w, const float *v, int n, float out[][16]) {                \
        __m256 a[NB], b[NB];                                                                      \
        for (int i = 0; i < NB; i++) a[i] = b[i] = _mm256_setzero_ps();                           \
        for (int k = 0; k < n; k++, w += 16, v += ROW_BLOCK) {                                    \
            _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);                                \
            const __m256 w0 = LOAD(w), w1 = LOAD(w + 8);                                          \
            for (int i = 0; i < NB; i++) {                                                        \
                const __m256 x = _mm256_broadcast_ss(v + i);                                      \
                a[i] = _mm256_fmadd_ps(w0, x, a[i]);                                              \
                b[i] = _mm256_fmadd_ps(w1, x, b[i]);                                              \
            }                                                                                     \
        }                                                                                         \
        for (int i = 0; i < NB; i++) {                                                            \
            _mm256_storeu_ps(out[i], a[i]);                                                       \
            _mm256_storeu_ps(out[i] + 8, b[i]);                                                   \
        }                                                                                         \
    }
#define LOAD16_I8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
#define LOAD16_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define DEFINE_OUTER512(NAME, T, LOAD, NB)                                                        \
    TARGET512 static void NAME(const T *w, const float *v, int n, float out[][16]) {             \
        __m512 a[NB];                                                                             \
        for (int i = 0; i < NB; i++) a[i] = _mm512_setzero_ps();                                  \
        for (int k = 0; k < n; k++, w += 16, v += ROW_BLOCK) {                                    \
            _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);                                \
            const __m512 wk = LOAD(w);                                                            \
            for (int i = 0; i < NB; i++) a[i] = _mm512_fmadd_ps(wk, _mm512_set1_ps(v[i]), a[i]);  \
        }                                                                                         \
        for (int i = 0; i < NB; i++) _mm512_storeu_ps(out[i], a[i]);                              \
    }
/* Fewer accumulators than the FMA's latency times its throughput would wait, so a short block
 * runs as a longer one (the packed columns past it are zero). */
#define DEFINE_OUTERS(T, SUFFIX, LOAD8, LOAD16)                                                   \
    DEFINE_OUTER2(outer4_##SUFFIX, T, LOAD8, 4)                                                   \
    DEFINE_OUTER2(outer5_##SUFFIX, T, LOAD8, 5)                                                   \
    DEFINE_OUTER2(outer6_##SUFFIX, T, LOAD8, 6)                                                   \
    DEFINE_OUTER512(outerz8_##SUFFIX, T, LOAD16, 8)                                               \
    DEFINE_OUTER512(outerz12_##SUFFIX, T, LOAD16, 12)                                             \
    static void outer_##SUFFIX(const T *w, const float *v, int nb, int n, float out[][16]) {     \
        if (have_avx512) (nb <= 8 ? outerz8_##SUFFIX : outerz12_##SUFFIX)(w, v, n, out);         \
        else (nb <= 4 ? outer4_##SUFFIX : nb == 5 ? outer5_##SUFFIX : outer6_##SUFFIX)(w, v, n, out); \
    }
DEFINE_OUTERS(int8_t, i8, LOAD_I8, LOAD16_I8)
DEFINE_OUTERS(uint16_t, f16, LOAD_F16, LOAD16_F16)

static int row_block(void) { return have_avx512 ? 12 : 6; }

/* Where the CPU has AVX512-VNNI, the int8 rows step multiplies int8 by int8 (vpdpbusd: 64
 * multiply-adds an instruction, four times the fp32 FMA's): each row's inputs, all in (-1, 1), are
 * rounded to 1/127 (a = round(127 v)), the weights are stored as w + 128 (the instruction wants one
 * operand unsigned), and sum (w + 128) a = sum w a + 128 sum a is corrected with the row's sum of a.
 * Only the lookahead's candidate rows are computed so; the committed text's own step keeps fp32
 * inputs. Layout (wrow): per layer (G, H/16, 4, K_l/4, 16, 4) uint8: per tile of 16 outputs, per
 * four inputs, the 16 outputs' four weights side by side. */
static int have_vnni;
#define TARGETVNNI __attribute__((target("avx512f,avx512bw,avx512vnni,avx2,fma,f16c")))
#define DEFINE_VNNI(NAME, NB)                                                                     \
    TARGETVNNI static void NAME(const uint8_t *w, const int8_t *a, int quads, int32_t out[][16]) { \
        __m512i acc[NB];                                                                          \
        for (int i = 0; i < NB; i++) acc[i] = _mm512_setzero_si512();                             \
        for (int k = 0; k < quads; k++, w += 64, a += 4 * ROW_BLOCK) {                            \
            _mm_prefetch((const char *)w + PREFETCH, _MM_HINT_T0);                                \
            const __m512i wk = _mm512_loadu_si512((const void *)w);                               \
            for (int i = 0; i < NB; i++) {                                                        \
                int32_t four;                                                                     \
                memcpy(&four, a + 4 * i, 4);                                                      \
                acc[i] = _mm512_dpbusd_epi32(acc[i], wk, _mm512_set1_epi32(four));                \
            }                                                                                     \
        }                                                                                         \
        for (int i = 0; i < NB; i++) _mm512_storeu_si512((void *)out[i], acc[i]);                 \
    }
DEFINE_VNNI(vnni8, 8)
DEFINE_VNNI(vnni12, 12)

/* Rows v[0..nb) as int8, four inputs of a row side by side: p[(k/4) * 4 * ROW_BLOCK + 4 i + k%4];
 * sums[i] = the row's sum of them. */
static void pack_rows_i8(const float *const *v, int nb, int n, int8_t *p, int32_t *sums) {
    memset(p, 0, (size_t)n * ROW_BLOCK);
    for (int i = 0; i < nb; i++) {
        int32_t sum = 0;
        for (int k = 0; k < n; k++) {
            float x = v[i][k] * 127.0f;
            x = x > 127.0f ? 127.0f : x < -127.0f ? -127.0f : x;
            const int8_t q = (int8_t)lrintf(x);
            p[(size_t)(k / 4) * 4 * ROW_BLOCK + 4 * i + k % 4] = q;
            sum += q;
        }
        sums[i] = sum;
    }
}

/* rows_tile for int8 rows on VNNI: gate q's pre-activations of units [u0, u0 + 16). */
TARGET static void rows_tile_vnni(const job_t *j, int l, int m, int u0, int q, const int *live, int nb,
                                  const int8_t *packed, const int32_t sums[2][ROW_BLOCK], float pre[][4][16]) {
    const int H = j->H, S = l == 0 ? 1 : 2, K = S * H;
    const uint8_t *tile = (const uint8_t *)j->wrow + layer_offset(j, l) +
                          ((((size_t)m * (H / 16) + u0 / 16) * 4 + q) * K) * 16;
    int32_t acc[ROW_BLOCK][16];
    for (int s = 0; s < S; s++) {
        (nb <= 8 ? vnni8 : vnni12)(tile + (size_t)s * H * 16, packed + (size_t)s * H * ROW_BLOCK, H / 4, acc);
        for (int k = 0; k < 16; k++) {
            const float sc = j->scale[scale_offset(j, l) + (((size_t)m * H + u0 + k) * 4 + q) * S + s] / 127.0f;
            for (int i = 0; i < nb; i++) pre[i][q][k] += (float)(acc[i][k] - 128 * sums[s][i]) * sc;
        }
    }
}

/* Pack the vectors of rows v[0..nb) into p[k * ROW_BLOCK + i], k in [0, n); the columns past nb
 * are zero. */
static void pack_rows(const float *const *v, int nb, int n, float *p) {
    for (int k = 0; k < n; k++, p += ROW_BLOCK)
        for (int i = 0; i < ROW_BLOCK; i++) p[i] = i < nb ? v[i][k] : 0.0f;
}

/* Gate q's pre-activations of units [u0, u0 + 16) for a block of nb rows whose inputs are packed
 * (one block per input segment): pre[i][q][0..16). */
TARGET static void rows_tile(const job_t *j, int l, int m, int u0, int q, int nb, const float *packed,
                             float pre[][4][16]) {
    const int H = j->H, S = l == 0 ? 1 : 2, K = S * H;
    const size_t tile = layer_offset(j, l) + ((((size_t)m * (H / 16) + u0 / 16) * 4 + q) * K) * 16;
    float acc[ROW_BLOCK][16];
    for (int s = 0; s < S; s++) {
        const float *v = packed + (size_t)s * H * ROW_BLOCK;
        if (j->int8) outer_i8((const int8_t *)j->wrow + tile + (size_t)s * H * 16, v, nb, H, acc);
        else outer_f16((const uint16_t *)j->wrow + tile + (size_t)s * H * 16, v, nb, H, acc);
        for (int k = 0; k < 16; k++) {
            const float sc = j->int8 ? j->scale[scale_offset(j, l) + (((size_t)m * H + u0 + k) * 4 + q) * S + s] : 1.0f;
            for (int i = 0; i < nb; i++) pre[i][q][k] += acc[i][k] * sc;
        }
    }
}

/* Biases and the layer-0 input columns: where every gate's pre-activation starts. */
TARGET static void rows_start(const job_t *j, int l, int m, int u0, const int *live, int nb, float pre[][4][16]) {
    const int H = j->H;
    for (int i = 0; i < nb; i++)
        for (int k = 0; k < 16; k++)
            for (int q = 0; q < 4; q++) {
                pre[i][q][k] = j->bias[(((size_t)l * j->G + m) * H + u0 + k) * 4 + q];
                if (l == 0) pre[i][q][k] += _cvtsh_ss(j->wx0[(((size_t)m * 128 + j->chars[live[i]]) * H + u0 + k) * 4 + q]);
            }
}

/* Layer l for every stepping row of model m: rows a block at a time, 16 units at a time. */
TARGET static void rows_layer(const job_t *j, int l, int m, const int *live, int n_live, float *packed,
                              int8_t *packed8) {
    const int H = j->H, S = l == 0 ? 1 : 2, most = row_block(), vnni = j->int8 && have_vnni;
    const int blocks = (n_live + most - 1) / most;
    float pre[ROW_BLOCK][4][16];
    int32_t sums[2][ROW_BLOCK];
    for (int b = 0, i0 = 0; b < blocks; b++) {
        const int nb = (n_live - i0) / (blocks - b); /* blocks as even as can be */
        for (int s = 0; s < S; s++) {
            const float *v[ROW_BLOCK];
            for (int i = 0; i < nb; i++)
                v[i] = (l > 0 && s == 0) ? ROW_AT(j->hnew, m, live[i0 + i], l - 1) : ROW_AT(j->h, m, live[i0 + i], l);
            if (vnni) pack_rows_i8(v, nb, H, packed8 + (size_t)s * H * ROW_BLOCK, sums[s]);
            else pack_rows(v, nb, H, packed + (size_t)s * H * ROW_BLOCK);
        }
        for (int u0 = 0; u0 < H; u0 += 16) {
            rows_start(j, l, m, u0, live + i0, nb, pre);
            for (int q = 0; q < 4; q++) {
                if (vnni) rows_tile_vnni(j, l, m, u0, q, live + i0, nb, packed8, sums, pre);
                else rows_tile(j, l, m, u0, q, nb, packed, pre);
            }
            for (int i = 0; i < nb; i++)
                for (int half = 0; half < 16; half += 8) {
                    float *c = ROW_AT(j->c, m, live[i0 + i], l) + u0 + half;
                    __m256 cn = _mm256_fmadd_ps(sigmoid8(_mm256_loadu_ps(pre[i][1] + half)), _mm256_loadu_ps(c),
                                                _mm256_mul_ps(sigmoid8(_mm256_loadu_ps(pre[i][0] + half)),
                                                              tanh8(_mm256_loadu_ps(pre[i][2] + half))));
                    _mm256_storeu_ps(c, cn);
                    _mm256_storeu_ps(ROW_AT(j->hnew, m, live[i0 + i], l) + u0 + half,
                                     _mm256_mul_ps(sigmoid8(_mm256_loadu_ps(pre[i][3] + half)), tanh8(cn)));
                }
        }
        i0 += nb;
    }
}

/* Logits of every stepping row, 16 at a time. */
TARGET static void rows_head(const job_t *j, int i_model, int m, const int *live, int n_live, float *packed) {
    const int H = j->H, most = row_block();
    const int blocks = (n_live + most - 1) / most;
    for (int b = 0, i0 = 0; b < blocks; b++) {
        const int nb = (n_live - i0) / (blocks - b);
        const float *v[ROW_BLOCK];
        for (int i = 0; i < nb; i++) v[i] = ROW_AT(j->hnew, m, live[i0 + i], j->L - 1);
        pack_rows(v, nb, H, packed);
        for (int o0 = 0; o0 < 128; o0 += 16) {
            float acc[ROW_BLOCK][16];
            outer_f16(j->wot + ((size_t)m * 8 + o0 / 16) * H * 16, packed, nb, H, acc);
            for (int i = 0; i < nb; i++)
                for (int k = 0; k < 16; k++)
                    j->logits[((size_t)i_model * j->rows + live[i0 + i]) * 128 + o0 + k] =
                        acc[i][k] + j->bo[(size_t)m * 128 + o0 + k];
        }
        i0 += nb;
    }
}

/* The i-th listed model, every stepping row, one character each. */
TARGET static void step_rows(const job_t *j, int i_model) {
    const int m = j->models[i_model];
    int live[MAX_ROWS], n_live = 0;
    for (int r = 0; r < j->rows; r++)
        if (j->chars[r] >= 0) live[n_live++] = r;
    if (n_live == 0) return;
    float packed[2 * 2048 * ROW_BLOCK]; /* 192 KB at most: both input segments of a row block */
    int8_t packed8[2 * 2048 * ROW_BLOCK];
    for (int l = 0; l < j->L; l++) rows_layer(j, l, m, live, n_live, packed, packed8);
    rows_head(j, i_model, m, live, n_live, packed);
    for (int i = 0; i < n_live; i++)
        for (int l = 0; l < j->L; l++)
            memcpy(ROW_AT(j->h, m, live[i], l), ROW_AT(j->hnew, m, live[i], l), j->H * sizeof(float));
}

/* Models [m0, m1) of the job's list, every character: models share nothing, so any thread can
 * step any of them, in any order. */
static void step_models(job_t *j, int m0, int m1) {
    if (j->rows) {
        for (int i = m0; i < m1; i++) step_rows(j, i);
        return;
    }
    const int u0 = m0 * j->H, u1 = m1 * j->H;
    for (int s = 0; s < j->n_chars; s++) {
        for (int l = 0; l < j->L; l++) layer(j, l, j->chars[s], u0, u1);
        if (s == j->n_chars - 1) head(j, m0 * 128, m1 * 128);
        commit(j, u0, u1);
    }
}

/* Each thread owns a contiguous share of the step's models and steps them in order; a thread that
 * is done with its share takes models still waiting in another's. So a thread the scheduler has not
 * run yet (the machine is busy with speech, a panel, a build) holds nobody up: its models are
 * stepped by the others, and only a model a thread has begun is waited for, at the end. Owned
 * shares keep each model on the same core from step to step, which the caches reward: taking
 * every model from one shared queue was 13-24% slower on a quiet machine (docs/performance.md).
 *
 * The helper threads live as long as the process and sleep between steps. A thread created for
 * each step (as before) was placed by the scheduler's fork balancing, which counts a core that
 * runs only a SCHED_IDLE task (the panel) as busy: the new thread then shared the caller's core
 * and the step ran at one thread's speed. A sleeping thread woken on its own core preempts such a
 * task at once. Spinning a few microseconds before sleeping saves the wake-up when steps follow
 * each other closely, without holding a core the panel or the voice could use between steps. */
#define SPIN 2000 /* pause instructions, a few microseconds */
#define SHARE(next, end) (((uint64_t)(end) << 32) | (uint64_t)(next))

static struct {
    pthread_mutex_t call;        /* one step at a time uses the helpers */
    pthread_mutex_t lock;        /* with the two conditions: sleeping and waking */
    pthread_cond_t wake, done;
    int n_helpers;
    job_t job;                   /* the step in progress, read by a thread only once it took a model */
    atomic_uint generation;      /* one more for every step handed to the helpers */
    _Atomic uint64_t share[MAX_THREADS]; /* thread t's models: (end, next to take); empty when done */
    atomic_int finished;         /* models stepped in this step */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER};

/* The next model of share u, or -1 if none is left in it. */
static int take_from(int u) {
    uint64_t c = atomic_load_explicit(&pool.share[u], memory_order_acquire);
    for (;;) {
        const uint32_t next = (uint32_t)c, end = (uint32_t)(c >> 32);
        if (next >= end) return -1;
        if (atomic_compare_exchange_weak_explicit(&pool.share[u], &c, SHARE(next + 1, end), memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)next;
    }
}

/* Thread `tid` steps its own models, then whatever is left in the others' shares. Every share is
 * empty between steps, so a helper that wakes late takes nothing from a step already done. */
static void step_shares(int tid) {
    for (int k = 0; k < MAX_THREADS; k++) {
        const int u = (tid + k) % MAX_THREADS;
        for (int m; (m = take_from(u)) >= 0;) {
            step_models(&pool.job, m, m + 1);
            if (atomic_fetch_add(&pool.finished, 1) + 1 == pool.job.n_models) {
                pthread_mutex_lock(&pool.lock);
                pthread_cond_signal(&pool.done);
                pthread_mutex_unlock(&pool.lock);
            }
        }
    }
}

static unsigned next_generation(unsigned seen) {
    unsigned g = seen;
    for (int i = 0; i < SPIN && (g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen; i++)
        _mm_pause();
    if (g != seen) return g;
    pthread_mutex_lock(&pool.lock);
    while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
        pthread_cond_wait(&pool.wake, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    return g;
}

typedef struct { int tid; unsigned seen; } helper_arg_t;
static helper_arg_t helper_args[MAX_THREADS]; /* seen: the generation when it started */

/* Denormals flushed to zero while the kernel computes: a gate's sigmoid far below zero gives a
 * subnormal, and one subnormal operand makes an FMA take a microcode assist of ~100 cycles (the
 * rows step ran 1.5-2x slower, by how many states held one). Their values are below 1e-38. */
#define FLUSH_DENORMALS 0x8040 /* MXCSR: flush to zero, denormals are zero */

static void *helper(void *p) {
    const helper_arg_t *arg = p;
    unsigned seen = arg->seen;
    _mm_setcsr(_mm_getcsr() | FLUSH_DENORMALS);
    for (;;) {
        seen = next_generation(seen);
        step_shares(arg->tid);
    }
    return NULL;
}

/* Start helpers up to `wanted` (fewer if the system refuses a thread), numbered 1..n_helpers. */
static void ensure_helpers(int wanted) {
    while (pool.n_helpers < wanted && pool.n_helpers < MAX_THREADS - 1) {
        const int tid = pool.n_helpers + 1;
        helper_args[tid] = (helper_arg_t){tid, atomic_load(&pool.generation)};
        pthread_t thread;
        if (pthread_create(&thread, NULL, helper, &helper_args[tid]) != 0) break;
        pthread_detach(thread);
        pool.n_helpers++;
    }
}

static void wait_until_stepped(int n_models) {
    for (int i = 0; i < SPIN && atomic_load(&pool.finished) < n_models; i++) _mm_pause();
    if (atomic_load(&pool.finished) >= n_models) return;
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.finished) < n_models) pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}

/* A child forked from a process with helpers has none of them: it starts its own. */
static void forget_helpers(void) {
    pthread_mutex_init(&pool.call, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.n_helpers = 0;
}

static void watch_forks(void) { pthread_atfork(NULL, NULL, forget_helpers); }

/* Which weight order ens_rows wants for int8 weights: 1 the VNNI order (see have_vnni), 0 the fp32 one. */
EXPORT int ens_rows_layout(void) { return have_vnni; }

/* The inner loop the rows step uses: 0 fp32 AVX2, 1 fp32 AVX-512, 2 int8 x int8 (VNNI, int8 weights).
 * They differ in rounding, so a lookahead's text is the same only on the same one. */
EXPORT int ens_rows_isa(int int8) { return int8 && have_vnni ? 2 : have_avx512 ? 1 : 0; }

/* Use no inner loop above `level` (a replay made where the CPU had less); before any rows step. */
EXPORT void ens_cap_rows_isa(int level) {
    if (level < 2) have_vnni = 0;
    if (level < 1) have_avx512 = 0;
}

EXPORT int ens_available(void) {
    __builtin_cpu_init();
    have_avx512 = __builtin_cpu_supports("avx512f") && !getenv("INSTRUMENT_NO_AVX512");
    have_vnni = have_avx512 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
                !getenv("INSTRUMENT_NO_VNNI");
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

/* Run a job on this thread and the helpers: whole models shared out, as step_shares says. */
static int run_job_here(job_t job);

static int run_job(job_t job) { /* the caller's floating-point mode is given back as it was */
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | FLUSH_DENORMALS);
    const int code = run_job_here(job);
    _mm_setcsr(csr);
    return code;
}

static int run_job_here(job_t job) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    int n_threads = job.n_threads;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > MAX_THREADS) n_threads = MAX_THREADS;
    if (n_threads > job.n_models) n_threads = job.n_models; /* a thread steps whole models */
    job.n_threads = n_threads;
    if (n_threads == 1) {
        step_models(&job, 0, job.n_models);
        return 0;
    }
    const int n_models = job.n_models;
    pthread_once(&once, watch_forks);
    pthread_mutex_lock(&pool.call);
    ensure_helpers(n_threads - 1);
    const int owners = 1 + (pool.n_helpers < n_threads - 1 ? pool.n_helpers : n_threads - 1);
    /* every share is empty (the last step waited for all its models), so no thread reads the job
     * while it is written; a thread reads it once it took a model from a share filled below */
    pool.job = job;
    atomic_store(&pool.finished, 0);
    for (int t = 0; t < owners; t++)
        atomic_store_explicit(&pool.share[t], SHARE((long long)n_models * t / owners,
                                                    (long long)n_models * (t + 1) / owners), memory_order_release);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    step_shares(0);
    wait_until_stepped(n_models);
    pthread_mutex_unlock(&pool.call);
    return 0;
}

static int check_models(int G, const int32_t *models, int n_models) {
    for (int i = 0; i < n_models; i++)
        if (models[i] < 0 || models[i] >= G) return -2;
    return 0;
}

/* Feed chars[0..n_chars) to the listed models; logits after the last one. 0 on success. */
EXPORT int ens_step(int G, int L, int H, int int8, const int32_t *models, int n_models, const int32_t *chars,
             int n_chars, const uint16_t *wx0, const void *wrec, const float *scale, const float *bias,
             const uint16_t *wo, const float *bo, float *h, float *c, float *hnew, float *logits,
             int n_threads) {
    if (H % 16 || H > 2048 || n_models < 1 || n_chars < 1 || (int8 && !scale)) return -1;
    if (check_models(G, models, n_models)) return -2;
    for (int s = 0; s < n_chars; s++)
        if (chars[s] < 0 || chars[s] >= 128) return -3;
    job_t job = {G, L, H, n_models, n_chars, n_threads, int8, 0, models, chars, wx0, wo, NULL, wrec, NULL,
                 scale, bias, bo, h, c, hnew, logits};
    return run_job(job);
}

/* One character for each of R rows of the listed models: chars[r] (or -1: row r keeps its state).
 * h, c, hnew are (G, R, L, H); logits (n_models, R, 128), written for stepping rows only; the
 * weights in the rows' order (wrow, wot: see above). */
EXPORT int ens_rows(int G, int L, int H, int int8, const int32_t *models, int n_models, int R, const int32_t *chars,
             const uint16_t *wx0, const void *wrow, const float *scale, const float *bias, const uint16_t *wot,
             const float *bo, float *h, float *c, float *hnew, float *logits, int n_threads) {
    if (H % 16 || H > 2048 || n_models < 1 || R < 1 || R > MAX_ROWS || (int8 && !scale)) return -1;
    if (check_models(G, models, n_models)) return -2;
    for (int r = 0; r < R; r++)
        if (chars[r] < -1 || chars[r] >= 128) return -3;
    job_t job = {G, L, H, n_models, 1, n_threads, int8, R, models, chars, wx0, NULL, wot, NULL, wrow,
                 scale, bias, bo, h, c, hnew, logits};
    return run_job(job);
}
#else /* not x86-64 with GCC or clang (MSVC, ARM): nothing runs here, and Python uses torch */
EXPORT int ens_available(void) { return 0; }
EXPORT int ens_step(void) { return -9; }
EXPORT int ens_rows(void) { return -9; }
EXPORT int ens_rows_layout(void) { return 0; }
EXPORT int ens_rows_isa(int int8) { return 0; }
EXPORT void ens_cap_rows_isa(int level) {}
#endif

/* A module with no methods: Python finds the file with importlib, ctypes calls the functions. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lstm_kernel", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__lstm_kernel(void) { return PyModule_Create(&module); }
