package dev.mergetune.cli;

import dev.mergetune.data.DatasetException;
import dev.mergetune.distributed.DistributedException;
import dev.mergetune.distributed.ProcessGroupContext;
import dev.mergetune.kernels.KernelException;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.kernels.RuntimeSettings;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./mergetune <command>}: the one entry point of the command-line tool.
 *
 * <p>Every command and subcommand takes {@code -h/--help} and {@code -V/--version} and the {@link GlobalOptions};
 * {@code help COMMAND [SUBCOMMAND]} describes any of them. A usage error prints the message, the command's usage
 * line and a pointer to its help, and exits 2; bad input (a malformed file, a wrong value, a failed kernel check)
 * prints one line naming what is wrong and exits 1 ({@code --debug} adds the stack trace); anything else is a bug
 * and keeps its stack trace.
 */
@Command(
    name = "mergetune",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Continued fine-tuning, continual unification and merging of CLIP models, on the JVM.",
    subcommands = {InfoCommand.class, SelfcheckCommand.class, InspectCommand.class, MergeCommand.class, ConvertCommand.class,
        TokenizeCommand.class, EmbedCommand.class, ZeroshotCommand.class, EvalCommand.class, PathCommand.class,
        TrainCommand.class, ContinueCommand.class, ConduCommand.class, WorldCommand.class, PretrainCommand.class,
        DemoCommand.class, LaunchCommand.class, ReproduceCommand.class,
        MetricsCommand.class,
        HelpCommand.class})
public final class MergetuneCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @CommandLine.Mixin GlobalOptions globals;

  public static void main(String[] args) {
    CommandLine cli = configure(new CommandLine(new MergetuneCli()));
    if (Console.terminal()) cli.setOut(Console.lines(System.out));
    System.exit(cli.execute(args));
  }

  /** Runs a command line and returns its exit code (for tests and embedding). */
  public static int execute(String... args) {
    return configure(new CommandLine(new MergetuneCli())).execute(args);
  }

  /**
   * Runs a command line in this process with the given output and error writers, as {@code ./mergetune} would (the
   * same handlers and exit codes); {@code reproduce} runs its steps this way.
   */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cli = configure(new CommandLine(new MergetuneCli()));
    cli.setOut(out);
    cli.setErr(err);
    return cli.execute(args);
  }

  /** The tool's behaviour on any CommandLine over {@link MergetuneCli}: the handlers above. */
  static CommandLine configure(CommandLine cli) {
    return cli.setCaseInsensitiveEnumValuesAllowed(true).setExecutionStrategy(MergetuneCli::executeConfigured)
        .setParameterExceptionHandler(MergetuneCli::usageError)
        .setExecutionExceptionHandler((e, commandLine, parseResult) -> {
          if (isInputError(e)) {
            // in a data-parallel job, the other ranks' failing collectives name this rank and this error
            String message = oneLine(e);
            ProcessGroupContext.current().announceFailure(message);
            PrintWriter err = commandLine.getErr();
            err.println("mergetune: " + message);
            if (GlobalOptions.debug()) e.printStackTrace(err);
            err.flush();
            return 1;
          }
          ProcessGroupContext.current().announceFailure(e.toString());
          throw e;
        });
  }

  /** The error as one line: an I/O failure names the file and operation where its message does ("Bad address"). */
  static String oneLine(Exception e) {
    String m = e instanceof java.io.IOException io && !(e instanceof java.nio.file.FileSystemException)
        && (io.getMessage() == null || !io.getMessage().contains("/")) ? "I/O error: " + dev.mergetune.io.IoErrors.oneLine(io)
        : e instanceof java.nio.file.FileSystemException fs ? fs.getFile() + ": " + dev.mergetune.io.IoErrors.oneLine(fs)
        : String.valueOf(e.getMessage());
    return m.lines().findFirst().orElse(e.getClass().getSimpleName()).strip();
  }

  static boolean isInputError(Exception e) {
    return e instanceof java.io.IOException || e instanceof CheckpointFormatException || e instanceof IllegalArgumentException
        || e instanceof KernelException || e instanceof UncheckedIOException
        || e instanceof java.nio.file.NoSuchFileException || e instanceof DatasetException
        || e instanceof DistributedException;
  }

  /** The message, the command's usage line (its synopsis) and where its full help is; exit code 2. */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("mergetune: " + e.getMessage());
    err.print("Usage: " + cmd.getHelp().abbreviatedSynopsis());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * Applies the global options, then the process-wide native settings the tool wants (OpenBLAS single-threaded,
   * headless AWT: {@link RuntimeSettings#recommended()}) before any command runs — not for help or version
   * requests, which load nothing native. A {@link NativeOnDemand} command gets them applied as each part of the
   * native stack loads, so a merge that needs no LibTorch does not load it.
   */
  private static int executeConfigured(CommandLine.ParseResult parseResult) {
    Object root = parseResult.commandSpec().userObject();
    if (root instanceof MergetuneCli m) m.globals.apply();
    if (!helpOrVersion(parseResult)) {
      if (leaf(parseResult) instanceof NativeOnDemand) NativeRuntime.configureOnLoad(RuntimeSettings.recommended());
      else NativeRuntime.configure(RuntimeSettings.recommended());
    }
    return new CommandLine.RunLast().execute(parseResult);
  }

  /** The command that runs: the last subcommand parsed. */
  private static Object leaf(CommandLine.ParseResult r) {
    CommandLine.ParseResult p = r;
    while (p.subcommand() != null) p = p.subcommand();
    return p.commandSpec().userObject();
  }

  private static boolean helpOrVersion(CommandLine.ParseResult r) {
    for (CommandLine.ParseResult p = r; p != null; p = p.subcommand()) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) return true;
      if (p.commandSpec().userObject() instanceof HelpCommand) return true;
    }
    return false;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
