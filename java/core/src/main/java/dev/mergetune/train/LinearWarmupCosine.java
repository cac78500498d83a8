package dev.mergetune.train;

/**
 * Linear warm-up then cosine decay to 0, per optimizer step: the {@code cosine_lr} of wise-ft ({@code
 * src/models/utils.py}), used by ZSCL and ConDU (100 warm-up steps, 1000 in all).
 *
 * <pre>
 *   step &lt; warmup:  lr = base · (step + 1) / warmup
 *   otherwise:       lr = 0.5 · (1 + cos(π · e / es)) · base,   e = step − warmup, es = total − warmup
 * </pre>
 *
 * The warm-up never reaches 0 (step 0 already gets base/warmup) and the first cosine step gets exactly base. With
 * {@code warmup = 0} the warm-up branch is never taken. Steps past {@code total} follow the same formula (the cosine
 * rises again), as wise-ft's does; a loop should stop at {@code total}.
 */
public record LinearWarmupCosine(double base, long warmup, long total) implements LrSchedule {
  public LinearWarmupCosine {
    if (warmup < 0 || total <= warmup) {
      throw new IllegalArgumentException("need 0 <= warmup < total, got warmup " + warmup + ", total " + total);
    }
  }

  @Override
  public double lr(long step) {
    if (step < 0) throw new IllegalArgumentException("step must be non-negative, got " + step);
    if (step < warmup) return base * (step + 1) / warmup;
    long e = step - warmup;
    long es = total - warmup;
    return 0.5 * (1 + Math.cos(Math.PI * e / es)) * base;
  }
}
