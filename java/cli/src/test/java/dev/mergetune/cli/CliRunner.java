package dev.mergetune.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the CLI in-process as {@code ./mergetune} would, capturing stdout and stderr together. */
final class CliRunner {
  record Result(int exitCode, String out) {}

  private CliRunner() {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cli = MergetuneCli.configure(new CommandLine(new MergetuneCli()));
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(out));
    int code = cli.execute(args);
    return new Result(code, out.toString());
  }
}
