package dev.mergetune.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code mergetune help [COMMAND [SUBCOMMAND ...]]}: the help of any command of the tree, e.g. {@code help condu predict}. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, name = "help", helpCommand = true,
    description = "Show the help of a command: help, help merge, help condu predict")
final class HelpCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command (and subcommands) to describe")
  List<String> path = List.of();

  @Override
  public void run() {
    CommandLine target = spec.root().commandLine();
    StringBuilder walked = new StringBuilder(target.getCommandName());
    for (String name : path) {
      CommandLine next = target.getSubcommands().get(name);
      if (next == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "'" + walked + "' has no command '" + name
            + "'; its commands: " + String.join(", ", target.getSubcommands().keySet()));
      }
      target = next;
      walked.append(' ').append(name);
    }
    PrintWriter out = spec.commandLine().getOut();
    target.usage(out, spec.commandLine().getColorScheme());
    out.flush();
  }
}
