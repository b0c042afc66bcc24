# The native GEMM addons for tfjs's wasm backend (gemm.cc). scripts/native-gemm-build.ts runs
# node-gyp here with -Donednn=1 and/or -Dopenblas=1, for the libraries whose headers it found;
# (openblas_include/openblas_lib: where Debian keeps its variant, e.g. .../openblas-pthread);
# each gives its own addon (build/Release/gemm_onednn.node, gemm_openblas.node), and
# src/native-gemm.ts loads the first that loads. Output in native/build/ (not committed).
{
  'variables': { 'onednn%': 0, 'openblas%': 0, 'openblas_include%': '/usr/include', 'openblas_lib%': '/usr/lib' },
  'target_defaults': {
    'sources': ['gemm.cc'],
    'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
    'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions'],
    'cflags_cc': ['-fexceptions', '-O3'],
    'conditions': [
      # libmvec (glibc's vector math, for tanh) exists on x86-64 glibc only; gemm.cc checks the same.
      ['OS=="linux" and target_arch=="x64"', { 'libraries': ['-lmvec'] }],
    ],
  },
  'targets': [
    {
      'target_name': 'gemm_onednn',
      'type': 'none',
      'conditions': [
        ['onednn==1', {
          'type': 'loadable_module',
          'defines': ['GEMM_ONEDNN'],
          'cflags_cc': ['-fopenmp'],
          'libraries': ['-ldnnl', '-lgomp'],
        }],
      ],
    },
    {
      'target_name': 'gemm_openblas',
      'type': 'none',
      'conditions': [
        ['openblas==1', {
          'type': 'loadable_module',
          'defines': ['GEMM_OPENBLAS'],
          'include_dirs': ['<(openblas_include)'],
          'libraries': ['-L<(openblas_lib)', '-Wl,-rpath,<(openblas_lib)', '-lopenblas'],
        }],
      ],
    },
  ],
}
