package dev.mergetune.protocol;

import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import dev.mergetune.data.ClassSubsets;
import dev.mergetune.data.Dataset;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.eval.AccuracyMatrix;
import dev.mergetune.eval.AccuracyTable;
import dev.mergetune.eval.BaseToNovelRow;
import dev.mergetune.eval.BaseToNovelTable;
import dev.mergetune.eval.Report;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The evaluation protocols of methods.md §2.5 and §4 over any {@link Classifier}:
 * <ul>
 *   <li>base-to-novel: each dataset's images of the base classes (the first ceil(C/2) labels) classified among the
 *       base classes, those of the novel classes among the novel classes (relabelled from 0); HM and the average row
 *       ({@link BaseToNovelTable});</li>
 *   <li>cross-dataset and domain generalisation: top-1 on each dataset, among all its classes, the targets'
 *       average apart from the source ({@link AccuracyTable});</li>
 *   <li>MTIL: A[s][d] = top-1 of session s's checkpoint on dataset d ({@link AccuracyMatrix}: Transfer, Average,
 *       Last); a checkpoint repeated in several sessions is evaluated once.</li>
 * </ul>
 * Accuracies are in percent, top-1 with ties to the lower class index ({@link Accuracy}).
 */
public final class Protocols {
  private Protocols() {}

  /** Top-1 (percent) of a classifier on a task whose labels are {@code labels}. */
  public static double top1(Classifier classifier, ClassificationTask task, int[] labels) {
    float[][] logits = classifier.logits(task);
    if (logits.length != labels.length) {
      throw new IllegalStateException(task.name() + ": the classifier gave " + logits.length + " rows of logits for "
          + labels.length + " images");
    }
    for (float[] row : logits) {
      if (row.length != task.classNames().size()) {
        throw new IllegalStateException(task.name() + ": the classifier gave " + row.length + " logits for "
            + task.classNames().size() + " classes");
      }
    }
    return Accuracy.top1(logits, labels);
  }

  /** Top-1 (percent) on a whole dataset. */
  public static double top1(Classifier classifier, EvalDataset d) {
    return top1(classifier, d.task(), EvalDataset.labels(d.data()));
  }

  /** One dataset's base and novel accuracy. */
  public static BaseToNovelRow baseToNovel(Classifier classifier, EvalDataset d) {
    int c = d.data().numClasses();
    int b = ClassSubsets.baseCount(c);
    Dataset base = ClassSubsets.base(d.data());
    Dataset novel = ClassSubsets.novel(d.data());
    double accBase = top1(classifier, d.task(d.name() + "/base", base, d.classNames().subList(0, b)),
        EvalDataset.labels(base));
    double accNovel = top1(classifier, d.task(d.name() + "/novel", novel, d.classNames().subList(b, c)),
        EvalDataset.labels(novel));
    return new BaseToNovelRow(d.name(), accBase, accNovel);
  }

  public static BaseToNovelTable baseToNovel(Classifier classifier, List<EvalDataset> datasets, PrintWriter log) {
    List<BaseToNovelRow> rows = new ArrayList<>();
    ProgressTask bar = Progress.installed().start("eval", datasets.size(), "dataset");
    for (EvalDataset d : datasets) {
      BaseToNovelRow r = baseToNovel(classifier, d);
      bar.step(1);
      log(log, "%s: base %.1f%%, novel %.1f%%, HM %.1f%% (%d images, %d classes, %s)", d.name(), r.base(), r.novel(),
          r.hm(), d.data().size(), d.data().numClasses(), describe(d.templates()));
      rows.add(r);
    }
    bar.close();
    return BaseToNovelTable.of(rows);
  }

