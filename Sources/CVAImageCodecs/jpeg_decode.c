#include <stdio.h>  // jpeglib.h needs FILE and size_t declared first
#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

// libjpeg's error manager plus the jump target its error_exit returns to.
typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  int32_t status;
  int32_t accept_partial;
  uint32_t warnings;
  char *message;
} jpeg_error_sink;

static void on_jpeg_error(j_common_ptr cinfo) {
  jpeg_error_sink *sink = (jpeg_error_sink *)cinfo->err;
  char text[JMSG_LENGTH_MAX];
  sink->base.format_message(cinfo, text);
  cva_set_message(sink->message, "%s", text);
  if (sink->status == CVA_STATUS_OK) sink->status = CVA_STATUS_CORRUPT;
  longjmp(sink->jump, 1);
}

// Warnings (level -1) mean damaged data: libjpeg fills a truncated scan with grey and goes
// on. They abort the decode unless the caller accepts partial images. Trace messages
// (level >= 0) are ignored. Nothing is ever printed.
static void on_jpeg_message(j_common_ptr cinfo, int level) {
  jpeg_error_sink *sink = (jpeg_error_sink *)cinfo->err;
  if (level >= 0) return;
  sink->warnings += 1;
  if (sink->accept_partial) return;
  char text[JMSG_LENGTH_MAX];
  sink->base.format_message(cinfo, text);
  cva_set_message(sink->message, "%s", text);
  sink->status = sink->base.msg_code == JWRN_JPEG_EOF ? CVA_STATUS_TRUNCATED : CVA_STATUS_CORRUPT;
  longjmp(sink->jump, 1);
}

static void silence_output(j_common_ptr cinfo) { (void)cinfo; }

// CMYK from libjpeg to RGB. Adobe's files store inverted CMYK (0 = full ink), which is the
// common case; without the Adobe marker the samples are plain CMYK.
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t width, int inverted) {
  for (size_t x = 0; x < width; x++) {
    unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
    if (!inverted) {
      c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
    }
    rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
    rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
    rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
  }
}

int32_t cva_jpeg_decode(const uint8_t *data, size_t size, const cva_limits *limits,
                        cva_image *out, char *message) {
  memset(out, 0, sizeof *out);
  struct jpeg_decompress_struct cinfo;
  jpeg_error_sink sink;
  memset(&sink, 0, sizeof sink);
  sink.message = message;
  sink.accept_partial = limits->accept_partial;
  cinfo.err = jpeg_std_error(&sink.base);
  sink.base.error_exit = on_jpeg_error;
  sink.base.emit_message = on_jpeg_message;
  sink.base.output_message = silence_output;

  uint8_t *volatile pixels = NULL;
  uint8_t *volatile row = NULL;
  if (setjmp(sink.jump)) {
    free(pixels);
    free(row);
    jpeg_destroy_decompress(&cinfo);
    return sink.status == CVA_STATUS_OK ? CVA_STATUS_CORRUPT : sink.status;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);

  if (cinfo.num_components > 4 || cinfo.num_components == 2) {
    cva_set_message(message, "%d colour components are not supported", cinfo.num_components);
    sink.status = CVA_STATUS_UNSUPPORTED;
    longjmp(sink.jump, 1);
  }
  if ((uint64_t)cinfo.image_width * cinfo.image_height > limits->max_pixels ||
      cinfo.image_width > limits->max_side || cinfo.image_height > limits->max_side) {
    cva_set_message(message, "image is %ux%u pixels, over the limit", cinfo.image_width, cinfo.image_height);
    sink.status = CVA_STATUS_TOO_LARGE;
    longjmp(sink.jump, 1);
  }
  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  cinfo.out_color_space = cmyk ? JCS_CMYK : gray ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  uint32_t channels = gray ? 1 : 3;
  uint64_t total = (uint64_t)cinfo.image_width * cinfo.image_height * channels;
  if (total > limits->max_decoded_bytes) {
    cva_set_message(message, "decoded image would take %llu bytes, over the limit", (unsigned long long)total);
    sink.status = CVA_STATUS_TOO_LARGE;
    longjmp(sink.jump, 1);
  }

  jpeg_start_decompress(&cinfo);
  size_t width = cinfo.output_width;
  size_t stride = width * channels;
  pixels = malloc((size_t)total ? (size_t)total : 1);
  row = malloc(width * (size_t)cinfo.output_components);
  if (!pixels || !row) {
    cva_set_message(message, "out of memory");
    sink.status = CVA_STATUS_NO_MEMORY;
    longjmp(sink.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    JSAMPROW target = cmyk ? row : (JSAMPROW)(pixels + y * stride);
    jpeg_read_scanlines(&cinfo, &target, 1);
    if (cmyk) cmyk_row_to_rgb(row, pixels + y * stride, width, cinfo.saw_Adobe_marker);
  }
  jpeg_finish_decompress(&cinfo);

  out->width = cinfo.output_width;
  out->height = cinfo.output_height;
  out->channels = channels;
  out->bits_per_sample = 8;
  out->pixels = pixels;
  out->byte_count = (size_t)total;
  out->warnings = sink.warnings;
  free(row);
  jpeg_destroy_decompress(&cinfo);
  return CVA_STATUS_OK;
}
