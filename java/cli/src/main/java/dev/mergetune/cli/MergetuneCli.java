package dev.mergetune.cli;

import dev.mergetune.data.DatasetException;
import dev.mergetune.kernels.KernelException;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.RuntimeSettings;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./mergetune <command>}: the one entry point of the command-line tool. */
@Command(
    name = "mergetune",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Continued fine-tuning, continual unification and merging of CLIP models, on the JVM.",
    subcommands = {InfoCommand.class, SelfcheckCommand.class, InspectCommand.class, MergeCommand.class, ConvertCommand.class,
        TokenizeCommand.class, EmbedCommand.class, ZeroshotCommand.class, EvalCommand.class, PathCommand.class,
        TrainCommand.class, ContinueCommand.class, ConduCommand.class, WorldCommand.class, PretrainCommand.class,
        DemoCommand.class,
        MetricsCommand.class,
        CommandLine.HelpCommand.class})
public final class MergetuneCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    return configure(new CommandLine(new MergetuneCli())).execute(args);
  }

  /**
   * Bad input (a malformed file, a wrong argument, a failed kernel check) is reported as one line naming what is
   * wrong, with exit code 1; anything else is a bug and keeps its stack trace.
   */
  static CommandLine configure(CommandLine cli) {
    return cli.setExecutionStrategy(MergetuneCli::executeConfigured).setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CheckpointFormatException || e instanceof IllegalArgumentException
          || e instanceof KernelException || e instanceof UncheckedIOException
          || e instanceof java.nio.file.NoSuchFileException || e instanceof DatasetException) {
        commandLine.getErr().println("mergetune: " + e.getMessage());
        commandLine.getErr().flush();
        return 1;
      }
      throw e;
    });
  }

  /**
   * The process-wide native settings the tool wants (OpenBLAS single-threaded, headless AWT:
   * {@link RuntimeSettings#recommended()}), applied before any command runs — not for help or version requests,
   * which load nothing native.
   */
  private static int executeConfigured(CommandLine.ParseResult parseResult) {
    if (!helpOrVersion(parseResult)) NativeRuntime.configure(RuntimeSettings.recommended());
    return new CommandLine.RunLast().execute(parseResult);
  }

  private static boolean helpOrVersion(CommandLine.ParseResult r) {
    for (CommandLine.ParseResult p = r; p != null; p = p.subcommand()) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) return true;
      if (p.commandSpec().userObject() instanceof CommandLine.HelpCommand) return true;
    }
    return false;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
