package dev.mergetune.cli;

import dev.mergetune.merge.UnifiedExpert;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mergetune condu decouple}: one expert θ0 + λ_k·M_k⊙U of a unify (condu unify or merge --method emr). */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "decouple", description = "Write expert k, θ0 + λ_k·M_k⊙U, of a unify written by condu unify or merge"
    + " --method emr (U.safetensors with U.masks.safetensors and U.emr.json beside it) as a checkpoint.")
final class ConduDecoupleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--unified", required = true, description = "The unified delta U (.safetensors)")
  Path unified;

  @Option(names = "--task", required = true, description = "The expert to write (0-based, in the unify's order)")
  int task;

  @Option(names = "--base", description = "θ0 (default: the one U.emr.json records; its SHA-256 is checked where"
      + " recorded)")
  Path base;

  @Option(names = "--out", required = true, description = "The expert checkpoint (.safetensors)")
  Path out;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    w.printf("wrote %s%n", UnifiedExpert.write(unified, task, base, out));
    w.flush();
    return 0;
  }
}
