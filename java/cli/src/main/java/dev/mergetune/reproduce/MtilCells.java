package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.tensors.AtomicFiles;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The cells of {@code condu-mtil}: one per seed, a {@code condu mtil} run over the selected tasks in order I with
 * ConDU's recipe (full fine-tuning from θ0, AdamW 1e-5 — 5e-5 for Aircraft and MNIST —, batch 64, 1000 iterations;
 * the command's defaults, {@code methods.md} §2.5), whose rows files give the zero-shot row and both matrices.
 */
final class MtilCells {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The tasks ConDU trains at lr 5e-5 (methods.md §2.5); the others take the recipe's 1e-5. */
  static final Set<String> HIGHER_LR = Set.of("Aircraft", "MNIST");
  static final double HIGHER_LR_VALUE = 5.0e-5;
  /** The recipe's iterations and warm-up steps (the e2e recipe of {@code train}). */
  static final long ITERATIONS = 1000;
  static final long WARMUP = 100;

  private MtilCells() {}

  static List<Cell> plan(ReproOptions o, DataCheck check) {
    List<Cell> cells = new ArrayList<>();
    for (long seed : o.seeds()) cells.add(cell(o, seed, check));
    return cells;
  }

  private static Cell cell(ReproOptions o, long seed, DataCheck check) {
    ObjectNode config = JSON.createObjectNode();
    config.put("model", o.model().toAbsolutePath().normalize().toString());
    if (o.modelConfig() != null) config.put("model_config", o.modelConfig());
    if (o.vocab() != null) config.put("vocab", o.vocab().toAbsolutePath().normalize().toString());
    config.put("method", "e2e");
    ObjectNode train = config.putObject("train");
    train.put("seed", seed);
    if (o.iterations() != null) {
      train.put("iterations", o.iterations());
      train.put("warmup", Math.round((double) WARMUP * o.iterations() / ITERATIONS));
    }
    config.put("batch_size", o.featureBatch());
    ArrayNode tasks = config.putArray("tasks");
    List<Step> steps = new ArrayList<>();
    for (String d : o.datasets()) {
      Path cfg = DatasetConfigStep.file(o.out(), d, "mtil");
      steps.add(new DatasetConfigStep(cfg, d, "mtil", o.data()));
      ObjectNode t = tasks.addObject();
      t.put("name", d);
      t.put("train", cfg.toString());
      t.put("test", cfg.toString());
      if (HIGHER_LR.contains(d)) t.putObject("train_settings").put("lr", HIGHER_LR_VALUE);
    }
    ObjectNode settings = config.deepCopy();
    settings.put("table", o.table().key());
    settings.put("data", o.data().toAbsolutePath().normalize().toString());
    String hash = Hashes.short8(settings);
    Path dir = o.out().resolve("runs").resolve("condu-mtil-seed" + seed + "-" + hash);
    Path configFile = o.out().resolve("data").resolve("condu-mtil-seed" + seed + "-" + hash + ".json")
        .toAbsolutePath().normalize();
    steps.add(new Step() {
      @Override
      public String command() {
        return "write " + configFile + ": " + config;
      }

      @Override
      public void run(StepContext ctx) throws IOException {
        Files.createDirectories(configFile.getParent());
        AtomicFiles.writeString(configFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
      }
    });
    List<String> args = new ArrayList<>(List.of("condu", "mtil", "--config", configFile.toString(), "--out",
        dir.toString()));
    if (o.vocab() != null) args.addAll(List.of("--vocab", o.vocab().toString()));
    steps.add(new CliStep(args, dir.resolve("result.json")));
    return new Cell(o.table().key() + "/seed" + seed, "all", seed, settings, steps, new Reader(dir, o.datasets()),
        workload(o, check));
  }

  /** Reads the zero-shot row and the two matrices the run recorded (rows/), as its report does. */
  private record Reader(Path dir, List<String> names) implements Cell.Evaluation {
    @Override
    public String describe() {
      return "read " + dir.resolve("rows") + " (zero-shot.json, session-NN.json): the zero-shot row and the MTIL and"
          + " task-agnostic matrices";
    }

    @Override
    public ObjectNode evaluate(StepContext ctx) throws IOException {
      int t = names.size();
      double[] zs = doubles(RunDirectory.readJson(dir.resolve("rows").resolve("zero-shot.json")).get("top1"));
      double[][] zero = new double[t][];
      double[][] id = new double[t][];
      double[][] ag = new double[t][];
      for (int s = 0; s < t; s++) {
        JsonNode row = RunDirectory.readJson(dir.resolve("rows")
            .resolve(String.format(Locale.ROOT, "session-%02d.json", s + 1)));
        zero[s] = zs;
        id[s] = doubles(row.get("task_id"));
        ag[s] = doubles(row.get("task_agnostic"));
      }
      ObjectNode result = JSON.createObjectNode();
      var ds = result.putArray("datasets");
      names.forEach(ds::add);
      ObjectNode methods = result.putObject("methods");
      put(methods, "zero-shot", AccuracyMatrix.of(zero, names, false));
      put(methods, "ConDU (FT)", AccuracyMatrix.of(id, names, false));
      put(methods, "ConDU (FT), task-agnostic", AccuracyMatrix.of(ag, names, true));
      return result;
    }

    private static void put(ObjectNode methods, String name, AccuracyMatrix m) {
      ObjectNode j = methods.putObject(name);
      j.put("Transfer", m.transfer());
      j.put("Average", m.average());
      j.put("Last", m.last());
      ArrayNode matrix = j.putArray("matrix");
      for (double[] row : m.toArray()) {
        ArrayNode r = matrix.addArray();
        for (double v : row) r.add(v);
      }
    }
  }

  static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
    return out;
  }

  /** Per task: the training passes, prototypes, and the evaluation of every session on every test set. */
  private static Workload workload(ReproOptions o, DataCheck check) {
    long iterations = o.iterations() == null ? ITERATIONS : o.iterations();
    Workload w = Workload.NONE;
    int t = o.datasets().size();
    for (String d : o.datasets()) {
      DataCheck.Size size = check.size(d);
      long evalPasses = 1;  // the zero-shot row
      for (int s = 0; s < t; s++) evalPasses += 1 + Math.min(4, s + 1) + 1;  // θ0, the top-K experts, the task expert
      w = w.plus(new Workload(size.train() + evalPasses * size.test(), iterations * 64,
          iterations * size.classes(), (long) t * size.classes() * 8, size.fromDisk() ? null : d));
    }
    return w;
  }
}
