package dev.mergetune.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mergetune condu add-task|predict|mtil|info|unify|decouple}: ConDU continual learning over a session store. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "condu", description = "ConDU continual learning: add a task to a session store (fine-tune from θ0,"
    + " unify), classify with the store (a task's expert or semantic aggregation), run an MTIL sequence, describe a"
    + " store; unify experts of any state dict (condu unify) and write one of them back (condu decouple).",
    subcommands = {ConduAddTaskCommand.class, ConduPredictCommand.class, ConduMtilCommand.class, ConduInfoCommand.class,
        ConduUnifyCommand.class, ConduDecoupleCommand.class})
final class ConduCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
