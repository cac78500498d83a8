package dev.mergetune.tensors;

import java.util.List;

/** Inputs of a merge disagree on keys, shapes or dtypes; {@link #problems()} lists every difference. */
public final class LayoutMismatchException extends IllegalArgumentException {
  private final List<String> problems;

  public LayoutMismatchException(List<String> problems, String message) {
    super(message);
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
