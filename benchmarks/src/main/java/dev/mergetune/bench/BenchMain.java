package dev.mergetune.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH suite and prints a Markdown table with GB/s and the fraction of the fastest same-run copy for the
 * merge benchmarks, and a second table with the plain JMH score and unit for the others (TokenizerBench: prompts/s).
 *
 * <pre>
 *   BenchMain smoke        about a minute: 64 MB, 1 and 4 models, short iterations
 *   BenchMain full         64 and 256 MB, 1 and 4 models, longer iterations (the RESULTS.md figures)
 *   BenchMain full REGEX   only the benchmarks matching REGEX
 *   BenchMain scale [REGEX] MergeScaleBench at T = 2, 8, 11 with 1 warm-up and 3 measured iterations
 *   BenchMain full ConduBench  the ConDU store at ViT-B/16 scale, 11 tasks (minutes of store building first)
 * </pre>
 *
 * ConduBench is never in the default smoke run; its stores are built once per run under
 * {@code benchmarks/target/condu-fixture} (shared by its forks) and deleted at the end.
 *
 * JMH's JSON goes to {@code benchmarks/target/jmh-<mode>.json}, the table to {@code benchmarks/target/jmh-<mode>.md}.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws RunnerException, IOException {
    String mode = args.length > 0 ? args[0] : "smoke";
    String include = args.length > 1 ? args[1]
        : mode.equals("scale") ? MergeScaleBench.class.getSimpleName() : InterpolationBench.class.getSimpleName();
    boolean smoke = mode.equals("smoke");
    boolean scale = mode.equals("scale");
    if (!smoke && !scale && !mode.equals("full")) {
      throw new IllegalArgumentException("mode must be smoke, scale or full, got " + mode);
    }
    Path dir = Path.of("benchmarks", "target");
    Files.createDirectories(dir);
    boolean condu = include.contains("ConduBench");
    Path fixture = dir.resolve("condu-fixture").toAbsolutePath();
    List<String> jvmArgs = new ArrayList<>(List.of(condu ? "-Xmx2g" : "-Xmx6g",  // ConduBench's data are native
        "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0"));
    if (condu) jvmArgs.add("-Dmergetune.condu.fixture=" + fixture);
    ChainedOptionsBuilder options = new OptionsBuilder()
        .include(include)
        .forks(1)
        .jvmArgsAppend(jvmArgs.toArray(String[]::new))
        .resultFormat(ResultFormatType.JSON)
        .result(dir.resolve("jmh-" + mode + ".json").toString());
    if (condu) {  // SingleShotTime rows take seconds to tens of seconds each; decouple and copy are ~0.1 s calls
      options.warmupIterations(1).warmupTime(TimeValue.seconds(2))
          .measurementIterations(smoke ? 1 : 5).measurementTime(TimeValue.seconds(2));
    } else if (include.contains("PathTerm")) {  // milliseconds per call
      options.warmupIterations(smoke ? 1 : 3).warmupTime(TimeValue.seconds(1))
          .measurementIterations(smoke ? 2 : 5).measurementTime(TimeValue.seconds(1));
    } else if (include.contains("MergeTuneStep")) {  // seconds to minutes per step at ViT-B/16 text dims on a CPU
      options.warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
          .measurementIterations(smoke ? 1 : 2).measurementTime(TimeValue.milliseconds(500));
      if (smoke) options.param("classes", "10");
    } else if (include.contains("DataParallelStep")) {  // ~0.1–1 s steps; each trial starts a peer JVM
      options.warmupIterations(1).warmupTime(TimeValue.seconds(3))
          .measurementIterations(smoke ? 1 : 5).measurementTime(TimeValue.seconds(smoke ? 2 : 4));
    } else if (include.contains("TrainStep")) {  // ViT-B/16 training steps take seconds each: a few operations per figure
      options.warmupIterations(smoke ? 1 : 2).warmupTime(TimeValue.milliseconds(500))
          .measurementIterations(smoke ? 2 : 4).measurementTime(TimeValue.milliseconds(500));
    } else if (include.contains("SvdScale")) {  // per-layer SVD merges: seconds to minutes per call, one shot each
      options.warmupIterations(1).measurementIterations(smoke ? 1 : 3);
    } else if (include.contains("GtaScale")) {  // ViT-B/16-scale GTA merges: the selection rows take seconds per call
      options.param("tasks", "2", "8").warmupIterations(1).warmupTime(TimeValue.seconds(1))
          .measurementIterations(smoke ? 1 : 3).measurementTime(TimeValue.seconds(1));
    } else if (scale) {  // ViT-B/16-scale merges: seconds per call for the LibTorch rows, so fewer iterations
      options.param("tasks", "2", "8", "11").warmupIterations(1).warmupTime(TimeValue.seconds(2))
          .measurementIterations(3).measurementTime(TimeValue.seconds(2));
    } else if (smoke) {
      options.param("megabytes", "64").param("tasks", "2").warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
          .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
    } else {
      options.param("megabytes", "64", "256").param("tasks", "2", "8", "11").warmupIterations(3).warmupTime(TimeValue.seconds(2))
          .measurementIterations(5).measurementTime(TimeValue.seconds(2));
    }
    Collection<RunResult> results;
    try {
      if (condu) ConduFixture.delete(fixture);  // a fixture from an older build could hold an older store format
      results = new Runner(options.build()).run();
    } finally {
      if (condu) ConduFixture.delete(fixture);
    }
    String table = table(results, mode);
    System.out.println();
    System.out.println(table);
    Files.writeString(dir.resolve("jmh-" + mode + ".md"), table);
  }

  /**
   * Bytes one call moves: every input read once and the output written once (the floor any version pays); NaN for
   * benchmarks that are not merges.
   */
  static double bytesMoved(String benchmarkClass, String benchmark, Map<String, String> params) {
    if (benchmarkClass.equals(ConduBench.class.getSimpleName())) {
      double p = 4.0 * vitB16Parameters();
      if (benchmark.startsWith("copy")) return 2 * p;
      if (benchmark.equals("decouple")) return 3 * p + p / 32;  // θ0 and U in, the expert out, 1 mask bit in
      return Double.NaN;
    }
    boolean vitScale = benchmarkClass.equals(MergeScaleBench.class.getSimpleName())
        || benchmarkClass.equals(GtaScaleBench.class.getSimpleName());
    if (!params.containsKey("megabytes") && !vitScale) return Double.NaN;
    if (vitScale) {
      double p = 4.0 * vitB16Parameters();
      int tasks = Integer.parseInt(params.get("tasks"));
      if (benchmark.startsWith("copy")) return 2 * p;
      if (benchmark.startsWith("signmax")) return (tasks + 1) * p + tasks * p / 32;  // deltas in, U out, 1 bit/task
      return (tasks + 2) * p;                                                        // θ0 and T models in, out
    }
    double size = Integer.parseInt(params.get("megabytes")) * 1048576.0;
    int models = Integer.parseInt(params.get("models"));
    return benchmark.startsWith("copy") ? 2 * size : (models + 2) * size;
  }

  static long vitB16Parameters() {
    long total = 0;
    for (SyntheticCheckpoints.Spec s : SyntheticCheckpoints.vitB16Layout()) {
      long n = 1;
      for (long d : s.shape()) n *= d;
      total += n;
    }
    return total;
  }

  /** Rows that are merges (or decouples): times turned into GB/s against the same run's best copy. */
  static boolean isMerge(String benchmarkClass, String benchmark) {
    return benchmarkClass.equals(InterpolationBench.class.getSimpleName())
        || benchmarkClass.equals(MergeScaleBench.class.getSimpleName())
        || benchmarkClass.equals(GtaScaleBench.class.getSimpleName())
        || (benchmarkClass.equals(ConduBench.class.getSimpleName())
            && (benchmark.startsWith("copy") || benchmark.equals("decouple")));
  }

  /** Items/s (a benchmark with a {@code batch} parameter) or calls/s for a time-per-operation score, else "-". */
  static String rate(String name, Map<String, String> params, double score, String unit) {
    double seconds = unit.startsWith("ms/") ? score * 1e-3 : unit.startsWith("us/") ? score * 1e-6
        : unit.startsWith("ns/") ? score * 1e-9 : unit.startsWith("s/") ? score : Double.NaN;
    if (Double.isNaN(seconds)) return "-";
    if (params.containsKey("batch") && !name.contains("Overhead")) {
      return String.format(Locale.ROOT, "%.1f items/s", Integer.parseInt(params.get("batch")) / seconds);
    }
    double perSecond = 1 / seconds;  // calls of seconds each (ConduBench) keep three digits instead of printing 0
    return String.format(Locale.ROOT, perSecond >= 100 ? "%.0f calls/s" : "%.3g calls/s", perSecond);
  }

  static String table(Collection<RunResult> results, String mode) {
    record Row(String name, String params, double ms, double err, double gbps) {}
    record Other(String name, String params, double score, double err, String unit, String rate) {}
    List<Row> rows = new ArrayList<>();
    List<Other> others = new ArrayList<>();
    Map<String, Double> bestCopy = new HashMap<>();
    for (RunResult r : results) {
      String[] parts = r.getParams().getBenchmark().split("\\.");
      String cls = parts[parts.length - 2];
      String name = parts[parts.length - 1];
      Map<String, String> params = new java.util.TreeMap<>();
      for (String key : r.getParams().getParamsKeys()) params.put(key, r.getParams().getParam(key));
      String paramText = cls + " " + params;
      double score = r.getPrimaryResult().getScore();
      double err = r.getPrimaryResult().getScoreError();
      if (!isMerge(cls, name)) {  // not a merge (e.g. TokenizerBench): its own score and unit, no GB/s
        String unit = r.getPrimaryResult().getScoreUnit();
        others.add(new Other(name, paramText, score, err, unit, rate(name, params, score, unit)));
        continue;
      }
      double gbps = bytesMoved(cls, name, params) / (score * 1e6);
      rows.add(new Row(name, paramText, score, err, gbps));
      if (name.startsWith("copy")) bestCopy.merge(paramText, gbps, Math::max);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "JMH %s run, %s, %d cores, %s%n%n", mode, LocalDate.now(),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version")));
    if (!rows.isEmpty()) {
      sb.append("| benchmark | params | ms/op (± 99.9%) | GB/s | fraction of best copy |\n");
      sb.append("|---|---|---:|---:|---:|\n");
      for (Row row : rows) {
        Double copy = bestCopy.get(row.params);
        sb.append(String.format(Locale.ROOT, "| %s | %s | %.3f ± %.3f | %.2f | %s |%n", row.name, row.params, row.ms,
            row.err, row.gbps, copy == null ? "-" : String.format(Locale.ROOT, "%.2f", row.gbps / copy)));
      }
    }
    if (!others.isEmpty()) {
      if (!rows.isEmpty()) sb.append('\n');
      sb.append("| benchmark | params | score (± 99.9%) | unit | throughput |\n");
      sb.append("|---|---|---:|---|---:|\n");
      for (Other o : others) {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %,.4g ± %,.2g | %s | %s |%n", o.name, o.params, o.score, o.err,
            o.unit, o.rate));
      }
    }
    return sb.toString();
  }
}
