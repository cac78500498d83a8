package dev.mergetune.cli;

import dev.mergetune.merge.StreamingMerge;
import dev.mergetune.merge.TensorSelection;
import dev.mergetune.merge.mergekit.AngleMerge;
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

  static int run(MergekitConfig config, Path out, long seed, TensorSelection selection, PrintWriter w)
      throws IOException {
    if (config.dtype() != null && !config.dtype().equals("float32")) {
      w.printf("note: dtype %s: mergetune computes in float32 (outputs keep the base's dtype)%n", config.dtype());
    }
    return run(config.settings(), config.base(), config.models(), out, seed, selection, w);
  }

  static int run(GtaSettings settings, Path base, List<Path> models, Path out, long seed, TensorSelection selection,
      PrintWriter w) throws IOException {
    Map<String, long[]> shapes = new HashMap<>();
    try (Checkpoint reference = Checkpoints.open(base != null ? base : models.get(0))) {
      for (TensorInfo t : reference.tensors().values()) shapes.put(t.name(), t.shape());
    }
    dev.mergetune.merge.TensorOp op = settings.method().isAngle() ? new AngleMerge(settings)
        : new GtaMerge(settings, shapes, seed);
    long start = System.nanoTime();
    List<StreamingMerge.Result> results = StreamingMerge.run(base, models, op, List.of(out), selection);
    double seconds = (System.nanoTime() - start) / 1e9;
    for (StreamingMerge.Result r : results) w.printf("wrote %s%n", r.path());
    w.printf("%s of %d model(s) in %.2f s%n", op.method(), models.size(), seconds);
    w.flush();
    return 0;
  }
}
