"""Writes ImageIO's reference fixtures into Tests/VAImageIOTests/Fixtures/generated.

Regenerate: python3 Scripts/reference/image_fixtures.py   (Pillow 13, pypng 0.20)

- png16_samples.txt: CRC32 of the exact 16-bit samples (little-endian uint16, channels as
  stored) of every 16-bit PngSuite file without tRNS, decoded by pypng (pure Python,
  independent of libpng).
- jpeg/*.jpg: small JPEG variants cut from images/cat.png (4:2:0, 4:2:2, 4:4:4,
  progressive, restart markers, grayscale, Adobe CMYK, EXIF orientations 1-8, truncated
  copies), and jpeg_reference.txt: size, channels and CRC32 of the pixels Pillow decodes
  for each, after ImageOps.exif_transpose (Pillow's bundled libjpeg-turbo gives the same
  pixels as the system's: islow DCT, fancy upsampling). cmyk_reference.png is Pillow's
  RGB conversion of the CMYK file; cmyk_ink.jpg adds black ink (K a ramp down the rows),
  with Pillow's RGB in cmyk_ink_reference.png.
- resize/*.png: Pillow's Image.resize of cat.png and of a crop, BILINEAR and BICUBIC.
"""
import io, os, zlib, glob
import numpy as np
import png  # pypng
from PIL import Image, ImageOps

root = os.path.join(os.path.dirname(__file__), '..', '..')
fixtures = os.path.join(root, 'Tests', 'VAImageIOTests', 'Fixtures')
out = os.path.join(fixtures, 'generated')
os.makedirs(os.path.join(out, 'jpeg'), exist_ok=True)
os.makedirs(os.path.join(out, 'resize'), exist_ok=True)

# 16-bit PNG samples, exact.
lines = []
for path in sorted(glob.glob(os.path.join(fixtures, 'pngsuite', '[!x]*.png'))):
    width, height, rows, info = png.Reader(filename=path).read()
    if info['bitdepth'] != 16 or 'transparent' in info:
        continue
    samples = np.array([list(r) for r in rows], dtype='<u2')
    lines.append(f"{os.path.basename(path)}: {width} {height} {info['planes']} {zlib.crc32(samples.tobytes())}")
open(os.path.join(out, 'png16_samples.txt'), 'w').write('\n'.join(lines) + '\n')

# JPEG variants.
cat = Image.open(os.path.join(root, 'images', 'cat.png')).convert('RGB').crop((120, 60, 120 + 72, 60 + 40))
files = {}
def save(name, image, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, 'JPEG', quality=90, **kwargs)
    files[name] = buffer.getvalue()
save('q420.jpg', cat, subsampling='4:2:0')
save('q422.jpg', cat, subsampling='4:2:2')
save('q444.jpg', cat, subsampling='4:4:4')
save('progressive.jpg', cat, progressive=True)
save('restart.jpg', cat, restart_marker_rows=1)
assert b'\xff\xdd' in files['restart.jpg'], 'no DRI marker'
save('gray.jpg', cat.convert('L'))
save('cmyk.jpg', cat.convert('CMYK'))
for orientation in range(1, 9):
    exif = Image.Exif(); exif[0x0112] = orientation
    save(f'orientation{orientation}.jpg', cat, exif=exif.tobytes())
for name, data in files.items():
    open(os.path.join(out, 'jpeg', name), 'wb').write(data)
# Adobe CMYK with black ink too (cat.convert('CMYK') has K = 0 everywhere): C, M, Y from the
# cat, K a ramp from 0 to 255 down the rows, and Pillow's RGB conversion beside it.
ink = np.asarray(cat.convert('CMYK')).copy()
ink[..., 3] = np.linspace(0, 255, cat.height).round().astype(np.uint8)[:, None]
inked = io.BytesIO()
Image.fromarray(ink, 'CMYK').save(inked, 'JPEG', quality=90)
open(os.path.join(out, 'jpeg', 'cmyk_ink.jpg'), 'wb').write(inked.getvalue())
Image.open(io.BytesIO(inked.getvalue())).convert('RGB').save(os.path.join(out, 'jpeg', 'cmyk_ink_reference.png'))
# Truncated copies of the baseline and progressive files.
for name in ('q420.jpg', 'progressive.jpg'):
    data = files[name]
    for percent in (30, 60, 95):
        open(os.path.join(out, 'jpeg', f'truncated{percent}_{name}'), 'wb').write(data[:len(data) * percent // 100])

lines = []
for name in sorted(files):
    im = ImageOps.exif_transpose(Image.open(io.BytesIO(files[name])))
    if im.mode == 'CMYK':
        im = im.convert('RGB')
        im.save(os.path.join(out, 'jpeg', 'cmyk_reference.png'))
    pixels = np.asarray(im)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    lines.append(f"{name}: {im.width} {im.height} {channels} {zlib.crc32(pixels.tobytes())}")
open(os.path.join(out, 'jpeg_reference.txt'), 'w').write('\n'.join(lines) + '\n')

# Resize references (lossless PNG).
full = Image.open(os.path.join(root, 'images', 'cat.png')).convert('RGB')
small = full.crop((150, 80, 150 + 60, 80 + 40))
small.save(os.path.join(out, 'resize', 'crop_source.png'))
cases = [('cat', full, (200, 133)), ('cat', full, (97, 61)), ('cat', full, (451, 150)), ('cat', full, (434, 175)), ('cat', full, (543, 268)),
         ('crop', small, (150, 100)), ('crop', small, (131, 37))]
for filter_name, resample in (('bilinear', Image.BILINEAR), ('bicubic', Image.BICUBIC)):
    for source, image, size in cases:
        image.resize(size, resample).save(os.path.join(out, 'resize', f'{source}_{filter_name}_{size[0]}x{size[1]}.png'))
print('wrote', out)
