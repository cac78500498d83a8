package dev.mergetune.distributed;

import java.util.List;

/**
 * A collective of a data-parallel job failed because one or more other ranks died or stopped responding; the message
 * names them (or says that none could be told apart from the failure itself).
 */
public final class WorkerFailedException extends DistributedException {
  private final List<Integer> failedRanks;

  public WorkerFailedException(String message, List<Integer> failedRanks, Throwable cause) {
    super(message, cause);
    this.failedRanks = List.copyOf(failedRanks);
  }

  /** The ranks found dead or silent (empty when none could be identified). */
  public List<Integer> failedRanks() {
    return failedRanks;
  }
}
