package dev.mergetune.cli;

import dev.mergetune.demo.ConduDemo;
import dev.mergetune.demo.Demo;
import dev.mergetune.demo.PromptDemo;
import dev.mergetune.tune.MergeTuneSettings;
import dev.mergetune.world.WorldSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune demo}: every method on the project's own world and tiny CLIP, into one report folder
 * ({@link Demo}). Needs no download: the world is generated, the tiny CLIP is committed under {@code demo/tiny-clip/}.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "demo", description = "Run every method end to end on the project's procedural world with the"
    + " committed tiny CLIP (zero-shot, CoOp, TIES, DARE, MergeTune, ConDU with the sequential baseline) and write"
    + " one report folder (Markdown, JSON, PNG). A few minutes on two cores; re-running resumes.")
final class DemoCommand implements Callable<Integer> {
  static final String MODEL = "demo/tiny-clip/tiny-clip.safetensors";

  @Spec CommandSpec spec;

  @Option(names = "--out", defaultValue = "demo-out", description = "Output folder (default ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--model", description = "The tiny CLIP (default: " + MODEL + " of this installation)")
  Path model;

  @Option(names = "--world-seed", defaultValue = "7", description = "Seed of the generated world (default"
      + " ${DEFAULT-VALUE}, the world the committed model was pre-trained on)")
  long worldSeed;

  @Option(names = "--dataset", defaultValue = "shapes", description = "World dataset of the prompt stage (default"
      + " ${DEFAULT-VALUE})")
  String dataset;

  @Option(names = "--mergetune-preset", defaultValue = MergeTuneSettings.MERGETUNE_COOP, description = "MergeTune"
      + " preset of the prompt stage: mergetune-coop (the released recipe) | reference-code | paper (default"
      + " ${DEFAULT-VALUE})")
  String mergeTunePreset;

  @Option(names = "--progress", description = "Progress of every inner stage (training, features); without it the"
      + " demo prints one line per stage, and bars on a terminal")
  boolean progress;

  @Option(names = "--seeds", split = ",", paramLabel = "1,2,3", defaultValue = "1,2,3", description = "Seeds of the"
      + " prompt and ConDU stages (few-shot draw, crops, batches, DARE's masks); with several, the report gives the"
      + " mean ± spread over them and says which effects held (default ${DEFAULT-VALUE})")
  List<Long> seeds;

  @Option(names = "--shots", description = "CoOp's shots per base class (default: the demo's, " + PromptDemo.DEMO_SHOTS
      + "; at most the world's training images per class)")
  Integer shots;

  @Option(names = "--coop-lr", description = "CoOp's learning rate (default: the demo's, " + PromptDemo.DEMO_LR + ")")
  Double coopLr;

  @Option(names = "--coop-epochs", description = "CoOp's epochs (default: the demo's, " + PromptDemo.DEMO_EPOCHS + ")")
  Integer coopEpochs;

  @Option(names = "--coop-augment", description = "CoOp's training augmentation: none | coop (random resized crop"
      + " 0.08-1 + flip) | mtil (random resized crop 0.9-1) (default: the demo's, " + PromptDemo.DEMO_AUGMENT + ")")
  String coopAugment;

  @Option(names = "--coop-batch", description = "CoOp's batch size (default: the demo's)")
  Integer coopBatch;

  @Option(names = "--coop-views", description = "CoOp's cached augmented views per image (default: the demo's)")
  Integer coopViews;

  @Option(names = "--coop-last", description = "Keep CoOp's last epoch instead of its best validation epoch")
  boolean coopLast;

  @Option(names = "--condu-lr", description = "Learning rate of every ConDU expert and of the sequential model"
      + " (default: the demo's, " + ConduDemo.DEMO_LR + ")")
  Double conduLr;

  @Option(names = "--condu-steps", description = "Fine-tuning steps per task (default: the demo's, "
      + ConduDemo.DEMO_STEPS + ")")
  Long conduSteps;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    Path m = model != null ? model : defaultModel();
    PromptDemo.Options p = PromptDemo.Options.demo("a photo of a {}", "a photo of a", mergeTunePreset);
    if (coopLr != null || coopEpochs != null || shots != null || coopAugment != null || coopBatch != null
        || coopViews != null || coopLast) {
      p = new PromptDemo.Options(shots != null ? shots : p.shots(), coopBatch != null ? coopBatch : p.batch(),
          coopLr != null ? coopLr : p.lr(), coopEpochs != null ? coopEpochs : p.coopEpochs(), p.mergeTuneEpochs(),
          coopViews != null ? coopViews : p.views(), p.seed(), p.tiesDensity(), p.dareKeep(), p.pathPoints(),
          p.template(), p.ctxInit(), p.mergeTunePreset(), coopAugment != null ? coopAugment : p.augment(),
          !coopLast && p.keepBest());
    }
    ConduDemo.Options c = ConduDemo.Options.demo();
    if (conduLr != null || conduSteps != null) {
      c = new ConduDemo.Options(conduSteps != null ? conduSteps : c.iterations(), c.batch(),
          conduLr != null ? conduLr : c.lr(), c.warmup(), c.topK(), c.seed());
    }
    Demo.Result r = Demo.run(new Demo.Options(WorldSpec.defaults(worldSeed), m, dataset, p, c,
        progress || (GlobalOptions.progress() && Console.terminal()), GlobalOptions.verbose(), seeds), out, w);
    w.flush();
    return 0;
  }

  /** The committed model beside the launcher ({@code mergetune.home}), else under the working directory. */
  static Path defaultModel() {
    String home = System.getProperty("mergetune.home");
    Path p = home != null ? Path.of(home).resolve(MODEL) : Path.of(MODEL);
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException("no tiny CLIP at " + p + ": give --model, or run from the repository");
    }
    return p;
  }
}
