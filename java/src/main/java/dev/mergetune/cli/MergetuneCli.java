package dev.mergetune.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./mergetune <command>}: the one entry point of the command-line tool. */
@Command(
    name = "mergetune",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Continued fine-tuning, continual unification and merging of CLIP models, on the JVM.",
    subcommands = {InfoCommand.class, SelfcheckCommand.class, CommandLine.HelpCommand.class})
public final class MergetuneCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    return new CommandLine(new MergetuneCli()).execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
