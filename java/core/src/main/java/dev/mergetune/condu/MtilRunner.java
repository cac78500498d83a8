package dev.mergetune.condu;

import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.TextTokenizer;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.clip.text.Truncation;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.Dataset;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.Report;
import dev.mergetune.protocol.EvalDataset;
import dev.mergetune.protocol.Protocols;
import dev.mergetune.protocol.ZeroShotClip;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs ConDU over an MTIL task sequence ({@link MtilConfig}) and fills the accuracy matrix A[s][d] (after session s,
 * on dataset d): in the MTIL variant seen datasets (d ≤ s) use their task's expert and unseen ones semantic
 * aggregation; in the task-agnostic variant every entry uses aggregation. Entries of unseen datasets are the same in
 * both variants and are computed once.
 *
 * <p>Output folder: {@code store/} (the session store), {@code runs/NN-name/} (each expert's training run),
 * {@code rows/zero-shot.json} and {@code rows/session-NN.json} (θ0's accuracies and each session's row, written as
 * soon as known), with {@code sequential: true} also {@code runs/seq-NN-name/} and {@code rows/sequential-NN.json}
 * (the baseline: one model fine-tuned on each task in turn, starting from the previous task's), {@code report/} (Markdown, JSON and the heat maps) and {@code result.json}, written last. Running
 * the same config again resumes: a committed session is not retrained, a recorded row not re-evaluated.
 */
public final class MtilRunner {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How each matrix's entries were obtained, for the reports. */
  public static final String ID_TEXT = "MTIL: after each session, the datasets seen so far are classified by their"
      + " task's expert, the unseen ones by semantic aggregation (θ0 and each image's top-K experts).";
  public static final String AGNOSTIC_TEXT = "Task-agnostic MTIL: every entry is predicted by semantic aggregation,"
      + " without the task identity.";
  public static final String SEQUENTIAL_TEXT = "Sequential fine-tuning: one model fine-tuned on each task in turn;"
      + " after session s it classifies every dataset zero-shot over that dataset's classes (no experts, no"
      + " aggregation).";

  private MtilRunner() {}

  /**
   * The filled matrices (null for a variant not asked for), the sequential fine-tuning baseline's (or null) and θ0's
   * accuracy on each dataset.
   */
  public record Result(AccuracyMatrix taskId, AccuracyMatrix taskAgnostic, AccuracyMatrix sequential,
      double[] zeroShot, Path report) {}

  public static Result run(MtilConfig c, ClipTokenizer tokenizer, Path vocabPath, Path out, boolean progress,
      PrintWriter log) throws IOException {
    Path store = out.resolve("store");
    Path rows = Files.createDirectories(out.resolve("rows"));
    int t = c.tasks().size();
    List<String> names = c.tasks().stream().map(MtilConfig.TaskEntry::name).toList();
    List<EvalDataset> tests = new ArrayList<>();
    List<ConduTaskStep.Task> steps = new ArrayList<>();
    for (MtilConfig.TaskEntry e : c.tasks()) {
      List<String> templates = c.templatesFor(e);
      Dataset train = DataSources.load(e.train(), "train");
      Dataset test = DataSources.load(e.test(), "test");
      if (!train.classNames().equals(test.classNames())) {
        throw new IllegalArgumentException("task '" + e.name() + "': the test classes " + test.classNames()
            + " differ from the training classes " + train.classNames());
      }
      List<String> classes = ConduTaskStep.promptNames(train);
      steps.add(new ConduTaskStep.Task(e.name(), train, e.train(), classes, templates));
      tests.add(new EvalDataset(e.name(), test, classes, templates));
    }

    double[] zeroShot = zeroShot(c, tokenizer, tests, rows.resolve("zero-shot.json"), log);
    double[][] byId = new double[t][];
    double[][] agnostic = new double[t][];
    ProgressTask sessions = Progress.of(progress).start("MTIL", t, "session");
    for (int s = 0; s < t; s++, sessions.step(1)) {
      MtilConfig.TaskEntry e = c.tasks().get(s);
      int held = storedTasks(store, names);
      if (held < s) throw new IllegalStateException(store + " holds " + held + " tasks before session " + (s + 1));
      if (held == s) {
        ConduTaskStep.run(store, c.model(), c.modelConfig(), tokenizer, vocabPath, c.settings(e), steps.get(s),
            out.resolve("runs").resolve(String.format(Locale.ROOT, "%02d-%s", s + 1, ConduTaskStep.folderName(e.name()))), c.batchSize(),
            c.stepOptions(), progress, log);
      }
      Path rowFile = rows.resolve(String.format(Locale.ROOT, "session-%02d.json", s + 1));
      if (!Files.isRegularFile(rowFile)) {
        if (storedTasks(store, names) != s + 1) {
          throw new IllegalStateException("session " + (s + 1) + " has no recorded row and the store has moved on to a"
              + " later session; remove " + out + " and run again");
        }
        evaluateRow(c, tokenizer, store, s, tests, rowFile, log);
      }
      JsonNode row = RunDirectory.readJson(rowFile);
      byId[s] = doubles(row.get("task_id"));
      agnostic[s] = doubles(row.get("task_agnostic"));
    }
    sessions.close();
    AccuracyMatrix seq = c.sequential()
        ? AccuracyMatrix.of(SequentialBaseline.run(c, tokenizer, vocabPath, steps, tests, out, progress, log), names, false)
        : null;
    AccuracyMatrix id = c.taskId() ? AccuracyMatrix.of(byId, names, false) : null;
    AccuracyMatrix ag = c.taskAgnostic() ? AccuracyMatrix.of(agnostic, names, true) : null;
    Report report = Report.titled("ConDU (" + c.method().key() + (c.method() == dev.mergetune.adapt.TrainSettings.Method.LORA
        ? ", " + c.stepOptions().loraSpace() + " space" : "") + ") over " + t + " tasks: " + String.join(", ", names));
    List<AccuracyTable.Row> zs = new ArrayList<>();
    for (int d = 0; d < t; d++) zs.add(AccuracyTable.Row.target(names.get(d), zeroShot[d]));
    report.accuracies("Zero-shot θ0", AccuracyTable.of(zs));
    if (id != null) report.mtil("MTIL (seen tasks by their expert, unseen by aggregation)", id, ID_TEXT);
    if (ag != null) report.mtil("Task-agnostic MTIL (every entry by aggregation)", ag, AGNOSTIC_TEXT);
    if (seq != null) report.mtil("Sequential fine-tuning (one model, each task in turn)", seq, SEQUENTIAL_TEXT);
    Path reportDir = out.resolve("report");
    report.writeTo(reportDir);
    ObjectNode result = c.describe();
    if (id != null) put(result.putObject("mtil"), id);
    if (ag != null) put(result.putObject("task_agnostic"), ag);
    if (seq != null) put(result.putObject("sequential"), seq);
    RunDirectory.writeJson(out.resolve("result.json"), result);
    if (id != null) log.printf("MTIL: %s%n", id.metrics().numbers());
    if (ag != null) log.printf("task-agnostic MTIL: %s%n", ag.metrics().numbers());
    if (seq != null) log.printf("sequential fine-tuning: %s%n", seq.metrics().numbers());
    log.printf("report: %s%n", reportDir);
    log.flush();
    return new Result(id, ag, seq, zeroShot, reportDir);
  }

  /** One session's row: the store holds tasks 0..s. */
  private static void evaluateRow(MtilConfig c, ClipTokenizer tokenizer, Path store, int s, List<EvalDataset> tests,
      Path rowFile, PrintWriter log) throws IOException {
    int t = tests.size();
    double[] byId = new double[t];
    double[] agnostic = new double[t];
    long start = System.nanoTime();
    try (ConduModel m = ConduModel.open(store, c.model(), tokenizer, c.batchSize())) {
      ConduModel.Mode aggregate = new ConduModel.Aggregate(c.topK(), c.aggregation());
      for (int d = 0; d < t; d++) {
        EvalDataset test = tests.get(d);
        boolean seen = d <= s;
        if (c.taskAgnostic() || !seen) agnostic[d] = Protocols.top1(m.classifier(aggregate), test);
        if (seen && c.taskId()) byId[d] = Protocols.top1(m.classifier(new ConduModel.Expert(d)), test);
        else if (!seen) byId[d] = agnostic[d];
        log.printf("session %d, %s (%s): %s%n", s + 1, test.name(), seen ? "seen" : "unseen",
            seen && c.taskId() && c.taskAgnostic()
                ? String.format(Locale.ROOT, "expert %.1f%%, aggregation %.1f%%", byId[d], agnostic[d])
                : String.format(Locale.ROOT, "%s %.1f%%", seen && c.taskId() ? "expert" : "aggregation",
                    seen && c.taskId() ? byId[d] : agnostic[d]));
        log.flush();
      }
      ObjectNode row = JSON.createObjectNode();
      row.put("session", s + 1);
      row.set("task_id", array(byId));
      row.set("task_agnostic", array(agnostic));
      row.put("experts_decoupled", m.decouples());
      row.put("seconds", (System.nanoTime() - start) / 1e9);
      RunDirectory.writeJson(rowFile, row);
    }
  }

  private static double[] zeroShot(MtilConfig c, ClipTokenizer tokenizer, List<EvalDataset> tests, Path file,
      PrintWriter log) throws IOException {
    return zeroShotRow(c.model(), c.modelConfig(), tokenizer, tests, c.batchSize(), file, JSON.createObjectNode(),
        "zero-shot θ0", log);
  }

  /**
   * The top-1 of one checkpoint's zero-shot head on every test set, recorded in {@code file} as {@code record} plus
   * {@code "top1"} (read back instead when the file is there); each result is logged after {@code label}.
   */
  static double[] zeroShotRow(Path checkpoint, String modelConfig, ClipTokenizer tokenizer, List<EvalDataset> tests, int batchSize,
      Path file, ObjectNode record, String label, PrintWriter log) throws IOException {
    if (Files.isRegularFile(file)) return doubles(RunDirectory.readJson(file).get("top1"));
    double[] acc = new double[tests.size()];
    try (ClipModel m = ClipLoader.load(checkpoint, modelConfig)) {
      ZeroShotClip zs = new ZeroShotClip(m, null, TextTokenizer.of(tokenizer, m.config().contextLength(),
          Truncation.TRUNCATE), new FeatureExtractor(batchSize, false, null));
      for (int d = 0; d < tests.size(); d++) {
        acc[d] = Protocols.top1(zs, tests.get(d));
        log.printf("%s, %s: %.1f%%%n", label, tests.get(d).name(), acc[d]);
        log.flush();
      }
    }
    record.set("top1", array(acc));
    RunDirectory.writeJson(file, record);
    return acc;
  }

  /** How many of the sequence's first tasks the store holds, checking they are exactly those, in order. */
  private static int storedTasks(Path store, List<String> names) throws IOException {
    if (!SessionStore.exists(store)) return 0;
    List<String> held = SessionStore.summary(store).taskNames();
    if (held.size() > names.size() || !names.subList(0, held.size()).equals(held)) {
      throw new IllegalStateException(store + " holds tasks " + held + ", not a start of the configured sequence "
          + names);
    }
    return held.size();
  }

  static ArrayNode array(double[] v) {
    ArrayNode a = JSON.createArrayNode();
    for (double x : v) a.add(x);
    return a;
  }

  static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
    return out;
  }

  private static void put(ObjectNode j, AccuracyMatrix m) {
    j.put("transfer", m.transfer());
    j.put("average", m.average());
    j.put("last", m.last());
    ArrayNode rows = j.putArray("matrix");
    for (double[] r : m.toArray()) rows.add(array(r));
  }
}
