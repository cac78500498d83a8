package dev.mergetune.world;

/**
 * The size knobs of a generated world. Defaults keep the later demo within minutes on two cores.
 *
 * @param seed everything is drawn from it
 * @param imageSize image side in pixels (32–64)
 * @param pretrainPairs (image, caption) pairs of the pre-training split
 * @param zeroShotPerClass images per shape × colour class of the zero-shot evaluation set (all 64 classes)
 * @param trainPerClass images per class of each downstream dataset's train split
 * @param valPerClass the same for val
 * @param testPerClass the same for test, and for each domain-shifted test set
 * @param contextLength the text context the world's captions and prompts are checked to fit (start/end included)
 */
public record WorldSpec(long seed, int imageSize, int pretrainPairs, int zeroShotPerClass, int trainPerClass,
    int valPerClass, int testPerClass, int contextLength) {
  public static final int DEFAULT_IMAGE_SIZE = 32;
  public static final int DEFAULT_PRETRAIN_PAIRS = 6000;
  public static final int DEFAULT_ZERO_SHOT_PER_CLASS = 24;
  public static final int DEFAULT_TRAIN_PER_CLASS = 16;
  public static final int DEFAULT_VAL_PER_CLASS = 4;
  public static final int DEFAULT_TEST_PER_CLASS = 32;
  public static final int DEFAULT_CONTEXT_LENGTH = 20;

  public WorldSpec {
    if (imageSize < 32 || imageSize > 64) throw new IllegalArgumentException("--image-size must be in 32..64, got " + imageSize);
    if (pretrainPairs < 1) throw new IllegalArgumentException("--pretrain-pairs must be positive, got " + pretrainPairs);
    if (zeroShotPerClass < 1) throw new IllegalArgumentException("--zeroshot-per-class must be positive, got " + zeroShotPerClass);
    if (trainPerClass < 1) throw new IllegalArgumentException("--train-per-class must be positive, got " + trainPerClass);
    if (valPerClass < 1) throw new IllegalArgumentException("--val-per-class must be positive, got " + valPerClass);
    if (testPerClass < 1) throw new IllegalArgumentException("--test-per-class must be positive, got " + testPerClass);
    if (contextLength < 12 || contextLength > 77) {
      throw new IllegalArgumentException("--context must be in 12..77, got " + contextLength);
    }
  }

  public static WorldSpec defaults(long seed) {
    return new WorldSpec(seed, DEFAULT_IMAGE_SIZE, DEFAULT_PRETRAIN_PAIRS, DEFAULT_ZERO_SHOT_PER_CLASS,
        DEFAULT_TRAIN_PER_CLASS, DEFAULT_VAL_PER_CLASS, DEFAULT_TEST_PER_CLASS, DEFAULT_CONTEXT_LENGTH);
  }
}
