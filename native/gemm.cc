// sgemm for tfjs's wasm backend (src/native-gemm.ts): C = act(op(A)·op(B) + bias), computed by a
// CPU BLAS directly in the wasm module's memory; and tanh, vectorized (the RNN's activation, which
// tfjs-wasm computes one scalar libc tanhf at a time: as slow as the step's matrix product). Built twice by binding.gyp, once per library:
//   GEMM_ONEDNN    oneDNN's dnnl_sgemm (Debian libdnnl-dev), the fastest here
//   GEMM_OPENBLAS  OpenBLAS's cblas_sgemm (Debian libopenblas-dev)
// One BLAS thread for each thread that loads the addon: the training's data-parallel helper thread
// does its own products on its own core. A Node-API addon, so it loads in worker threads too.
#include <napi.h>

#include <csignal>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>
#define TANH_LIBMVEC 1
// glibc's libmvec (part of libc6): tanhf on 8 or 4 floats at once, within 1 ulp of the exact value
// (glibc's scalar tanhf: 2). Names follow the x86-64 vector ABI: d = AVX2, b = SSE, N8/N4 = lanes.
extern "C" __m256 _ZGVdN8v_tanhf(__m256);
extern "C" __m128 _ZGVbN4v_tanhf(__m128);
#endif

#if defined(GEMM_ONEDNN)
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#elif defined(GEMM_OPENBLAS)
#include <cblas.h>
#else
#error "define GEMM_ONEDNN or GEMM_OPENBLAS"
#endif

namespace {

// The fused activations of tfjs's _FusedMatMul (src/native-gemm.ts passes these codes).
enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kPrelu = 3, kLeakyRelu = 4, kSigmoid = 5, kElu = 6 };

// Row-major C[M×N] = op(A)·op(B), op(A) M×K, op(B) K×N, C overwritten.
bool Sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C, std::string* error) {
  const int64_t lda = transA ? M : K;
  const int64_t ldb = transB ? K : N;
#if defined(GEMM_ONEDNN)
  dnnl_status_t s = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
  if (s != dnnl_success) {
    *error = "dnnl_sgemm failed with status " + std::to_string(static_cast<int>(s));
    return false;
  }
#else
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), 1.0f, A, static_cast<blasint>(lda), B, static_cast<blasint>(ldb), 0.0f,
              C, static_cast<blasint>(N));
#endif
  return true;
}

// Bias (1 value or N, one per column) and activation over C[M×N], in place.
void Epilogue(float* C, int64_t M, int64_t N, const float* bias, int64_t biasSize, int act, float alpha, const float* prelu,
              int64_t preluSize) {
  for (int64_t i = 0; i < M; i++) {
    float* row = C + i * N;
    if (bias) {
      if (biasSize == 1) {
        for (int64_t j = 0; j < N; j++) row[j] += bias[0];
      } else {
        for (int64_t j = 0; j < N; j++) row[j] += bias[j];
      }
    }
    switch (act) {
      case kLinear:
        break;
      case kRelu:
        for (int64_t j = 0; j < N; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
        break;
      case kRelu6:
        for (int64_t j = 0; j < N; j++) row[j] = row[j] < 0.0f ? 0.0f : (row[j] > 6.0f ? 6.0f : row[j]);
        break;
      case kPrelu:
        for (int64_t j = 0; j < N; j++) {
          const float w = preluSize == 1 ? prelu[0] : prelu[j];
          row[j] = row[j] < 0.0f ? w * row[j] : row[j];
        }
        break;
      case kLeakyRelu:
        for (int64_t j = 0; j < N; j++) row[j] = row[j] < 0.0f ? alpha * row[j] : row[j];
        break;
      case kSigmoid:
        for (int64_t j = 0; j < N; j++) row[j] = 1.0f / (1.0f + std::exp(-row[j]));
        break;
      case kElu:
        for (int64_t j = 0; j < N; j++) row[j] = row[j] >= 0.0f ? row[j] : std::exp(row[j]) - 1.0f;
        break;
    }
  }
}

int64_t Int(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "gemm: argument " + std::to_string(i) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (v != std::floor(v) || v < -1 || v > 9007199254740991.0) {
    throw Napi::RangeError::New(info.Env(), "gemm: argument " + std::to_string(i) + " must be an integer ≥ -1");
  }
  return static_cast<int64_t>(v);
}

// A float32 array of `count` elements at byte `offset` of the memory, checked to lie inside it.
float* At(const Napi::Env& env, uint8_t* base, size_t bytes, int64_t offset, int64_t count, const char* what) {
  if (offset < 0 || offset % 4 != 0 || count < 0 || static_cast<uint64_t>(offset) + static_cast<uint64_t>(count) * 4 > bytes) {
    throw Napi::RangeError::New(env, std::string("gemm: ") + what + " lies outside the memory buffer");
  }
  return reinterpret_cast<float*>(base + offset);
}

// Argument 0, the ArrayBuffer holding every operand (tfjs-wasm's heap): its start and size.
struct Memory {
  uint8_t* base;
  size_t bytes;
};

Memory MemoryArgument(const Napi::CallbackInfo& info, const char* function, size_t arguments) {
  Napi::Env env = info.Env();
  if (info.Length() != arguments) throw Napi::TypeError::New(env, std::string(function) + " takes " + std::to_string(arguments) + " arguments");
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, std::string(function) + ": memory must be an ArrayBuffer");
  Napi::ArrayBuffer memory = info[0].As<Napi::ArrayBuffer>();
  return {static_cast<uint8_t*>(memory.Data()), memory.ByteLength()};
}

