package dev.mergetune.cli;

import dev.mergetune.data.DatasetException;
import dev.mergetune.distributed.DistributedException;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.kernels.KernelException;
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
        DemoCommand.class, LaunchCommand.class,
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
    return cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CheckpointFormatException || e instanceof IllegalArgumentException
          || e instanceof KernelException || e instanceof UncheckedIOException
          || e instanceof java.nio.file.NoSuchFileException || e instanceof DatasetException
          || e instanceof DistributedException) {
        // in a data-parallel job, the other ranks' failing collectives name this rank and this error
        ProcessGroupContext.current().announceFailure(e.getMessage());
        commandLine.getErr().println("mergetune: " + e.getMessage());
        commandLine.getErr().flush();
        return 1;
      }
      ProcessGroupContext.current().announceFailure(e.toString());
      throw e;
    });
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
