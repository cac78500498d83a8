package dev.mergetune.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * What {@link TrainingLoop} steps: a LibTorch optimizer ({@link Optimizers.Named}) or a fused one of our own (e.g.
 * MergeTune's anchored SGD/AdamW), over the method's trainable tensors in order.
 */
public interface StepOptimizer {
  /** The parameters it updates, in the order of the method's trainable tensors. */
  List<Tensor> parameters();

  /** The learning rate of the next steps (the loop sets it before each step). */
  void setLearningRate(double lr);

  /** Clears the parameters' gradients before a step's backward pass. */
  void zeroGrad();

  /** One update from the parameters' gradients. */
  void step();

  /** Writes the optimizer's state (moments, step count) to {@code file}, which a checkpoint then renames. */
  void saveState(Path file) throws IOException;

  /** Restores a state written by {@link #saveState} into an optimizer built over the same parameters. */
  void loadState(Path file) throws IOException;
}
