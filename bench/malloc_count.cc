// SPDX-License-Identifier: GPL-2.0-or-later
// bench/malloc_count.so: LD_PRELOAD shim that counts heap allocations
// (malloc, calloc, realloc, memalign family; operator new goes through
// malloc) and prints "malloc_count: N" to the file named by
// $MALLOC_COUNT_OUT (else stderr) when the process exits.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<unsigned long long> g_count{0};

void Report() {
  char line[64];
  const int n = std::snprintf(line, sizeof line, "malloc_count: %llu\n",
                              g_count.load());
  const char* path = std::getenv("MALLOC_COUNT_OUT");
  int fd = 2;
  if (path != nullptr) fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0 && n > 0) (void)!write(fd, line, static_cast<size_t>(n));
  if (fd > 2) close(fd);
}

struct Reporter {
  ~Reporter() { Report(); }
} g_reporter;
}  // namespace

extern "C" {
void* malloc(size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
  g_count.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  void* p = memalign(a, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}

// Read by bench/engine_bench (dlsym) to count allocations in a window.
extern "C" unsigned long long bench_malloc_count() { return g_count.load(); }
