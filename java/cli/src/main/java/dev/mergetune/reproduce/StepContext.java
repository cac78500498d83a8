package dev.mergetune.reproduce;

import java.io.PrintWriter;
import java.util.List;

/** Where steps run: the reproduction's options, its log, and how a command line of the tool is executed. */
public record StepContext(ReproOptions options, PrintWriter log, CommandRunner runner) {
  /** Executes a command line of the tool (without the leading "mergetune") and returns its exit code. */
  @FunctionalInterface
  public interface CommandRunner {
    int run(List<String> args, PrintWriter log);
  }
}
