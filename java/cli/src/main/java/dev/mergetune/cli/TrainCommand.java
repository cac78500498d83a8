package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ClipVocabulary;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.data.Dataset;
import dev.mergetune.data.DataSources;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune train}: one adaptation method (CoOp, KgCoOp, linear probe, end-to-end, LoRA) trained on a dataset
 * into a run directory ({@link TrainingRun}). Every setting defaults to the method's recipe ({@link TrainSettings});
 * an option given overrides it.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "train", description = "Train an adaptation method (coop, kgcoop, linear-probe, e2e, lora) into a run"
    + " directory: run.json, checkpoints/, metrics.jsonl, the trained state, result.json. Re-running the same command"
    + " on an interrupted run resumes it.")
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--method", required = true, description = "coop | kgcoop | linear-probe | e2e | lora")
  String method;

  @Option(names = "--model", required = true, description = "The CLIP checkpoint to adapt")
  Path model;

  @Option(names = "--model-config", description = ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--data", required = true, description = "Training data: an image folder or a dataset config"
      + " (.yaml/.json); for the coop and mtil layouts its train split is used")
  Path data;

  @Option(names = "--val", description = "Validation data (default: the val split of a coop-layout --data; else none)")
  Path val;

  @Option(names = "--out", required = true, description = "The run directory")
  Path out;

  @Mixin TrainOptions options;

  @Option(names = "--vocab", description = "CLIP BPE merges (.txt.gz) or a Hugging Face vocab.json; default: the"
      + " snapshot's own, $MERGETUNE_CLIP_VOCAB, one beside the model, or the bundled CLIP vocabulary")
  Path vocab;

  @Option(names = "--feature-batch", defaultValue = "32", description = "Batch size of feature extraction and"
      + " evaluation (default ${DEFAULT-VALUE})")
  int featureBatch;

  @Option(names = "--cache", description = "Feature cache folder (frozen-encoder methods)")
  Path cache;


  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    TrainSettings s = settings();
    Dataset train = DataSources.load(data, "train");
    Dataset validation = val != null ? DataSources.load(val, null)
        : DataSources.hasSplit(data, "val") ? DataSources.load(data, "val") : null;
    TrainingRun.Data d = TrainingRun.prepare(s, train, validation);
    ClipModel clip = ClipLoader.load(model, modelConfig);
    ClipVocabulary vocabulary = ClipInputs.vocabulary(vocab, model, clip);
    ClipTokenizer tokenizer = vocabulary.tokenizer();
    Path vocabFile = vocabulary.file();
    String description = data + (val != null ? " (val " + val + ")" : "") + ", " + s.subsample + " classes, "
        + (s.shots == 0 ? "all" : s.shots) + " shots";
    TrainingRun.Inputs in = new TrainingRun.Inputs(clip, model, ClipInputs.modelConfig(modelConfig),
        ClipInputs.identity(model, cache), tokenizer, vocabFile,
        d.train(), d.validation(), data, val != null ? val : validation == null ? null : data, description,
        ClipInputs.extractor(featureBatch, GlobalOptions.progress(), cache));
    TrainingRun.Result r = TrainingRun.run(s, in, out, GlobalOptions.progress(), w);
    w.printf("%s: %d steps%s; run directory %s%n", s.method, r.steps(), Double.isFinite(r.bestValidationAccuracy())
        ? String.format(", best validation accuracy %.1f%% (epoch %d)", 100 * r.bestValidationAccuracy(),
            r.bestEpoch()) : "", out);
    w.flush();
    return 0;
  }

  TrainSettings settings() {
    return options.settings(method);
  }
}
