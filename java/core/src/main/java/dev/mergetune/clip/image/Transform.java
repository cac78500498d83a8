package dev.mergetune.clip.image;

import java.util.OptionalLong;

/**
 * An image preprocessing pipeline that ends in CLIP's ToTensor and Normalize: a decoded {@link PilImage} in, the
 * float32 CHW data of one 3 × {@link #size()} × {@link #size()} image out.
 *
 * <p>A random transform (training augmentation) draws its randomness from its own seed, the epoch and the index of
 * the sample in its dataset, and from nothing else: the same (seed, epoch, index) gives the same output in any thread,
 * in any order, on any machine, so a run and its resumed twin see identical augmentations. A deterministic transform
 * ({@link ClipImageTransform}) ignores epoch and index.
 *
 * <p>{@link #id()} names everything the output depends on (kind, size, parameters, seed) and goes into feature-cache
 * keys: two transforms with the same id give the same floats for the same image, epoch and index.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface Transform {
  /** What the transform computes, e.g. {@code eval:resize-crop:224} or {@code train:rrc:224:0.9-1.0:noflip:seed=42}. */
  String id();

  /** The output side: images are 3 × size × size. */
  int size();

  /** Floats per image: 3 · size². */
  default int floatsPerImage() {
    return 3 * size() * size();
  }

  /** Whether the output depends on (seed, epoch, index); false for evaluation transforms. */
  boolean isRandom();

  /** The seed of a random transform; empty for a deterministic one. */
  OptionalLong seed();

  /**
   * Writes the CHW floats of {@code image}, as transformed for sample {@code index} of its dataset in epoch
   * {@code epoch}, into {@code out} from {@code offset}.
   */
  void apply(PilImage image, long epoch, long index, float[] out, int offset);

  /** The CHW floats of {@code image} for sample {@code index} in epoch {@code epoch}. */
  default float[] apply(PilImage image, long epoch, long index) {
    float[] out = new float[floatsPerImage()];
    apply(image, epoch, index, out, 0);
    return out;
  }
}
