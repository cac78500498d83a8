package dev.mergetune.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Options every command takes (declared once on the root, inherited by every subcommand): how much diagnostics to
 * log, whether to show stack traces and progress. Logging is for diagnostics only and quiet by default (warnings and
 * errors); what a person reads — progress and results — goes through the commands' own output.
 */
final class GlobalOptions {
  /** The values of the command line being executed (one command per process; tests run one at a time). */
  private static volatile GlobalOptions current = new GlobalOptions();

  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
      description = "Log diagnostics (INFO) on stderr; twice (-vv) for DEBUG")
  boolean[] verbose = new boolean[0];

  /** The levels --log-level takes (case-insensitive). */
  enum LogLevel { ERROR, WARN, INFO, DEBUG, TRACE }

  @Option(names = "--log-level", scope = ScopeType.INHERIT, paramLabel = "LEVEL",
      description = "Log level: ${COMPLETION-CANDIDATES} (default warn)")
  LogLevel logLevel;

  @Option(names = "--debug", scope = ScopeType.INHERIT,
      description = "Show the stack trace of an error (and log at DEBUG)")
  boolean debug;

  @Option(names = "--no-progress", scope = ScopeType.INHERIT,
      description = "No progress output (bars on a terminal, one line per stage otherwise)")
  boolean noProgress;

  static GlobalOptions current() {
    return current;
  }

  static boolean progress() {
    return !current.noProgress;
  }

  /** --verbose or --debug: show the details a command otherwise keeps short. */
  static boolean verbose() {
    return current.verbose.length > 0 || current.debug;
  }

  static boolean debug() {
    return current.debug;
  }

  /** The flags that give a command run in this process these same options ({@code reproduce}'s steps). */
  static java.util.List<String> asArguments() {
    GlobalOptions g = current;
    java.util.List<String> a = new java.util.ArrayList<>();
    for (int i = 0; i < g.verbose.length; i++) a.add("-v");
    if (g.logLevel != null) a.addAll(java.util.List.of("--log-level", g.logLevel.name().toLowerCase(java.util.Locale.ROOT)));
    if (g.debug) a.add("--debug");
    if (g.noProgress) a.add("--no-progress");
    return a;
  }

  /** Makes these the current options and sets the log level they ask for. */
  void apply() {
    current = this;
    Level level;
    if (logLevel != null) {
      level = Level.toLevel(logLevel.name());
    } else if (debug || verbose.length >= 2) {
      level = Level.DEBUG;
    } else if (verbose.length == 1) {
      level = Level.INFO;
    } else {
      level = Level.WARN;
    }
    if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof Logger root) root.setLevel(level);
  }
}
