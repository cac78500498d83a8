package dev.mergetune.train;

import dev.mergetune.tensors.DType;
import dev.mergetune.tensors.SafetensorsFile;
import dev.mergetune.tensors.SafetensorsWriter;
import dev.mergetune.tensors.TensorSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * What {@link TrainingLoop} trains: a set of named trainable tensors (CPU float32 leaves with {@code requires_grad}),
 * a differentiable loss over a batch of training items, and a validation accuracy.
 */
public interface TrainableMethod {
  /** The trainable tensors by name, in a fixed order (the optimizer and checkpoints rely on it). Same tensors each call. */
  Map<String, Tensor> trainable();

  /** The number of training items; batches are index sets into 0 … trainSize() − 1. */
  int trainSize();

  /**
   * The mean loss over the items {@code batch} (indices into the training set), recorded by autograd. {@code epoch}
   * is the loop's epoch (the step divided by the steps per epoch): random augmentations draw from (seed, epoch,
   * index), so a resumed run sees the same images as an uninterrupted one.
   */
  Tensor loss(int[] batch, long epoch);

  /** Validation accuracy in [0, 1] (called without gradients). */
  double evaluate();

  /** Writes the trainable tensors as a float32 safetensors file. */
  default void save(Path file) throws IOException {
    List<TensorSource> out = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : trainable().entrySet()) {
      Tensor t = e.getValue().detach().contiguous();
      float[] v = new float[Math.toIntExact(t.numel())];
      t.data_ptr_float().get(v);
      out.add(TensorSource.ofFloats(e.getKey(), t.sizes().vec().get(), v, DType.F32));
    }
    SafetensorsWriter.write(file, out, Map.of("format", "mergetune-trainable"));
  }

  /** Copies a file written by {@link #save} into the trainable tensors, in place; names and shapes must match. */
  default void load(Path file) {
    try (SafetensorsFile f = SafetensorsFile.open(file); NoGradGuard g = new NoGradGuard()) {
      if (!f.tensors().keySet().equals(trainable().keySet())) {
        throw new IllegalArgumentException(file + " holds " + f.tensors().keySet() + ", the method trains "
            + trainable().keySet());
      }
      for (Map.Entry<String, Tensor> e : trainable().entrySet()) {
        long[] shape = f.info(e.getKey()).shape();
        if (!java.util.Arrays.equals(shape, e.getValue().sizes().vec().get())) {
          throw new IllegalArgumentException(file + ": shape mismatch for '" + e.getKey() + "'");
        }
        e.getValue().copy_(Tensor.create(f.readFloats(e.getKey()), shape));
      }
    }
  }
}
