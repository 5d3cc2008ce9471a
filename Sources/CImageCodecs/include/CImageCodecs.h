#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H
// C shim over libpng and libjpeg-turbo. Provides no stable Swift API: ImageIO wraps it.
int cic_placeholder(void);
#endif
