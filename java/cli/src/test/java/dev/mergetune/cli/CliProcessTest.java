package dev.mergetune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mergetune.clip.text.SyntheticMerges;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.protocol.ProtocolFixtures;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line as a user meets it, each run in its own JVM with stdout and stderr not a terminal: exit codes,
 * {@code --help} on every command of the tree, and a training run whose output has no {@code \r} and no line twice.
 */
class CliProcessTest {
  record Run(int code, String stdout, String stderr) {
    String all() {
      return stdout + stderr;
    }
  }

  static Run run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-D")) cmd.add(arg);
    }
    cmd.addAll(List.of("-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        MergetuneCli.class.getName()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "mergetune " + String.join(" ", args) + " did not finish");
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** Every command path of the tree: [], [merge], [condu], [condu, predict], ... */
  static List<List<String>> commandPaths(CommandLine cli, List<String> prefix) {
    List<List<String>> out = new ArrayList<>();
    out.add(prefix);
    for (Map.Entry<String, CommandLine> e : cli.getSubcommands().entrySet()) {
      if (e.getValue().getCommandSpec().userObject() instanceof HelpCommand) continue;
      List<String> p = new ArrayList<>(prefix);
      p.add(e.getKey());
      out.addAll(commandPaths(e.getValue(), p));
    }
    return out;
  }

  @Test
  void everyCommandHasHelpAndVersionAndTheHelpCommandReachesIt(@TempDir Path dir) throws Exception {
    CommandLine tree = MergetuneCli.configure(new CommandLine(new MergetuneCli()));
    List<List<String>> paths = commandPaths(tree, List.of());
    assertTrue(paths.size() >= 20, "only " + paths.size() + " commands: " + paths);
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      Run r = run(dir, args.toArray(String[]::new));
      String name = String.join(" ", path);
      assertEquals(0, r.code(), name + " --help: " + r.all());
      assertTrue(r.stdout().startsWith("Usage: mergetune" + (path.isEmpty() ? "" : " " + name)),
          name + " --help:\n" + r.stdout());
      assertEquals("", r.stderr(), name + " --help wrote to stderr");
      // the same through the help command, in-process (a JVM each is already paid for above)
      if (!path.isEmpty()) {
        List<String> help = new ArrayList<>(List.of("help"));
        help.addAll(path);
        CliRunner.Result h = CliRunner.run(help.toArray(String[]::new));
        assertEquals(0, h.exitCode(), h.out());
        assertTrue(h.out().startsWith("Usage: mergetune " + name), "help " + name + ":\n" + h.out());
        List<String> version = new ArrayList<>(path);
        version.add("--version");
        CliRunner.Result v = CliRunner.run(version.toArray(String[]::new));
        assertEquals(0, v.exitCode(), name + " --version: " + v.out());
        assertTrue(v.out().startsWith("mergetune "), v.out());
      }
    }
  }

  @Test
  void usageErrorsExitTwoWithTheUsageLineAndBadInputExitsOneWithOneLine(@TempDir Path dir) throws Exception {
    Run unknown = run(dir, "merge", "--bogus-option");
    assertEquals(2, unknown.code(), unknown.all());
    assertTrue(unknown.stderr().contains("Unknown option: '--bogus-option'")
        && unknown.stderr().contains("Usage: mergetune merge [OPTIONS]")
        && unknown.stderr().contains("Try 'mergetune merge --help'"), unknown.stderr());
    Run missing = run(dir, "condu", "add-task", "--store", dir.toString());
    assertEquals(2, missing.code(), missing.all());
    assertTrue(missing.stderr().contains("Missing required options")
        && missing.stderr().contains("Usage: mergetune condu add-task [OPTIONS]"), missing.stderr());
    Run level = run(dir, "info", "--log-level", "loud");
    assertEquals(2, level.code(), level.all());
    Run helpOfNothing = run(dir, "help", "condu", "nonsense");
    assertEquals(2, helpOfNothing.code(), helpOfNothing.all());
    assertTrue(helpOfNothing.stderr().contains("'mergetune condu' has no command 'nonsense'"), helpOfNothing.stderr());

    Path notAModel = Files.writeString(dir.resolve("broken.safetensors"), "not a checkpoint");
    Run bad = run(dir, "inspect", notAModel.toString());
    assertEquals(1, bad.code(), bad.all());
    assertEquals(1, bad.stderr().strip().lines().count(), bad.stderr());
    assertTrue(bad.stderr().startsWith("mergetune: ") && bad.stderr().contains("broken.safetensors"), bad.stderr());
    assertFalse(bad.all().contains("Exception"), bad.all());
    Run debug = run(dir, "inspect", notAModel.toString(), "--debug");
    assertEquals(1, debug.code(), debug.all());
    assertTrue(debug.stderr().contains("\tat dev.mergetune."), "--debug shows the stack trace:\n" + debug.stderr());
  }

  @Test
  void aTrainingRunPrintsNoCarriageReturnAndNoLineTwice(@TempDir Path dir) throws Exception {
    NativeRuntime.ensureTorch();
    Path model = ProtocolFixtures.tinyClip(dir.resolve("tiny.safetensors"), 11);
    Path vocab = SyntheticMerges.writeClipSized(dir);
    List<String> classes = List.of("blue", "green", "red");
    Path train = dir.resolve("train");
    ProtocolFixtures.imageFolder(train, classes, 8, 2);
    Path val = dir.resolve("val");
    ProtocolFixtures.imageFolder(val, classes, 2, 9);
    Run r = run(dir, "train", "--method", "coop", "--model", model.toString(), "--vocab", vocab.toString(), "--data",
        train.toString(), "--val", val.toString(), "--out", dir.resolve("run").toString(), "--shots", "0", "--batch",
        "8", "--epochs", "4", "--views", "2");
    assertEquals(0, r.code(), r.all());
    assertFalse(r.all().contains("\r"), "a non-terminal run drew a progress bar:\n" + r.all());
    Map<String, Integer> seen = new HashMap<>();
    for (String line : r.all().lines().toList()) seen.merge(line, 1, Integer::sum);
    seen.forEach((line, n) -> assertEquals(1, n, "printed " + n + " times: " + line + "\n" + r.all()));
    assertTrue(r.stdout().contains("epoch 4, step"), r.stdout());
    assertTrue(r.stderr().contains("train: 12 steps in"), "one plain progress line per task:\n" + r.stderr());
    assertFalse(r.all().contains("INFO"), "logging is quiet by default:\n" + r.all());

    Run quiet = run(dir, "train", "--method", "coop", "--model", model.toString(), "--vocab", vocab.toString(), "--data",
        train.toString(), "--out", dir.resolve("run2").toString(), "--shots", "0", "--batch", "8", "--epochs", "2",
        "--no-progress");
    assertEquals(0, quiet.code(), quiet.all());
    assertEquals("", quiet.stderr(), "--no-progress and no warnings: nothing on stderr");
    assertFalse(quiet.stdout().contains("NaN") || quiet.stdout().contains("val acc"), "no validation, no such line:\n"
        + quiet.stdout());
  }
}
