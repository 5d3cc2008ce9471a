#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

typedef struct {
  uint8_t *bytes;
  size_t count;
  size_t capacity;
  int failed;
  char *message;
} png_writer;

static void write_bytes(png_structp png, png_bytep data, size_t count) {
  png_writer *writer = (png_writer *)png_get_io_ptr(png);
  if (count > writer->capacity - writer->count) {
    size_t capacity = writer->capacity ? writer->capacity : 4096;
    while (capacity - writer->count < count) capacity *= 2;
    uint8_t *grown = realloc(writer->bytes, capacity);
    if (!grown) png_error(png, "out of memory");
    writer->bytes = grown;
    writer->capacity = capacity;
  }
  memcpy(writer->bytes + writer->count, data, count);
  writer->count += count;
}

static void flush_bytes(png_structp png) { (void)png; }

static void on_encode_error(png_structp png, png_const_charp text) {
  png_writer *writer = (png_writer *)png_get_error_ptr(png);
  writer->failed = 1;
  cva_set_message(writer->message, "%s", text);
  png_longjmp(png, 1);
}

static void on_encode_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

int32_t cva_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, const char *const *keys,
                       const char *const *values, size_t text_count, int32_t level,
                       cva_buffer *out, char *message) {
  static const int color_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                    PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  memset(out, 0, sizeof *out);
  if (channels < 1 || channels > 4 || width == 0 || height == 0) {
    cva_set_message(message, "cannot encode %ux%u pixels with %u channels", width, height, channels);
    return CVA_STATUS_FAILED;
  }
  png_writer writer = {NULL, 0, 0, 0, message};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, on_encode_error, on_encode_warning);
  if (!png) {
    cva_set_message(message, "out of memory");
    return CVA_STATUS_NO_MEMORY;
  }
  png_infop info = png_create_info_struct(png);
  png_bytep *volatile rows = NULL;
  png_textp volatile texts = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    free(rows);
    free(texts);
    free(writer.bytes);
    png_destroy_write_struct(&png, info ? &info : NULL);
    if (!info) cva_set_message(message, "out of memory");
    return info ? CVA_STATUS_FAILED : CVA_STATUS_NO_MEMORY;
  }
  png_set_write_fn(png, &writer, write_bytes, flush_bytes);
  png_set_compression_level(png, level < 0 ? 0 : level > 9 ? 9 : level);
  png_set_IHDR(png, info, width, height, 8, color_types[channels - 1], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (text_count > 0) {
    texts = calloc(text_count, sizeof(png_text));
    if (!texts) png_error(png, "out of memory");
    for (size_t i = 0; i < text_count; i++) {
      size_t length = strlen(values[i]);
      // Values arrive as UTF-8. tEXt holds Latin-1, so ASCII goes there (every reader shows
      // it) and anything else in an uncompressed iTXt chunk, whose text is UTF-8.
      int ascii = 1;
      for (size_t j = 0; j < length; j++) ascii &= ((unsigned char)values[i][j] < 0x80);
      texts[i].key = (png_charp)keys[i];
      texts[i].text = (png_charp)values[i];
      if (ascii) {
        texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
        texts[i].text_length = length;
      } else {
        texts[i].compression = PNG_ITXT_COMPRESSION_NONE;
        texts[i].itxt_length = length;
        texts[i].lang = NULL;
        texts[i].lang_key = NULL;
      }
    }
    png_set_text(png, info, texts, (int)text_count);
  }
  png_write_info(png, info);
  rows = malloc(sizeof(png_bytep) * height);
  if (!rows) png_error(png, "out of memory");
  size_t stride = (size_t)width * channels;
  for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * stride);
  png_write_image(png, rows);
  png_write_end(png, info);
  free(rows);
  free(texts);
  png_destroy_write_struct(&png, &info);
  out->bytes = writer.bytes;
  out->count = writer.count;
  return CVA_STATUS_OK;
}
