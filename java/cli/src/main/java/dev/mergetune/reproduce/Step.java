package dev.mergetune.reproduce;

import java.io.IOException;

/** One step of a cell: a command of the tool run in this process, or an evaluation the tool has no command for. */
public interface Step {
  /** The exact command line (`mergetune ...`) or, for an in-process evaluation, what it computes. */
  String command();

  /** Runs it, skipping what is already finished on disk. */
  void run(StepContext ctx) throws IOException;
}
