package dev.mergetune.distributed;

/**
 * A data-parallel job could not start or go on: a rendezvous that did not complete, a backend that cannot run here, a
 * rank that died ({@link WorkerFailedException}) or a step rank 0 failed. The message says which rank and what to
 * check; the command line prints it as one line.
 */
public class DistributedException extends RuntimeException {
  public DistributedException(String message, Throwable cause) {
    super(message, cause);
  }

  public DistributedException(String message) {
    super(message);
  }
}
