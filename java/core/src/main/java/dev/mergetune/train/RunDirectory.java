package dev.mergetune.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The folder of one training run: {@code run.json} (what the run is: settings and inputs, written first),
 * {@code checkpoints/} ({@link TrainingCheckpoint}), {@code metrics.jsonl} (one line per epoch) and
 * {@code result.json} (written last). Opening a folder that holds the same run's checkpoint resumes it; a folder holding
 * a different run, or a finished one, is refused. Every file is written atomically.
 */
public final class RunDirectory {
  public static final String RUN_FILE = "run.json";
  public static final String RESULT_FILE = "result.json";
  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String CHECKPOINT_DIR = "checkpoints";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper LINE = new ObjectMapper();

  private final Path dir;
  private final boolean writes;  // false on data-parallel ranks other than 0
  private final boolean resuming;
  private final long resumeStep;
  private final List<String> metricLines = new ArrayList<>();
  private final long started = System.nanoTime();

  private RunDirectory(Path dir, boolean writes, boolean resuming, long resumeStep) {
    this.dir = dir;
    this.writes = writes;
    this.resuming = resuming;
    this.resumeStep = resumeStep;
  }

  /**
   * The result of the run described by {@code manifest} if {@code dir} holds it finished; empty if there is no
   * finished run there; an error naming the folder if the finished run there is a different one.
   */
  public static java.util.Optional<JsonNode> finished(Path dir, JsonNode manifest) throws IOException {
    if (!Files.isRegularFile(dir.resolve(RESULT_FILE))) return java.util.Optional.empty();
    Path runFile = dir.resolve(RUN_FILE);
    if (!Files.isRegularFile(runFile) || !sameRun(runFile, manifest)) {
      throw new IllegalArgumentException(dir + " holds a different finished run; remove it or choose another folder");
    }
    return java.util.Optional.of(JSON.readTree(dir.resolve(RESULT_FILE).toFile()));
  }

  /** Whether {@code runFile} records the run {@code manifest} describes. */
  private static boolean sameRun(Path runFile, JsonNode manifest) throws IOException {
    // compared as parsed JSON on both sides: a node built in memory (a long 1) and one read back (an int 1) differ
    return JSON.readTree(runFile.toFile()).equals(JSON.readTree(JSON.writeValueAsBytes(manifest)));
  }

