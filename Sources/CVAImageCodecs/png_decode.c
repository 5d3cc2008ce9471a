#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

// Everything libpng calls back into while decoding, plus where its errors go.
typedef struct {
  const uint8_t *data;
  size_t size;
  size_t position;
  int32_t status;   // set before png_error so the jump target knows the kind
  char *message;
  char warning[128];  // the first warning, which often says why a later error happened
} png_reader;

static void read_bytes(png_structp png, png_bytep out, size_t count) {
  png_reader *reader = (png_reader *)png_get_io_ptr(png);
  if (count > reader->size - reader->position) {
    reader->status = CVA_STATUS_TRUNCATED;
    png_error(png, "file ends early");
  }
  memcpy(out, reader->data + reader->position, count);
  reader->position += count;
}

static void on_error(png_structp png, png_const_charp text) {
  png_reader *reader = (png_reader *)png_get_error_ptr(png);
  if (reader->status == CVA_STATUS_OK) reader->status = CVA_STATUS_CORRUPT;
  if (reader->warning[0])
    cva_set_message(reader->message, "%s (%s)", text, reader->warning);
  else
    cva_set_message(reader->message, "%s", text);
  png_longjmp(png, 1);
}

// Ancillary-chunk problems are warnings in libpng; the pixels are still right, so they are
// never printed. The first is kept to explain an error that may follow.
static void on_warning(png_structp png, png_const_charp text) {
  png_reader *reader = (png_reader *)png_get_error_ptr(png);
  if (!reader->warning[0]) snprintf(reader->warning, sizeof reader->warning, "%s", text);
}

int32_t cva_png_decode(const uint8_t *data, size_t size, const cva_limits *limits,
                       int32_t keep16, cva_image *out, char *message) {
  memset(out, 0, sizeof *out);
  png_reader reader = {data, size, 0, CVA_STATUS_OK, message, {0}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, on_error, on_warning);
  if (!png) {
    cva_set_message(message, "out of memory");
    return CVA_STATUS_NO_MEMORY;
  }
  png_infop info = png_create_info_struct(png);
  // volatile: these change after setjmp and are read after a longjmp.
  png_bytep *volatile rows = NULL;
  uint8_t *volatile pixels = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    int had_info = info != NULL;  // png_destroy_read_struct clears it
    free(rows);
    free(pixels);
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    if (!had_info) {
      cva_set_message(message, "out of memory");
      return CVA_STATUS_NO_MEMORY;
    }
    return reader.status == CVA_STATUS_OK ? CVA_STATUS_CORRUPT : reader.status;
  }
  png_set_read_fn(png, &reader, read_bytes);
  png_set_user_limits(png, limits->max_side, limits->max_side);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
  if ((uint64_t)width * height > limits->max_pixels) {
    reader.status = CVA_STATUS_TOO_LARGE;
    png_error(png, "image has too many pixels");
  }
  // Expand palette to RGB, gray below 8 bits to 8, and tRNS to an alpha channel; no gamma.
  png_set_expand(png);
  if (bit_depth == 16) {
    if (keep16) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      png_set_swap(png);  // PNG stores big-endian; hand Swift host-order UInt16
#endif
    } else {
      png_set_strip_16(png);
    }
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  uint32_t channels = png_get_channels(png, info);
  uint32_t bits = png_get_bit_depth(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  uint64_t total = (uint64_t)row_bytes * height;
  if (total > limits->max_decoded_bytes) {
    reader.status = CVA_STATUS_TOO_LARGE;
    png_error(png, "decoded image would exceed the byte limit");
  }
  pixels = malloc(total ? total : 1);
  rows = malloc(sizeof(png_bytep) * height);
  if (!pixels || !rows) {
    reader.status = CVA_STATUS_NO_MEMORY;
    png_error(png, "out of memory");
  }
  for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
  png_read_image(png, rows);
  // Reads the chunks after the image data, so a damaged trailer is caught too.
  png_read_end(png, NULL);

  free(rows);
  png_destroy_read_struct(&png, &info, NULL);
  out->width = width;
  out->height = height;
  out->channels = channels;
  out->bits_per_sample = bits;
  out->pixels = pixels;
  out->byte_count = (size_t)total;
  return CVA_STATUS_OK;
}

void cva_free(void *pointer) { free(pointer); }
