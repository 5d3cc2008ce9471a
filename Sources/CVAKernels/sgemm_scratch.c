#include <pthread.h>
#include <stdlib.h>
#include "CVAKernels.h"
#include "sgemm_pack.h"

// The packed A and B panels of cva_sgemm, kept per thread between calls: a forward makes
// hundreds of GEMMs (every attention block makes two), each of which used to aligned_alloc
// and free both panels. A thread's buffers only grow, and are freed when the thread exits
// (the pool's worker threads, thread_pool.c, live on between forwards, so the second forward
// allocates none).

typedef struct {
  float *panel[2];
  size_t bytes[2];
  size_t allocations;
} pack_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch(void *p) {
  pack_scratch *s = p;
  free(s->panel[0]);
  free(s->panel[1]);
  free(s);
}

static void make_key(void) { pthread_key_create(&scratch_key, free_scratch); }

static pack_scratch *this_thread_scratch(int create) {
  pthread_once(&scratch_once, make_key);
  pack_scratch *s = pthread_getspecific(scratch_key);
  if (!s && create) {
    s = calloc(1, sizeof(pack_scratch));
    if (s && pthread_setspecific(scratch_key, s) != 0) {
      free(s);
      s = NULL;
    }
  }
  return s;
}

float *cva_pack_scratch(int which, size_t bytes) {
  pack_scratch *s = this_thread_scratch(1);
  if (!s) return NULL;
  if (s->bytes[which] < bytes) {
    bytes = (bytes + 63) / 64 * 64;
    float *grown = aligned_alloc(64, bytes);
    if (!grown) return NULL;
    free(s->panel[which]);
    s->panel[which] = grown;
    s->bytes[which] = bytes;
    s->allocations++;
  }
  return s->panel[which];
}

size_t cva_pack_scratch_allocations(void) {
  pack_scratch *s = this_thread_scratch(0);
  return s ? s->allocations : 0;
}
