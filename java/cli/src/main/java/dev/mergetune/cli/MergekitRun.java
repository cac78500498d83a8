package dev.mergetune.cli;

import dev.mergetune.merge.MergeOutputs;
import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.TensorSelection;
import dev.mergetune.merge.mergekit.AngleMerge;
import dev.mergetune.merge.mergekit.SphereMerge;
import dev.mergetune.merge.mergekit.GtaMerge;
import dev.mergetune.merge.mergekit.GtaSettings;
import dev.mergetune.merge.mergekit.MergekitConfig;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import dev.mergetune.tensors.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code merge} of a mergekit configuration or of a GTA-family method given by flags: one streaming GTA merge. */
final class MergekitRun {
  private MergekitRun() {}

  static int run(MergekitConfig config, String out, long seed, TensorSelection selection, MergeOutputOptions output,
      StreamingMerge.Options options, PrintWriter w)
      throws IOException {
    noteDType(config, w);
    return run(config.settings(), config.base(), config.models(), out, seed, selection, output,
        output.apply(options, config.outDType()), w);
  }

  /** A YAML dtype other than float32: computed in float32 and stored as mergekit would (said on stdout). */
  static void noteDType(MergekitConfig config, PrintWriter w) {
    if (config.dtype() == null) return;
    MergeOutputOptions.requireFloat32Or16(config.dtype(), config.file() + ": dtype");
    if (!config.dtype().equals("float32")) {
      w.printf("note: dtype %s: mergetune computes in float32; the output is stored as %s (mergekit's rule: out_dtype,"
          + " else dtype)%n", config.dtype(), config.outDType());
    }
  }

  static int run(GtaSettings settings, Path base, List<Path> models, String out, long seed, TensorSelection selection,
      MergeOutputOptions output, StreamingMerge.Options options, PrintWriter w) throws IOException {
    Map<String, long[]> shapes = new HashMap<>();
    try (Checkpoint reference = Checkpoints.open(base != null ? base : models.get(0))) {
      for (TensorInfo t : reference.tensors().values()) shapes.put(t.name(), t.shape());
    }
    dev.mergetune.merge.TensorOp op = settings.method().isSphere() ? new SphereMerge(settings, base != null, shapes)
        : settings.method().isAngle() ? new AngleMerge(settings) : new GtaMerge(settings, shapes, seed);
    List<MergeOutputs> targets = output.outputs(List.of(out));
    MergeOutputs.prepare(targets);
    long start = System.nanoTime();
    List<StreamingMerge.Result> results = StreamingMerge.run(base, models, op, MergeOutputs.written(targets), selection, options);
    double seconds = (System.nanoTime() - start) / 1e9;
    for (StreamingMerge.Result r : results) w.printf("wrote %s%n", r.path());
    output.finish(targets, base != null ? base : models.get(0), w);
    w.printf("%s of %d model(s) in %.2f s%n", op.method(), models.size(), seconds);
    w.flush();
    return 0;
  }
}