// gemm(memory, transA, transB, M, N, K, batch, a, strideA, b, strideB, c, bias, biasSize, act, alpha, prelu, preluSize)
//   memory    the ArrayBuffer holding every operand (tfjs-wasm's heap)
//   a, b, c   byte offsets of A, B and C; strideA/strideB: elements between batches (0 = broadcast)
//   bias      byte offset or -1; biasSize 1 or N. prelu likewise (act 3).
// For each of `batch` products: C_i = act(op(A_i)·op(B_i) + bias), C_i at c + i·M·N floats.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [base, bytes] = MemoryArgument(info, "gemm", 18);
  const bool transA = info[1].ToBoolean();
  const bool transB = info[2].ToBoolean();
  const int64_t M = Int(info, 3), N = Int(info, 4), K = Int(info, 5), batch = Int(info, 6);
  const int64_t a = Int(info, 7), strideA = Int(info, 8), b = Int(info, 9), strideB = Int(info, 10), c = Int(info, 11);
  const int64_t bias = Int(info, 12), biasSize = Int(info, 13), act = Int(info, 14);
  if (!info[15].IsNumber()) throw Napi::TypeError::New(env, "gemm: alpha must be a number");
  const float alpha = info[15].As<Napi::Number>().FloatValue();
  const int64_t prelu = Int(info, 16), preluSize = Int(info, 17);
  if (M < 0 || N < 0 || K < 0 || batch < 0 || strideA < 0 || strideB < 0) throw Napi::RangeError::New(env, "gemm: negative size");
  if (act < kLinear || act > kElu) throw Napi::RangeError::New(env, "gemm: unknown activation " + std::to_string(act));
  if (bias >= 0 && biasSize != 1 && biasSize != N) throw Napi::RangeError::New(env, "gemm: bias must have 1 or N elements");
  if (act == kPrelu && (prelu < 0 || (preluSize != 1 && preluSize != N))) {
    throw Napi::RangeError::New(env, "gemm: prelu weights must have 1 or N elements");
  }
  if (M == 0 || N == 0 || batch == 0) return env.Undefined();

  float* C = At(env, base, bytes, c, batch * M * N, "C");
  const float* A = At(env, base, bytes, a, strideA * (batch - 1) + M * K, "A");
  const float* B = At(env, base, bytes, b, strideB * (batch - 1) + K * N, "B");
  const float* biasData = bias >= 0 ? At(env, base, bytes, bias, biasSize, "bias") : nullptr;
  const float* preluData = act == kPrelu ? At(env, base, bytes, prelu, preluSize, "prelu weights") : nullptr;
  const bool aliased = (A < C + batch * M * N && C < A + strideA * (batch - 1) + M * K) ||
                       (B < C + batch * M * N && C < B + strideB * (batch - 1) + K * N);
  if (aliased) throw Napi::RangeError::New(env, "gemm: C overlaps an input");

  std::string error;
  for (int64_t i = 0; i < batch; i++) {
    float* Ci = C + i * M * N;
    if (K == 0) {
      std::memset(Ci, 0, static_cast<size_t>(M * N) * sizeof(float));  // an empty sum (BLASes reject lda = 0)
    } else if (!Sgemm(transA, transB, M, N, K, A + i * strideA, B + i * strideB, Ci, &error)) {
      throw Napi::Error::New(env, "gemm: " + error);
    }
    if (biasData || act != kLinear) Epilogue(Ci, M, N, biasData, biasSize, static_cast<int>(act), alpha, preluData, preluSize);
  }
  return env.Undefined();
}

