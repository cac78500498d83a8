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
 * Runs the JMH suite and prints a Markdown table with GB/s and the fraction of the fastest same-run copy.
 *
 * <pre>
 *   BenchMain smoke        about a minute: 64 MB, 1 and 4 models, short iterations
 *   BenchMain full         64 and 256 MB, 1 and 4 models, longer iterations (the RESULTS.md figures)
 *   BenchMain full REGEX   only the benchmarks matching REGEX
 * </pre>
 *
 * JMH's JSON goes to {@code benchmarks/target/jmh-<mode>.json}, the table to {@code benchmarks/target/jmh-<mode>.md}.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws RunnerException, IOException {
    String mode = args.length > 0 ? args[0] : "smoke";
    String include = args.length > 1 ? args[1] : InterpolationBench.class.getSimpleName();
    boolean smoke = mode.equals("smoke");
    if (!smoke && !mode.equals("full")) throw new IllegalArgumentException("mode must be smoke or full, got " + mode);
    Path dir = Path.of("benchmarks", "target");
    Files.createDirectories(dir);
    ChainedOptionsBuilder options = new OptionsBuilder()
        .include(include)
        .forks(1)
        .jvmArgsAppend("-Xmx6g", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0")
        .resultFormat(ResultFormatType.JSON)
        .result(dir.resolve("jmh-" + mode + ".json").toString());
    if (smoke) {
      options.param("megabytes", "64").warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
          .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
    } else {
      options.param("megabytes", "64", "256").warmupIterations(3).warmupTime(TimeValue.seconds(2))
          .measurementIterations(5).measurementTime(TimeValue.seconds(2));
    }
    Collection<RunResult> results = new Runner(options.build()).run();
    String table = table(results, mode);
    System.out.println();
    System.out.println(table);
    Files.writeString(dir.resolve("jmh-" + mode + ".md"), table);
  }

  /** Bytes one call moves: every input read once and the output written once. */
  static double bytesMoved(String benchmark, int megabytes, int models) {
    double size = megabytes * 1048576.0;
    return benchmark.startsWith("copy") ? 2 * size : (models + 2) * size;
  }

  static String table(Collection<RunResult> results, String mode) {
    record Row(String name, int mb, int models, double ms, double err, double gbps) {}
    List<Row> rows = new ArrayList<>();
    Map<String, Double> bestCopy = new HashMap<>();
    for (RunResult r : results) {
      String name = r.getParams().getBenchmark().replaceAll(".*\\.", "");
      int mb = Integer.parseInt(r.getParams().getParam("megabytes"));
      int models = Integer.parseInt(r.getParams().getParam("models"));
      double ms = r.getPrimaryResult().getScore();
      double err = r.getPrimaryResult().getScoreError();
      double gbps = bytesMoved(name, mb, models) / (ms * 1e6);
      rows.add(new Row(name, mb, models, ms, err, gbps));
      if (name.startsWith("copy")) bestCopy.merge(mb + "/" + models, gbps, Math::max);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "JMH %s run, %s, %d cores, %s%n%n", mode, LocalDate.now(),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version")));
    sb.append("| benchmark | MB | models | ms/op (± 99.9%) | GB/s | fraction of best copy |\n");
    sb.append("|---|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      Double copy = bestCopy.get(row.mb + "/" + row.models);
      sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f ± %.3f | %.2f | %s |%n", row.name, row.mb,
          row.models, row.ms, row.err, row.gbps, copy == null ? "-" : String.format(Locale.ROOT, "%.2f", row.gbps / copy)));
    }
    return sb.toString();
  }
}
