package dev.mergetune.train;

import dev.mergetune.tensors.NamedTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
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

  /**
   * The loss of this rank's {@code shard} of the step's {@code globalBatch} (data parallelism: the shards of all ranks
   * make up the global batch, which is {@code batch} of a single-process run). Methods whose random draws depend on the
   * batch (sampled α points) draw them from the global batch, so every rank draws the same; a method whose loss
   * couples the items of a batch (CLIP's contrastive loss) gathers the other shards itself. By default, the shard's
   * {@link #loss(int[], long)}.
   */
  default Tensor loss(int[] shard, int[] globalBatch, long epoch) {
    return loss(shard, epoch);
  }

  /** Validation accuracy in [0, 1] (called without gradients). */
  double evaluate();

  /** Writes the trainable tensors as a float32 safetensors file. */
  default void save(Path file) throws IOException {
    NamedTensors.save(file, trainable(), Map.of("format", "mergetune-trainable"));
  }

  /** Copies a file written by {@link #save} into the trainable tensors, in place; names and shapes must match. */
  default void load(Path file) {
    NamedTensors.load(file, trainable());
  }
}
