package dev.mergetune.cli;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.clip.ImageFiles;
import dev.mergetune.clip.ZeroShotClassifier;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.ImageBatch;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.ClassNamesFile;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
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
 * {@code mergetune zeroshot}: CLIP zero-shot classification of a labelled image set — class names × templates →
 * averaged normalised text embeddings, logits = scale·cos — printing top-1 and top-5 accuracy.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "zeroshot", description = "Zero-shot accuracy of a CLIP model on a labelled image set.")
final class ZeroshotCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, description = "CLIP checkpoint")
  Path model;

  @Option(names = "--model-config", description = ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--data", required = true, description = "An image folder (one sub-folder per class, sorted = labels)"
      + " or a dataset config .yaml/.json (layouts imagefolder, coop, mtil, csv)")
  Path data;

  @Option(names = "--classes", description = "Class names, one per line (default: the dataset's own, '_' read as ' ')")
  Path classes;

  @Option(names = "--templates", defaultValue = "a photo of a {}.",
      description = "imagenet80 | coop:DATASET | mtil:DATASET | a file (one template with {} per line) | one template"
          + " (default '${DEFAULT-VALUE}')")
  String templates;

  @Option(names = "--vocab", description = "CLIP BPE merges (.txt.gz) or a Hugging Face vocab.json; default: the"
      + " snapshot's own, $MERGETUNE_CLIP_VOCAB, one beside the model, or the bundled CLIP vocabulary")
  Path vocab;

  @Option(names = "--batch", defaultValue = "32", description = "Batch size (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--cache", description = "Feature cache folder")
  Path cache;


  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    Dataset ds = DataSources.load(data, null);
    List<String> names = classes != null ? ClassNamesFile.read(classes) : ds.classNames().stream()
        .map(n -> n.replace('_', ' ')).toList();
    if (names.size() != ds.numClasses()) {
      throw new IllegalArgumentException((classes != null ? classes.toString() : "the class names") + " has "
          + names.size() + " names for the " + ds.numClasses() + " classes of " + data);
    }
    ClipModel clip = ClipLoader.load(model, modelConfig);
    FeatureExtractor extractor = ClipInputs.extractor(batch, GlobalOptions.progress(), cache);
    String identity = ClipInputs.identity(model, cache);  // the model file's SHA-256 when caching: hash it once
    List<String> prompts = ClipInputs.templates(templates);
    ZeroShotClassifier head = ZeroShotClassifier.build(clip, identity,
        ClipInputs.tokenizer(ClipInputs.vocabulary(vocab, model, clip).tokenizer(), clip, true), names, prompts,
        extractor);
    List<Path> files = new ArrayList<>();
    int[] labels = new int[ds.size()];
    int i = 0;
    for (Sample s : ds.samples()) {
      files.add(s.image());
      labels[i++] = s.label();
    }
    float[][] features = extractor.images(clip, identity,
        new ImageFiles(files, ClipImageTransform.of(clip.config().imageResolution()), ImageBatch.defaultThreads()));
    float[][] logits = head.logits(features);
    w.printf("%s: %d images, %d classes, %s%n", ds.name(), ds.size(), ds.numClasses(), describe(prompts));
    w.printf("top-1 %.1f%%  top-5 %.1f%%%n", 100 * ZeroShotClassifier.accuracy(logits, labels, 1),
        100 * ZeroShotClassifier.accuracy(logits, labels, 5));
    w.flush();
    return 0;
  }

  private String describe(List<String> t) {
    return t.size() == 1 ? "template '" + t.get(0) + "'" : t.size() + " templates (" + templates + ")";
  }
}
