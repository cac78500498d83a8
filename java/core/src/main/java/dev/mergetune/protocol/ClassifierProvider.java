package dev.mergetune.protocol;

import java.nio.file.Path;

/**
 * Opens the classifier stored in a checkpoint: the protocols name checkpoints (one model, or one per MTIL session)
 * and ask this for the classifier to evaluate. {@link ZeroShotClip#provider} reads CLIP checkpoints.
 */
@FunctionalInterface
public interface ClassifierProvider {
  Classifier open(Path checkpoint);
}
