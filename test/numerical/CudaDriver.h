// Whether a CUDA driver can be loaded: the GPU tests skip where it cannot
// (CI has no GPU).
#pragma once

#include <dlfcn.h>

inline bool cudaDriverPresent() {
  void *lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!lib)
    lib = dlopen("libcuda.so", RTLD_LAZY | RTLD_LOCAL);
  return lib != nullptr;
}
