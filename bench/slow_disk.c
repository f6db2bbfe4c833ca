/* A slow disk, for benchmarks and tests: every fsync and fdatasync of the
   process waits SLOW_DISK_MS milliseconds (default 50) before flushing.
   With SLOW_DISK_LOG, each flush also appends "<pid> <file>" to that file.
   For tests of faults: while the file SLOW_DISK_GATE exists, flushes wait
   (a flush held as long as a test needs); while SLOW_DISK_FAIL exists, they
   fail with EIO (a disk that cannot write). Both only for fsync, the call
   of the server's group flush (workshop/sqlite.py); never for SQLite's own
   flushes (fdatasync: a WAL header, a checkpoint).

   cc -shared -fPIC -o slow_disk.so bench/slow_disk.c -ldl
   LD_PRELOAD=./slow_disk.so SLOW_DISK_MS=50 python run.py */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exists(const char *variable) {
  const char *path = getenv(variable);
  return path && *path && access(path, F_OK) == 0;
}

/* 0, or -1 with errno set: the flush fails. */
static int wait_like_a_slow_disk(int fd, int faulty) {
  const char *ms = getenv("SLOW_DISK_MS");
  const char *log = getenv("SLOW_DISK_LOG");
  usleep((useconds_t)(ms ? atoi(ms) : 50) * 1000);
  while (faulty && exists("SLOW_DISK_GATE")) usleep(10000);
  if (log) {
    char link[64], file[4096], line[4200];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, file, sizeof file - 1);
    file[n > 0 ? n : 0] = '\0';
    int out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (out >= 0) {
      int len = snprintf(line, sizeof line, "%d %s\n", (int)getpid(), file);
      if (write(out, line, (size_t)len) < 0) { /* a lost line only loses a count */ }
      close(out);
    }
  }
  if (faulty && exists("SLOW_DISK_FAIL")) {
    errno = EIO;
    return -1;
  }
  return 0;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (wait_like_a_slow_disk(fd, 1) < 0) return -1;
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (wait_like_a_slow_disk(fd, 0) < 0) return -1;
  return real(fd);
}
