package dev.mergetune.eval;

import java.util.Locale;

/**
 * The three MTIL numbers of an accuracy matrix (methods.md §2.5), in the matrix's unit (percent in the papers):
 * Transfer (zero-shot transfer to datasets not yet trained on), Average (all entries) and Last (after the last
 * session). {@code taskAgnostic} labels a matrix whose every entry used aggregation; the formulas are the same.
 */
public record MtilMetrics(double transfer, double average, double last, boolean taskAgnostic) {
  /** "Transfer 69.4 / Average 65.3 / Last 65.3", one decimal as the papers print them. */
  public String numbers() {
    return String.format(Locale.ROOT, "Transfer %.1f / Average %.1f / Last %.1f", transfer, average, last);
  }

  /** {@link #numbers()}, with " (task-agnostic)" for a task-agnostic matrix. */
  @Override
  public String toString() {
    return numbers() + (taskAgnostic ? " (task-agnostic)" : "");
  }
}
