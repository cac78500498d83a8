package dev.mergetune.clip.image;

import dev.mergetune.kernels.NativeRuntime;
import org.bytedeco.pytorch.Tensor;

/**
 * One batch from a {@link DataLoader}: {@code count} images as float32 CHW data ({@code count · 3 · size²} floats,
 * image after image), their labels, and their positions in the dataset. Plain arrays, owned by the receiver; the
 * tensor views are copies made on demand.
 *
 * @param epoch the epoch it belongs to
 * @param number its position in the epoch, from 0
 * @param size the image side R
 * @param images the transformed images, [count, 3, R, R] flattened
 * @param labels the class labels, one per image
 * @param indices each image's index in the dataset's sample list
 */
public record LoadedBatch(long epoch, int number, int size, float[] images, int[] labels, int[] indices) {
  public LoadedBatch {
    if (labels.length != indices.length || (long) labels.length * 3 * size * size != images.length) {
      throw new IllegalArgumentException("inconsistent batch: " + images.length + " floats, " + labels.length
          + " labels, " + indices.length + " indices, size " + size);
    }
  }

  /** The number of images. */
  public int count() {
    return labels.length;
  }

  /**
   * The images as a new float32 CPU tensor [count, 3, R, R] (a copy, owned by the caller and attached to the
   * caller's innermost PointerScope if there is one).
   */
  public Tensor imagesTensor() {
    return ImageBatch.toTensor(images, count(), size);
  }

  /** The labels as a new int64 CPU tensor [count] (a copy, like {@link #imagesTensor()}). */
  public Tensor labelsTensor() {
    NativeRuntime.ensureTorch();
    long[] wide = new long[labels.length];
    for (int i = 0; i < wide.length; i++) wide[i] = labels[i];
    return Tensor.create(wide, wide.length);
  }
}
