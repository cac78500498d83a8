package dev.mergetune.data;

/**
 * Whether a source checks, when it loads a dataset, that every image file exists. {@link #EAGER} (the default of
 * every source) fails at once with a {@link DatasetException} naming the missing files; {@link #SKIP} leaves it to
 * whoever opens the images (useful on slow network file systems, with {@link Dataset#requireFilesExist()} to check
 * later).
 */
public enum FileCheck {
  EAGER, SKIP;

  Dataset apply(Dataset d) {
    return this == EAGER ? d.requireFilesExist() : d;
  }
}
