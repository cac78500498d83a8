package dev.mergetune.data;

import java.util.Locale;

/** The three splits of a classification dataset, named as in CoOp's split files ({@code "train"}, ...). */
public enum Split {
  TRAIN, VAL, TEST;

  /** The lower-case name used in split files and configs. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code train}, {@code val} or {@code test} (any case). */
  public static Split parse(String s) {
    for (Split v : values()) if (v.key().equalsIgnoreCase(s.strip())) return v;
    throw new IllegalArgumentException("unknown split '" + s + "' (train, val or test)");
  }
}
