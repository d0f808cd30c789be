/* Fuzz target of image decoding (JPEG / PNG by magic bytes). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "scorr/error.h"
#include "scorr/image.h"

int fuzz_image(const uint8_t *data, size_t size)
{
    char path[4096];
    struct scorr_image img = {0};
    fuzz_write("image.bin", data, size, path);
    int err = scorr_image_load(path, &img);
    fuzz_check_rejection(err, path, "image");
    if (!err) {
        if (img.width <= 0 || img.height <= 0 || !img.pixels) abort();
        /* Touch every byte the decoder claims to have written. */
        volatile unsigned sum = 0;
        for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++) sum += img.pixels[i];
        (void)sum;
    } else if (img.pixels) {
        abort(); /* the header promises an empty image on error */
    }
    scorr_image_free(&img);
    return 0;
}
