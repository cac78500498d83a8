package dev.mergetune.merge.mergekit;

import java.util.List;

/**
 * One mergekit parameter value (mergekit/config.py, evaluate_setting): a scalar, or a list of conditions
 * {@code {filter, value}} of which the first whose filter is absent, "*", or a substring of the tensor's name
 * gives the value. When no condition matches, the parameter falls through to the next level (the global
 * {@code parameters:}, then the method's default), as in mergekit. Gradients (lists of numbers interpolated over
 * the layers) are refused when the file is read.
 */
public sealed interface ParameterSetting {
  /** The value for tensor {@code tensor}, or null when no condition matches. */
  Object valueFor(String tensor);

  record Scalar(Object value) implements ParameterSetting {
    @Override
    public Object valueFor(String tensor) {
      return value;
    }
  }

  record Conditional(String filter, Object value) {}

  record Conditions(List<Conditional> conditions) implements ParameterSetting {
    @Override
    public Object valueFor(String tensor) {
      for (Conditional c : conditions) {
        if (c.filter() == null || c.filter().equals("*") || tensor.contains(c.filter())) return c.value();
      }
      return null;
    }
  }
}
