package dev.mergetune.cli;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.data.DataSources;
import dev.mergetune.clip.ClipVocabulary;
import dev.mergetune.data.ClassNamesFile;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import dev.mergetune.eval.Report;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.protocol.InterpolationPath;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune path}: zero-shot accuracy and cross-entropy of θ(α) = (1 − α)·A + α·B on a labelled image set for
 * each α ({@link InterpolationPath}), written as a report with the loss/accuracy plot.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "path", description = "Zero-shot accuracy and loss along the straight line between two CLIP checkpoints.")
final class PathCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--from", required = true, description = "Checkpoint A (alpha 0)")
  Path from;

  @Option(names = "--to", required = true, description = "Checkpoint B (alpha 1), the same shapes as A")
  Path to;

  @Option(names = "--model-config", description = "For both checkpoints: " + ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--alphas", defaultValue = "0:1:0.1",
      description = "start:stop:step (stop included) or a comma list, increasing (default ${DEFAULT-VALUE})")
  String alphas;

  @Option(names = "--data", required = true, description = "An image folder (one sub-folder per class) or a dataset"
      + " config .yaml/.json")
  Path data;

  @Option(names = "--classes", description = "Class names, one per line (default: the dataset's own, '_' read as ' ')")
  Path classes;

  @Option(names = "--templates", defaultValue = "a photo of a {}.",
      description = "imagenet80 | coop:DATASET | mtil:DATASET | a file | one template (default '${DEFAULT-VALUE}')")
  String templates;

  @Option(names = "--vocab", description = "CLIP BPE merges or a Hugging Face vocab.json; default: found for --from"
      + " (its snapshot's, $MERGETUNE_CLIP_VOCAB, beside it, or the bundled CLIP vocabulary)")
  Path vocab;

  @Option(names = "--batch", defaultValue = "32", description = "Batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--out", required = true, description = "The report folder (report.json, report.md, PNG)")
  Path out;

  @Option(names = "--title", description = "The report's title (default: A → B on the data set)")
  String title;


  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    double[] a = InterpolationPath.parseAlphas(alphas);
    List<String> prompts = ClipInputs.templates(templates);
    Dataset ds = DataSources.load(data, null);
    List<String> names = classes != null ? ClassNamesFile.read(classes) : ds.classNames().stream()
        .map(n -> n.replace('_', ' ')).toList();
    if (names.size() != ds.numClasses()) {
      throw new IllegalArgumentException(classes + " has " + names.size() + " names for the " + ds.numClasses()
          + " classes of " + data);
    }
    List<Path> files = new ArrayList<>();
    int[] labels = new int[ds.size()];
    for (Sample s : ds.samples()) {
      labels[files.size()] = s.label();
      files.add(s.image());
    }
    ClipModel modelA = ClipLoader.load(from, modelConfig);
    ClipModel modelB = ClipLoader.loadSameModelAs(to, modelConfig, modelA);
    if (modelB.origin().endsWith("which records none")) {
      w.printf("%s records no model configuration: it takes %s's, as a path needs one model%n", to.getFileName(),
          from.getFileName());
    }
    ClipVocabulary vocabulary = ClipInputs.vocabulary(vocab, from, modelA);
    w.printf("%s → %s on %s: %d images, %d classes, %d alphas%n", from.getFileName(), to.getFileName(), ds.name(),
        ds.size(), ds.numClasses(), a.length);
    w.flush();
    List<InterpolationPath.Point> points = InterpolationPath.sweep(modelA, modelB, a,
        new ClassificationTask(ds.name(), names, prompts, files), labels,
        ClipInputs.tokenizer(vocabulary.tokenizer(), modelA, true), ClipInputs.extractor(batch, GlobalOptions.progress(), null), w);
    String t = title != null && !title.isBlank() ? title
        : "Interpolation path: " + from.getFileName() + " → " + to.getFileName() + " on " + ds.name();
    Report.titled(t).path("Interpolation path", InterpolationPath.curves(points)).writeTo(out);
    w.printf("report: %s%n", out.resolve(Report.MARKDOWN));
    w.flush();
    return 0;
  }
}