#if defined(TANH_LIBMVEC)
__attribute__((target("avx2"))) void TanhAvx2(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _ZGVdN8v_tanhf(_mm256_loadu_ps(x + i)));
  for (; i < n; i++) y[i] = std::tanh(x[i]);
}

void TanhSse(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _ZGVbN4v_tanhf(_mm_loadu_ps(x + i)));
  for (; i < n; i++) y[i] = std::tanh(x[i]);
}
#endif

// y = tanh(x) elementwise over n floats; y may be x.
void TanhArray(const float* x, float* y, int64_t n) {
#if defined(TANH_LIBMVEC)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return TanhAvx2(x, y, n);
  return TanhSse(x, y, n);
#else
  for (int64_t i = 0; i < n; i++) y[i] = std::tanh(x[i]);
#endif
}

// tanh(memory, x, y, n): y = tanh(x) for the n floats at byte offsets x and y of the memory.
Napi::Value Tanh(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [base, bytes] = MemoryArgument(info, "tanh", 4);
  const int64_t x = Int(info, 1), y = Int(info, 2), n = Int(info, 3);
  if (n < 0) throw Napi::RangeError::New(env, "tanh: negative size");
  const float* X = At(env, base, bytes, x, n, "x");
  float* Y = At(env, base, bytes, y, n, "y");
  if (X != Y && X < Y + n && Y < X + n) throw Napi::RangeError::New(env, "tanh: y overlaps x partly");
  TanhArray(X, Y, n);
  return env.Undefined();
}

// { library, version }: what computes the products.
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#if defined(GEMM_ONEDNN)
  const dnnl_version_t* v = dnnl_version();
  out.Set("library", "oneDNN");
  out.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("threads", omp_get_max_threads());
#else
  out.Set("library", "OpenBLAS");
  out.Set("version", openblas_get_config());
  out.Set("threads", openblas_get_num_threads());
#endif
#if defined(TANH_LIBMVEC)
  out.Set("tanh", __builtin_cpu_supports("avx2") ? "libmvec AVX2" : "libmvec SSE");
#else
  out.Set("tanh", "libm");
#endif
  return out;
}

// oneDNN's sgemm runs its kernels on a stack of its own, allocated on the heap (valgrind: "client
// switching stacks"). A signal handler that runs on the interrupted stack and goes deep writes below
// that block, into the heap: V8's CPU profiler (node --cpu-prof) crashed the process with
// "corrupted size vs. prev_size" within seconds. Handlers installed with SA_ONSTACK, as V8's is, run
// on the thread's alternate signal stack when it has one: so each thread that loads the addon gets one.
struct AlternateSignalStack {
  char* memory = nullptr;
  ~AlternateSignalStack() {  // at thread exit: switch it off, then free it
    if (!memory) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
    delete[] memory;
  }
};

void EnsureAlternateSignalStack() {
  static thread_local AlternateSignalStack mine;
  stack_t current;
  if (sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;  // one is set already
  constexpr size_t kSize = 256 * 1024;
  mine.memory = new char[kSize];
  stack_t ss{};
  ss.ss_sp = mine.memory;
  ss.ss_size = kSize;
  if (sigaltstack(&ss, nullptr) != 0) {
    delete[] mine.memory;
    mine.memory = nullptr;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  EnsureAlternateSignalStack();
  // One BLAS thread for the thread loading the addon (the one that will call it). OpenMP's
  // thread count is per thread; OpenBLAS's pthread build has a single process-wide setting.
#if defined(GEMM_ONEDNN)
  omp_set_num_threads(1);
#else
  openblas_set_num_threads(1);
#endif
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("tanh", Napi::Function::New(env, Tanh, "tanh"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
