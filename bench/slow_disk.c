/* A slow disk, for benchmarks and tests: every fsync and fdatasync of the
   process waits SLOW_DISK_MS milliseconds (default 50) before flushing.

   cc -shared -fPIC -o slow_disk.so bench/slow_disk.c -ldl
   LD_PRELOAD=./slow_disk.so SLOW_DISK_MS=50 python run.py */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static void wait_like_a_slow_disk(void) {
  const char *ms = getenv("SLOW_DISK_MS");
  usleep((useconds_t)(ms ? atoi(ms) : 50) * 1000);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  wait_like_a_slow_disk();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  wait_like_a_slow_disk();
  return real(fd);
}
