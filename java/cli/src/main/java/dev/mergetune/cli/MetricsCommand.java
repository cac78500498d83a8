package dev.mergetune.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mergetune metrics mtil|b2n}: the papers' metrics from result files, optionally as a report folder. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "metrics", description = "Evaluation metrics from result files: MTIL Transfer / Average / Last, "
    + "base-to-novel HM; optionally a report folder (JSON, Markdown, PNG plots).",
    subcommands = {MetricsMtilCommand.class, MetricsB2nCommand.class})
final class MetricsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Reads an input file; a missing or unreadable file becomes a one-line error. */
  @FunctionalInterface
  interface Reader<T> {
    T read(Path file) throws IOException;
  }

  static <T> T read(Path file, Reader<T> reader) {
    try {
      return reader.read(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(file + ": permission denied");
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
    }
  }
}
