package dev.mergetune.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.condu.MtilConfig;
import dev.mergetune.condu.MtilRunner;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The continual-learning half of the demo: ConDU over a task sequence with the MTIL runner — both matrices and the
 * sequential fine-tuning baseline — through an ordinary {@code condu mtil} config written next to the results, so
 * the same run can be repeated or changed with {@code ./mergetune condu mtil --config out/condu/mtil.yaml}.
 */
public final class ConduDemo {
  /** Learning rate and steps per task of every expert and of the sequential model in the demo. */
  public static final double DEMO_LR = 1e-3;
  public static final long DEMO_STEPS = 60;

  private ConduDemo() {}

  /** One task: its name, image folders and prompt templates (the first is the training text). */
  public record Task(String name, Path train, Path test, List<String> templates) {}

  /** Fine-tuning per task (end-to-end, from θ0) and aggregation settings. */
  public record Options(long iterations, int batch, double lr, long warmup, int topK, long seed) {
    public static Options demo() {
      return new Options(DEMO_STEPS, 32, DEMO_LR, 10, 2, 1);
    }

    /** The same stage with another seed (batches and crops of every expert and of the sequential model). */
    public Options withSeed(long s) {
      return new Options(iterations, batch, lr, warmup, topK, s);
    }
  }

  /** Writes {@code out/mtil.yaml} and runs it into {@code out}. */
  public static MtilRunner.Result run(Path model, Path vocab, ClipTokenizer tokenizer, List<Task> tasks, Options o,
      Path out, boolean progress, PrintWriter log) throws IOException {
    Files.createDirectories(out);
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    ObjectNode c = yaml.createObjectNode();
    c.put("model", model.toAbsolutePath().toString());
    c.put("vocab", vocab.toAbsolutePath().toString());
    c.put("method", "e2e");
    ObjectNode train = c.putObject("train");
    train.put("iterations", o.iterations());
    train.put("batch_size", o.batch());
    train.put("lr", o.lr());
    train.put("warmup", o.warmup());
    train.put("seed", o.seed());
    train.put("augment", "mtil");  // the recipe's random resized crop, scale (0.9, 1)
    c.put("top_k", o.topK());
    c.put("batch_size", 64);
    c.put("sequential", true);
    ArrayNode list = c.putArray("tasks");
    for (Task t : tasks) {
      ObjectNode n = list.addObject();
      n.put("name", t.name());
      n.put("train", t.train().toAbsolutePath().toString());
      n.put("test", t.test().toAbsolutePath().toString());
      ArrayNode tt = n.putArray("templates");
      t.templates().forEach(tt::add);
    }
    Path config = out.resolve("mtil.yaml");
    AtomicFiles.writeString(config, yaml.writeValueAsString(c));
    return MtilRunner.run(MtilConfig.read(config), tokenizer, vocab, out, progress, log);
  }
}
