package dev.mergetune.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.condu.ConduModel;
import dev.mergetune.condu.ConduTaskStep;
import dev.mergetune.condu.SemanticAggregation;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.data.ClassNamesFile;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import dev.mergetune.eval.Accuracy;
import dev.mergetune.protocol.ClassificationTask;
import dev.mergetune.train.RunDirectory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune condu predict}: classify a labelled image set with a ConDU store — a task's expert (decoupled into
 * one buffer) or θ0 + each image's top-K experts — printing top-1 and optionally writing every prediction.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "predict", description = "Classify images with a ConDU session store: --task NAME (that task's"
    + " expert) or semantic aggregation (θ0 + the top-K experts by prototype routing). Prints top-1 accuracy.")
final class ConduPredictCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--store", required = true, description = "The session store folder")
  Path store;

  @Option(names = "--model", description = "θ0 (default: the path the store records; the SHA-256 must match)")
  Path model;

  @Option(names = "--data", required = true, description = "Labelled images: an image folder or a dataset config"
      + " (for the coop and mtil layouts its test split)")
  Path data;

  @Option(names = "--classes", description = "Class names, one per line (default: the dataset's, '_' read as ' ')")
  Path classes;

  @Option(names = "--templates", description = "mtil:DATASET | coop:DATASET | imagenet80 | a file | one template"
      + " (default: mtil:NAME if known, else 'a photo of a {}.')")
  String templates;

  static final class Selection {
    @Option(names = "--task", description = "Classify with this task's expert alone (task-ID inference)")
    String task;

    @Option(names = "--top-k", description = "Semantic aggregation over θ0 and the K best-routed experts (default 4)")
    Integer topK;
  }

  @ArgGroup(exclusive = true)
  Selection selection = new Selection();

  @Option(names = "--weighted", description = "Aggregation weighted by softmax(SCALE · task score) instead of the"
      + " unweighted mean (e.g. 100)")
  Double weighted;

  @Option(names = "--out", description = "Write every image's prediction to this JSON file")
  Path out;

  @Option(names = "--vocab", description = "CLIP BPE merges or a Hugging Face vocab.json; default: θ0's snapshot's,"
      + " $MERGETUNE_CLIP_VOCAB, one beside θ0, or the bundled CLIP vocabulary")
  Path vocab;

  @Option(names = "--batch", defaultValue = "32", description = "Images per batch (default ${DEFAULT-VALUE})")
  int batch;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    Dataset ds = DataSources.load(data, "test");
    List<String> names = classes != null ? ClassNamesFile.read(classes) : ConduTaskStep.promptNames(ds);
    if (names.size() != ds.numClasses()) {
      throw new IllegalArgumentException(classes + " has " + names.size() + " names for the " + ds.numClasses()
          + " classes of " + data);
    }
    dev.mergetune.condu.Theta0Ref ref = SessionStore.summary(store).theta0();
    Path theta0 = model != null ? model : ref.path();
    ClipTokenizer tokenizer = dev.mergetune.clip.ClipVocabulary.resolve(vocab, theta0,
        dev.mergetune.clip.ClipLoader.resolve(theta0, ref.modelConfig()).config().vocabSize()).tokenizer();
    List<Path> files = new ArrayList<>();
    int[] labels = new int[ds.size()];
    for (Sample s : ds.samples()) {
      labels[files.size()] = s.label();
      files.add(s.image());
    }
    ClassificationTask task = new ClassificationTask(ds.name(), names, ConduInputs.templates(templates, ds.name()),
        files);
    try (ConduModel m = ConduModel.open(store, model, tokenizer, batch)) {
      ConduModel.Mode mode;
      String what;
      if (selection.task != null) {
        int t = m.taskNames().indexOf(selection.task);
        if (t < 0) throw new IllegalArgumentException("--task " + selection.task + ": the store holds " + m.taskNames());
        if (weighted != null) throw new IllegalArgumentException("--weighted applies to aggregation, not to --task");
        mode = new ConduModel.Expert(t);
        what = "expert '" + selection.task + "'";
      } else {
        int k = selection.topK == null ? 4 : selection.topK;
        mode = new ConduModel.Aggregate(k, weighted == null ? SemanticAggregation.unweighted()
            : SemanticAggregation.weighted(weighted));
        what = "θ0 + top-" + Math.min(k, m.taskNames().size()) + " experts (" + (weighted == null ? "unweighted"
            : "weighted, scale " + weighted) + ")";
      }
      float[][] logits = m.logits(task, mode);
      int[] pred = SemanticAggregation.argmax(logits);
      double top1 = Accuracy.top1(logits, labels);
      w.printf("%s on %s (%d images, %d classes): top-1 %.1f%%; %d expert decouple%s%n", what, ds.name(), files.size(),
          names.size(), top1, m.decouples(), m.decouples() == 1 ? "" : "s");
      if (out != null) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("mode", what);
        root.put("top1", top1);
        ArrayNode rows = root.putArray("predictions");
        for (int i = 0; i < files.size(); i++) {
          rows.addObject().put("image", files.get(i).toString()).put("label", labels[i]).put("prediction", pred[i])
              .put("class", names.get(pred[i]));
        }
        RunDirectory.writeJson(out, root);
        w.printf("predictions: %s%n", out);
      }
    }
    w.flush();
    return 0;
  }
}
