package dev.mergetune.world;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** The pre-training report beside the checkpoint: {@code NAME.json} and {@code NAME.md} (written atomically). */
public final class PretrainReport {
  private PretrainReport() {}

  /** {@code checkpoint} "dir/tiny-clip.safetensors" → "dir/tiny-clip" + suffix. */
  public static Path beside(Path checkpoint, String suffix) {
    String n = checkpoint.getFileName().toString();
    if (n.endsWith(".safetensors")) n = n.substring(0, n.length() - ".safetensors".length());
    return checkpoint.resolveSibling(n + suffix);
  }

  public static ObjectNode json(String command, World world, PretrainSettings s, Pretraining.Result r,
      WorldZeroShot.Result zs) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode j = m.createObjectNode();
    j.put("command", command);
    j.put("world_seed", world.seed());
    j.put("world_sha256", world.sha256());
    j.put("vocabulary", world.mergesFile().getFileName().toString());
    j.put("vocab_size", world.vocabSize());
    j.set("settings", m.valueToTree(s));
    j.put("config", Pretraining.config(s, world).toString());
    ObjectNode t = j.putObject("training");
    t.put("steps", r.steps());
    t.put("seconds", round(r.seconds(), 1));
    t.put("first_epoch_loss", round(r.firstLoss(), 4));
    t.put("last_epoch_loss", round(r.lastEpochLoss(), 4));
    t.put("logit_scale", round(r.logitScale(), 4));
    t.put("threads", s.threads());
    ObjectNode z = j.putObject("zero_shot");
    z.put("classes", zs.classes());
    z.put("chance", round(1.0 / zs.classes(), 4));
    split(z.putObject("seen"), zs.seen());
    split(z.putObject("held_out"), zs.heldOut());
    ObjectNode d = z.putObject("datasets_top1");
    for (Map.Entry<String, Double> e : zs.datasets().entrySet()) d.put(e.getKey(), round(e.getValue(), 4));
    return j;
  }

  private static void split(ObjectNode o, WorldZeroShot.Split s) {
    o.put("images", s.n());
    o.put("top1", round(s.top1(), 4));
    o.put("shape_correct", round(s.shape(), 4));
    o.put("colour_correct", round(s.colour(), 4));
  }

  public static String markdown(String command, World world, PretrainSettings s, Pretraining.Result r,
      WorldZeroShot.Result zs) {
    StringBuilder md = new StringBuilder("# Tiny CLIP pre-trained on the shapes world\n\n");
    md.append("Reproduce with:\n\n```bash\n").append(command).append("\n```\n\n");
    md.append(String.format(Locale.ROOT, "World seed %d (world.json sha256 `%s`), vocabulary of %d tokens (the world's own"
        + " BPE merges), model %s.%n%n", world.seed(), world.sha256(), world.vocabSize(), Pretraining.config(s, world)));
    md.append(String.format(Locale.ROOT, "Training: %d steps in %.1f s on %d thread(s); mean loss %.4f (first epoch) →"
        + " %.4f (last epoch); logit_scale %.3f.%n%n", r.steps(), r.seconds(), s.threads(), r.firstLoss(),
        r.lastEpochLoss(), r.logitScale()));
    md.append(String.format(Locale.ROOT, "## Zero-shot, %d-way shape × colour (chance %.1f %%)%n%n", zs.classes(),
        100.0 / zs.classes()));
    md.append("| combinations | images | top-1 | right shape | right colour |\n|---|---:|---:|---:|---:|\n");
    row(md, "seen in pre-training", zs.seen());
    row(md, "held out (never seen)", zs.heldOut());
    md.append("\n## Zero-shot top-1 on the downstream test sets\n\n| dataset | top-1 |\n|---|---:|\n");
    for (Map.Entry<String, Double> e : zs.datasets().entrySet()) {
      md.append(String.format(Locale.ROOT, "| %s | %.1f %% |%n", e.getKey(), 100 * e.getValue()));
    }
    return md.toString();
  }

  private static void row(StringBuilder md, String what, WorldZeroShot.Split s) {
    md.append(String.format(Locale.ROOT, "| %s | %d | %.1f %% | %.1f %% | %.1f %% |%n", what, s.n(), 100 * s.top1(),
        100 * s.shape(), 100 * s.colour()));
  }

  public static String pretty(ObjectNode j) throws IOException {
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(j) + "\n";
  }

  private static double round(double v, int digits) {
    if (!Double.isFinite(v)) return v;
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