  /** Top-1 per dataset: sources (reported, not averaged), then targets. */
  public static AccuracyTable accuracies(Classifier classifier, List<EvalDataset> sources, List<EvalDataset> targets,
      PrintWriter log) {
    List<AccuracyTable.Row> rows = new ArrayList<>();
    try (ProgressTask bar = Progress.installed().start("eval", sources.size() + targets.size(), "dataset")) {
      for (EvalDataset d : sources) {
        rows.add(new AccuracyTable.Row(d.name(), top1(classifier, d, log, "source "), true));
        bar.step(1);
      }
      for (EvalDataset d : targets) {
        rows.add(AccuracyTable.Row.target(d.name(), top1(classifier, d, log, "")));
        bar.step(1);
      }
    }
    return AccuracyTable.of(rows);
  }

  private static double top1(Classifier classifier, EvalDataset d, PrintWriter log, String role) {
    double acc = top1(classifier, d);
    log(log, "%s%s: top-1 %.1f%% (%d images, %d classes, %s)", role, d.name(), acc, d.data().size(),
        d.data().numClasses(), describe(d.templates()));
    return acc;
  }

  /**
   * The MTIL accuracy matrix: row s from {@code sessions.get(s)} on every dataset; a checkpoint met again is not
   * evaluated again (its row is copied), so the zero-shot matrix costs one pass over the datasets.
   */
  public static AccuracyMatrix mtil(ClassifierProvider provider, List<Path> sessions, List<EvalDataset> datasets,
      PrintWriter log) {
    if (sessions.size() != datasets.size()) {
      throw new IllegalArgumentException(sessions.size() + " sessions for " + datasets.size() + " datasets");
    }
    int t = datasets.size();
    double[][] a = new double[t][];
    Map<Path, double[]> done = new HashMap<>();
    ProgressTask bar = Progress.installed().start("eval", t, "session");
    for (int s = 0; s < t; s++, bar.step(1)) {
      Path ckpt = sessions.get(s).toAbsolutePath().normalize();
      double[] row = done.get(ckpt);
      if (row == null) {
        Classifier c = provider.open(ckpt);
        row = new double[t];
        for (int d = 0; d < t; d++) {
          row[d] = top1(c, datasets.get(d));
          log(log, "session %d (%s), %s: top-1 %.1f%%", s + 1, ckpt.getFileName(), datasets.get(d).name(), row[d]);
        }
        done.put(ckpt, row);
      } else {
        log(log, "session %d (%s): the same checkpoint as before, row copied", s + 1, ckpt.getFileName());
      }
      a[s] = row.clone();
    }
    bar.close();
    return AccuracyMatrix.of(a, datasets.stream().map(EvalDataset::name).toList(), false);
  }

  /** Runs a protocol config: loads its datasets, evaluates, and returns the report (not yet written). */
  public static Report run(ProtocolConfig config, ClassifierProvider provider, PrintWriter log) {
    List<EvalDataset> datasets = new ArrayList<>();
    for (ProtocolConfig.Entry e : config.datasets()) datasets.add(config.load(e));
    List<EvalDataset> sources = new ArrayList<>();
    for (ProtocolConfig.Entry e : config.sources()) sources.add(config.load(e));
    Report report = Report.titled(config.title());
    String section = config.kind().title();
    switch (config.kind()) {
      case BASE_TO_NOVEL:
        return report.baseToNovel(section, baseToNovel(provider.open(config.model()), datasets, log));
      case CROSS_DATASET:
      case DOMAIN_GENERALISATION:
        return report.accuracies(section, accuracies(provider.open(config.model()), sources, datasets, log));
      case MTIL:
        return report.mtil(section, mtil(provider, config.sessions(), datasets, log));
      default:
        throw new AssertionError(config.kind());
    }
  }

  private static String describe(List<String> templates) {
    return templates.size() == 1 ? "template '" + templates.get(0) + "'" : templates.size() + " templates";
  }

  private static void log(PrintWriter log, String format, Object... args) {
    if (log == null) return;
    log.println(String.format(Locale.ROOT, format, args));
    log.flush();
  }
}
