#ifndef CVAIMAGECODECS_H
#define CVAIMAGECODECS_H
// C shim over libpng and libjpeg-turbo. Provides no stable Swift API: VAImageIO wraps it.
// Every exported symbol carries the `cva_` prefix (constants `CVA_`), shared with CVAKernels.
//
// Every libpng/libjpeg call and callback lives inside one function of this shim, so the
// libraries' setjmp/longjmp error handling never crosses a Swift frame. Each function
// returns a status (one of the CVA_STATUS_* constants) and, on failure, a message in the
// caller's `message` buffer. The libraries never print anything.
//
// Ownership: pixel and byte buffers returned through `cva_image.pixels` or
// `cva_buffer.bytes` are allocated with malloc by the shim; release them with cva_free.
#include <stddef.h>
#include <stdint.h>

// Status codes. `static const` rather than macros so Swift imports them as typed constants.
static const int32_t CVA_STATUS_OK = 0;
static const int32_t CVA_STATUS_CORRUPT = 1;      // the data violates the format
static const int32_t CVA_STATUS_TRUNCATED = 2;    // the data ends early
static const int32_t CVA_STATUS_UNSUPPORTED = 3;  // valid, but a variant we refuse
static const int32_t CVA_STATUS_TOO_LARGE = 4;    // over a limit in cva_limits
static const int32_t CVA_STATUS_NO_MEMORY = 5;    // allocation failed
static const int32_t CVA_STATUS_FAILED = 6;       // anything else (encoder errors)

/// Size of the message buffer every call fills on failure.
static const int32_t CVA_MESSAGE_CAPACITY = 256;

/// Limits checked before any large allocation.
typedef struct {
  uint64_t max_pixels;        // width * height
  uint32_t max_side;          // width and height each
  uint64_t max_decoded_bytes; // width * height * channels * bytes per sample
  uint32_t max_scans;         // JPEG scans (progressive files)
  int32_t accept_partial;     // non-zero: a truncated JPEG decodes with libjpeg's grey fill
} cva_limits;

/// A decoded image: interleaved samples, rows top to bottom.
typedef struct {
  uint32_t width;
  uint32_t height;
  uint32_t channels;       // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  uint32_t bits_per_sample;// 8 or 16 (16-bit samples in host byte order)
  void *pixels;            // malloc'd; free with cva_free
  size_t byte_count;
  uint32_t warnings;       // warnings the library raised (JPEG), for the partial mode
} cva_image;

/// A byte buffer produced by an encoder.
typedef struct {
  uint8_t *bytes;          // malloc'd; free with cva_free
  size_t count;
} cva_buffer;

/// Decodes a PNG held in memory with libpng's low-level API: palette, low-bit gray and
/// tRNS are expanded (png_set_expand), interlacing is undone, no gamma is applied.
/// `keep16`: 0 strips 16-bit samples to 8 (png_set_strip_16); 1 keeps them.
int32_t cva_png_decode(const uint8_t *data, size_t size, const cva_limits *limits,
                       int32_t keep16, cva_image *out, char *message);

/// Decodes a JPEG held in memory to 8-bit gray (1 channel) or RGB (3 channels), islow DCT,
/// fancy upsampling; CMYK and YCCK (Adobe inverted or not) are converted to RGB.
/// Warnings are errors unless `limits->accept_partial` is set.
int32_t cva_jpeg_decode(const uint8_t *data, size_t size, const cva_limits *limits,
                        cva_image *out, char *message);

/// Encodes 8-bit interleaved pixels (1 to 4 channels) as a PNG with optional tEXt chunks.
/// `keys[i]`/`values[i]` are NUL-terminated Latin-1 strings; keys are 1-79 bytes.
/// `level` is zlib's compression level, 0 (store) to 9 (smallest); 6 is zlib's default.
int32_t cva_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height,
                       uint32_t channels, const char *const *keys,
                       const char *const *values, size_t text_count, int32_t level,
                       cva_buffer *out, char *message);

/// Releases a buffer returned by this shim.
void cva_free(void *pointer);

#endif
