package dev.mergetune.progress;

/** One task of a {@link Progress}: stepped as work is done, closed when it ends (also on failure). */
public interface ProgressTask extends AutoCloseable {
  /** {@code n} more units done. */
  void step(long n);

  /** Sets the units done so far (a resumed run starts past zero). */
  void stepTo(long done);

  /** A short status shown beside the count, e.g. "loss 0.4123 lr 2.0e-03"; may be ignored. */
  void status(String message);

  @Override
  void close();
}
