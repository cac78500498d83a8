package dev.mergetune.cli;

import dev.mergetune.merge.LinearMerge;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.TensorOp;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune merge}: merge safetensors checkpoints tensor by tensor. A list of scales (or alphas) is a sweep:
 * every output is computed from one read of the inputs, and {@code {}} in --out is replaced by the swept value.
 */
@Command(name = "merge", description = "Merge checkpoints (streaming, tensor by tensor): task-arithmetic, wise-ft, average.")
final class MergeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--method", required = true, description = "task-arithmetic | wise-ft | average")
  String method;

  @Option(names = "--base", description = "The pre-trained (zero-shot) checkpoint θ0: .safetensors or shard index .json")
  Path base;

  @Option(names = "--models", required = true, arity = "1..*", description = "Fine-tuned checkpoints")
  List<Path> models;

  @Option(names = "--weights", split = ",", description = "Per-model weights (default 1 each)")
  float[] weights;

  @Option(names = "--scale", split = ",", description = "Task-arithmetic scale(s) λ (default 1); several = a sweep")
  float[] scales;

  @Option(names = "--alpha", split = ",", description = "WiSE-FT α value(s); several = a sweep")
  float[] alphas;

  @Option(names = "--out", required = true, description = "Output .safetensors; with a sweep, '{}' stands for the value")
  String out;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    float[] ws = weights != null ? weights : ones(models.size());
    if (ws.length != models.size()) {
      throw new IllegalArgumentException("--weights has " + ws.length + " values for " + models.size() + " models");
    }
    TensorOp op;
    float[] sweep;
    switch (method) {
      case "task-arithmetic" -> {
        sweep = scales != null ? scales : new float[] {1f};
        op = LinearMerge.taskArithmetic(ws, sweep);
      }
      case "wise-ft" -> {
        if (models.size() != 1) throw new IllegalArgumentException("wise-ft takes exactly one model, got " + models.size());
        if (alphas == null) throw new IllegalArgumentException("wise-ft needs --alpha");
        sweep = alphas;
        op = LinearMerge.wiseFt(alphas);
      }
      case "average" -> {
        sweep = new float[] {Float.NaN};
        op = LinearMerge.average(ws);
      }
      default -> throw new IllegalArgumentException("unknown --method '" + method + "' (task-arithmetic, wise-ft, average)");
    }
    List<Path> outputs = new ArrayList<>();
    for (float v : sweep) {
      if (sweep.length > 1 && !out.contains("{}")) {
        throw new IllegalArgumentException("a sweep of " + sweep.length + " values needs '{}' in --out");
      }
      outputs.add(Path.of(out.replace("{}", Float.isNaN(v) ? "" : String.format(Locale.ROOT, "%s", v))));
    }
    long start = System.nanoTime();
    List<StreamingMerge.Result> results = StreamingMerge.run(base, models, op, outputs);
    double seconds = (System.nanoTime() - start) / 1e9;
    for (StreamingMerge.Result r : results) w.printf("wrote %s %s%n", r.path(), r.metadata().entrySet().stream()
        .filter(e -> e.getKey().startsWith("mergetune.param.")).map(e -> e.getKey().substring(16) + "=" + e.getValue()).toList());
    w.printf("%s of %d model(s) in %.2f s%n", op.method(), models.size(), seconds);
    w.flush();
    return 0;
  }

  private static float[] ones(int n) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, 1f);
    return a;
  }
}
