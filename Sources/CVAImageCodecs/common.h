#ifndef CVAIMAGECODECS_COMMON_H
#define CVAIMAGECODECS_COMMON_H
#include <stdarg.h>
#include <stdio.h>
#include "CVAImageCodecs.h"

static inline void cva_set_message(char *message, const char *format, ...) {
  if (!message) return;
  va_list args;
  va_start(args, format);
  vsnprintf(message, (size_t)CVA_MESSAGE_CAPACITY, format, args);
  va_end(args);
}
#endif