  /** Opens (creating it if needed) the folder of the run described by {@code manifest}. */
  public static RunDirectory open(Path dir, JsonNode manifest) throws IOException {
    Files.createDirectories(dir);
    if (Files.exists(dir.resolve(RESULT_FILE))) {
      throw new IllegalArgumentException(dir + " holds a finished run (" + RESULT_FILE + "); choose another --out");
    }
    Path runFile = dir.resolve(RUN_FILE);
    Path checkpoints = dir.resolve(CHECKPOINT_DIR);
    boolean resuming = Files.isRegularFile(checkpoints.resolve(TrainingCheckpoint.STATE_FILE));
    if (Files.isRegularFile(runFile)) {
      if (!sameRun(runFile, manifest)) {
        if (resuming) {
          throw new IllegalArgumentException(dir + " holds another run (its " + RUN_FILE + " differs from these"
              + " settings and inputs, and it has checkpoints); choose another --out or delete it");
        }
        // the run there failed before its first checkpoint: nothing of it can be resumed, so these settings replace it
        Files.deleteIfExists(dir.resolve(METRICS_FILE));
      }
    } else if (resuming) {
      throw new IllegalArgumentException(dir + " holds checkpoints but no " + RUN_FILE);
    }
    writeJson(runFile, manifest);
    long step = resuming ? TrainingCheckpoint.load(checkpoints).step() : 0;
    RunDirectory rd = new RunDirectory(dir, true, resuming, step);
    Path metrics = dir.resolve(METRICS_FILE);
    if (resuming && Files.isRegularFile(metrics)) {
      for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
        if (!line.isBlank() && LINE.readTree(line).get("step").asLong() <= step) rd.metricLines.add(line);
      }
    }
    rd.writeMetrics();
    return rd;
  }

  /**
   * The folder as the data-parallel ranks other than 0 see it: it writes nothing (rank 0 writes the run), and its
   * listener and {@link #finish} do nothing. {@code resuming} / {@code resumeStep} are rank 0's.
   */
  public static RunDirectory follower(Path dir, boolean resuming, long resumeStep) {
    return new RunDirectory(dir, false, resuming, resumeStep);
  }

  /**
   * The run folder of a data-parallel job: rank 0 {@link #open opens} it (its refusal of another run reaches every
   * rank), the others get its {@link #follower}.
   */
  public static RunDirectory openOnMain(Path dir, JsonNode manifest,
      dev.mergetune.distributed.ProcessGroupContext ctx) throws IOException {
    RunDirectory[] main = new RunDirectory[1];
    byte[] r = ctx.onMain("open the run folder " + dir, () -> {
      main[0] = open(dir, manifest);
      return java.nio.ByteBuffer.allocate(9).put((byte) (main[0].resuming ? 1 : 0)).putLong(main[0].resumeStep).array();
    });
    if (ctx.isMain()) return main[0];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(r);
    return follower(dir, b.get() == 1, b.getLong());
  }

  /** Whether this rank writes the folder (rank 0, or a single process). */
  public boolean writes() {
    return writes;
  }

  public Path dir() {
    return dir;
  }

  public Path checkpoints() {
    return dir.resolve(CHECKPOINT_DIR);
  }

  public boolean resuming() {
    return resuming;
  }

  /** The step of the checkpoint a resumed run continues after (0 for a new run). */
  public long resumeStep() {
    return resumeStep;
  }

  /** Appends each epoch to {@code metrics.jsonl} and prints one line about it. */
  public TrainingLoop.EpochListener metricsListener(PrintWriter log) {
    return e -> {
      if (!writes) return;
      ObjectNode j = LINE.createObjectNode();
      j.put("epoch", e.epoch() + 1);
      j.put("step", e.step());
      j.put("total_steps", e.totalSteps());
      j.put("mean_loss", e.meanLoss());
      j.put("lr", e.learningRate());
      if (Double.isFinite(e.validationAccuracy())) j.put("val_accuracy", e.validationAccuracy());
      j.put("images_per_second", e.itemsPerSecond());
      j.put("best", e.best());
      metricLines.add(LINE.writeValueAsString(j));
      writeMetrics();
      log.printf(Locale.ROOT, "epoch %d, step %d/%d: loss %.4f, lr %.3g%s, %.1f img/s%n", e.epoch() + 1, e.step(),
          e.totalSteps(), e.meanLoss(), e.learningRate(), Double.isFinite(e.validationAccuracy())
              ? String.format(Locale.ROOT, ", val acc %.1f%%", 100 * e.validationAccuracy()) : "",
          e.itemsPerSecond());
      log.flush();
    };
  }

  /** A result object with the loop's figures; add the run's own entries and pass it to {@link #finish}. */
  public ObjectNode result(String format, TrainingLoop.Result r) {
    ObjectNode res = JSON.createObjectNode();
    res.put("format", format);
    res.put("steps", r.steps());
    res.put("best_epoch", r.bestEpoch() < 0 ? 0 : r.bestEpoch() + 1);
    if (Double.isFinite(r.bestAccuracy())) res.put("best_val_accuracy", r.bestAccuracy());
    res.put("last_loss", r.lastLoss());
    res.put("resumed", r.resumed());
    return res;
  }

  /** Writes {@code result.json} (with the seconds since opening): the run is finished. */
  public double finish(ObjectNode result) throws IOException {
    double seconds = (System.nanoTime() - started) / 1e9;
    if (!writes) return seconds;
    result.put("seconds", seconds);
    writeJson(dir.resolve(RESULT_FILE), result);
    return seconds;
  }

  private void writeMetrics() throws IOException {
    byte[] bytes = (String.join("\n", metricLines) + (metricLines.isEmpty() ? "" : "\n")).getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(dir.resolve(METRICS_FILE), bytes);
  }

  /** Writes {@code node} as indented JSON, atomically. */
  public static void writeJson(Path file, JsonNode node) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(node);
    AtomicFiles.write(file, bytes);
  }

  /** Reads a JSON file of a run folder. */
  public static JsonNode readJson(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no " + file.getFileName() + " in " + file.getParent());
    return JSON.readTree(file.toFile());
  }
}
