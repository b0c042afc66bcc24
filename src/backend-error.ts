// The one error type of backend choice (backend.ts) and the native GEMM (native-gemm.ts), in its own
// file so that neither imports the other for it.

/** A backend that cannot be used as asked (RNN_BACKEND, RNN_PARALLEL, RNN_NATIVE): one line, exit code 2 in the CLI. */
export class BackendError extends Error {
  override name = 'BackendError';
}
