/*
 * A Node-API addon exposing the system BLAS's gemm (OpenBLAS by default) on typed arrays, for
 * the CPU backend's 'blas' kernel variant (src/native/native-blas.ts). Built by
 * scripts/build-native.mjs; the backend runs without it.
 *
 * Memory safety is checked here, not only by the caller: every operand must be a typed array
 * of the routine's element type that holds the whole strided matrix the call reads or writes,
 * or the call throws a RangeError naming the operand. Operands may view a SharedArrayBuffer
 * (the WebAssembly kernel memory): the pointer is taken at call time, and a shared memory
 * never moves when it grows.
 */
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), NULL, "blas addon: " #call);    \
      return NULL;                                            \
    }                                                         \
  } while (0)

static int get_int(napi_env env, napi_value v, const char* name, int64_t* out) {
  double x;
  if (napi_get_value_double(env, v, &x) != napi_ok || !(x == x) || x != (double)(int64_t)x) {
    char msg[128];
    snprintf(msg, sizeof msg, "blas: %s must be an integer", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)x;
  return 1;
}

static int get_double(napi_env env, napi_value v, const char* name, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "blas: %s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* What BLAS gets for an operand it will not read (an empty typed array has no data pointer). */
static double empty_operand[1];

/*
 * *out <- the data pointer of a typed array of the wanted type holding at least `need`
 * elements. Returns 0, with a JavaScript exception pending, when it is not one.
 */
static int get_matrix(napi_env env, napi_value v, const char* name, napi_typedarray_type want, int64_t need, void** out) {
  bool is_typed = false;
  char msg[200];
  const char* type_name = want == napi_float64_array ? "Float64Array" : "Float32Array";
  napi_typedarray_type type;
  size_t length;
  void* data = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed || napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != want) {
    snprintf(msg, sizeof msg, "blas: %s must be a %s", name, type_name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if ((int64_t)length < need) {
    snprintf(msg, sizeof msg, "blas: %s holds %zu elements, the call needs %lld", name, length, (long long)need);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = data != NULL ? data : (void*)empty_operand;
  return 1;
}

/* Elements a row-major [rows, cols] matrix with leading dimension ld spans (0 when empty). */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

/*
 * gemm(float64, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
 * C [m, n] <- alpha op(A) op(B) + beta C, row-major, with op(A) [m, k] and op(B) [k, n].
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 14) {
    napi_throw_type_error(env, NULL, "blas gemm: expected 14 arguments");
    return NULL;
  }
  bool f64, ta, tb;
  if (napi_get_value_bool(env, argv[0], &f64) != napi_ok || napi_get_value_bool(env, argv[1], &ta) != napi_ok ||
      napi_get_value_bool(env, argv[2], &tb) != napi_ok) {
    napi_throw_type_error(env, NULL, "blas gemm: float64, transA and transB must be booleans");
    return NULL;
  }
  int64_t m, n, k, lda, ldb, ldc;
  double alpha, beta;
  if (!get_int(env, argv[3], "m", &m) || !get_int(env, argv[4], "n", &n) || !get_int(env, argv[5], "k", &k)) return NULL;
  if (!get_double(env, argv[6], "alpha", &alpha) || !get_int(env, argv[8], "lda", &lda) || !get_int(env, argv[10], "ldb", &ldb)) return NULL;
  if (!get_double(env, argv[11], "beta", &beta) || !get_int(env, argv[13], "ldc", &ldc)) return NULL;
  /* Stored shapes: A is [m, k] or, transposed, [k, m]; B is [k, n] or [n, k]. */
  int64_t aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || lda < (aCols > 1 ? aCols : 1) || ldb < (bCols > 1 ? bCols : 1) ||
      ldc < (n > 1 ? n : 1) || lda > INT32_MAX || ldb > INT32_MAX || ldc > INT32_MAX) {
    char msg[200];
    snprintf(msg, sizeof msg, "blas gemm: bad dimensions m %lld, n %lld, k %lld, lda %lld, ldb %lld, ldc %lld", (long long)m, (long long)n, (long long)k,
             (long long)lda, (long long)ldb, (long long)ldc);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  napi_typedarray_type want = f64 ? napi_float64_array : napi_float32_array;
  void *a, *b, *c;
  if (!get_matrix(env, argv[7], "A", want, span(aRows, aCols, lda), &a) || !get_matrix(env, argv[9], "B", want, span(bRows, bCols, ldb), &b) ||
      !get_matrix(env, argv[12], "C", want, span(m, n, ldc), &c))
    return NULL;
  if (m == 0 || n == 0) return NULL; /* nothing to write; k = 0 still scales C by beta below */
  enum CBLAS_TRANSPOSE opA = ta ? CblasTrans : CblasNoTrans, opB = tb ? CblasTrans : CblasNoTrans;
  if (f64)
    cblas_dgemm(CblasRowMajor, opA, opB, (int)m, (int)n, (int)k, alpha, (const double*)a, (int)lda, (const double*)b, (int)ldb, beta, (double*)c, (int)ldc);
  else
    cblas_sgemm(CblasRowMajor, opA, opB, (int)m, (int)n, (int)k, (float)alpha, (const float*)a, (int)lda, (const float*)b, (int)ldb, (float)beta, (float*)c,
                (int)ldc);
  return NULL;
}

/* LAPACK (OpenBLAS ships it): Fortran calling convention, with the hidden length of the
 * character argument passed explicitly (gfortran's ABI; ignored by C implementations). */
extern void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);
extern void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t uplo_len);

/*
 * spdInverse(a, n): A [n, n] (a Float64Array, row-major) <- A^-1 in place, from A's lower
 * triangle, exactly symmetric. Returns 0, or k + 1 when pivot k of the Cholesky factorization is
 * not positive or not finite (A[k, k] then holds the failed pivot's value, as in LAPACK).
 * Row-major lower is column-major upper: LAPACK's 'U' reads and writes that triangle.
 */
static napi_value spd_inverse(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n;
  if (argc != 2) {
    napi_throw_type_error(env, NULL, "blas spdInverse: expected 2 arguments");
    return NULL;
  }
  if (!get_int(env, argv[1], "n", &n)) return NULL;
  if (n < 1 || n > 46340) {
    napi_throw_range_error(env, NULL, "blas spdInverse: n must be in [1, 46340]");
    return NULL;
  }
  void* data;
  if (!get_matrix(env, argv[0], "A", napi_float64_array, n * n, &data)) return NULL;
  double* a = (double*)data;
  const char uplo = 'U';
  const int order = (int)n;
  int status = 0;
  dpotrf_(&uplo, &order, a, &order, &status, 1);
  /* OpenBLAS's potrf tests pivot <= 0, which a NaN passes: check the factor's diagonal. */
  for (int k = 0; status == 0 && k < order; k++)
    if (!isfinite(a[(size_t)k * order + k])) status = k + 1;
  if (status == 0) dpotri_(&uplo, &order, a, &order, &status, 1);
  if (status == 0)
    for (size_t i = 0; i < (size_t)order; i++)
      for (size_t j = i + 1; j < (size_t)order; j++) a[i * order + j] = a[j * order + i];
  napi_value out;
  CHECK(env, napi_create_int32(env, status, &out));
  return out;
}

#ifdef MATS_OPENBLAS
extern char* openblas_get_config(void);
extern char* openblas_get_corename(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int);
#endif

/* setThreads(n): the BLAS's thread count for this process (OpenBLAS; a no-op elsewhere). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) {
    napi_throw_type_error(env, NULL, "blas setThreads: expected 1 argument");
    return NULL;
  }
  if (!get_int(env, argv[0], "threads", &n)) return NULL;
  if (n < 1 || n > 1024) {
    napi_throw_range_error(env, NULL, "blas setThreads: threads must be in [1, 1024]");
    return NULL;
  }
#ifdef MATS_OPENBLAS
  openblas_set_num_threads((int)n);
#endif
  return NULL;
}

/* info(): what the library is, for reports: { library, config, core, threads }. */
static napi_value info(napi_env env, napi_callback_info cb) {
  (void)cb;
  napi_value out, v;
  CHECK(env, napi_create_object(env, &out));
#ifdef MATS_OPENBLAS
  CHECK(env, napi_create_string_utf8(env, "OpenBLAS", NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "library", v));
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "config", v));
  CHECK(env, napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "core", v));
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &v));
  CHECK(env, napi_set_named_property(env, out, "threads", v));
#else
  CHECK(env, napi_create_string_utf8(env, "cblas", NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "library", v));
#endif
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(env, napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, gemm, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "gemm", fn));
  CHECK(env, napi_create_function(env, "spdInverse", NAPI_AUTO_LENGTH, spd_inverse, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "spdInverse", fn));
  CHECK(env, napi_create_function(env, "setThreads", NAPI_AUTO_LENGTH, set_threads, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "setThreads", fn));
  CHECK(env, napi_create_function(env, "info", NAPI_AUTO_LENGTH, info, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "info", fn));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
