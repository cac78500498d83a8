package dev.mergetune.data;

import java.nio.file.Path;
import java.util.Objects;

/** One labelled image: the path of the image file and the index of its class in the dataset's class list. */
public record Sample(Path image, int label) {
  public Sample {
    Objects.requireNonNull(image, "image");
    if (label < 0) throw new IllegalArgumentException("negative label " + label + " for " + image);
  }
}
