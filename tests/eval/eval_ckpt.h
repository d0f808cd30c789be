/* Tiny checkpoints for the program tests: a ResNet-18 of width 4 with a
 * 3 x 3 SCE of 16 channels, random weights (network A seed 11, the peer 12). */
#ifndef SCORR_EVAL_CKPT_H
#define SCORR_EVAL_CKPT_H

/* Write a checkpoint at path: variant baseline | st | mt, images of
 * image_size, with the peer network (mt step checkpoints) or without (any
 * best.h5), best_peer as meta.best_peer, data as data.file. */
int evt_write_ckpt(const char *path, const char *variant, int image_size, int with_peer,
                   int best_peer, const char *data);

#endif
