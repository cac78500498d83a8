package dev.mergetune.condu;

import java.util.List;

/**
 * One task's class prototypes (methods.md §2.4): row k of {@code values} ([classes, dim], row-major) is the prototype
 * of {@code classNames.get(k)}.
 */
public record Prototypes(List<String> classNames, int dim, float[] values) {
  public Prototypes {
    classNames = List.copyOf(classNames);
    if (dim < 1) throw new IllegalArgumentException("prototype dimension must be positive, got " + dim);
    if ((long) classNames.size() * dim != values.length) {
      throw new IllegalArgumentException("prototypes: " + classNames.size() + " classes x " + dim + " = "
          + (long) classNames.size() * dim + " values expected, got " + values.length);
    }
    values = values.clone();
  }

  public int classes() {
    return classNames.size();
  }

  @Override
  public float[] values() {
    return values.clone();
  }
}
