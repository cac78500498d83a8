package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.clip.image.ClipImageTransform;
import dev.mergetune.clip.image.Transform;
import dev.mergetune.condu.AdapterSpace;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.ClipVocabulary;
import dev.mergetune.clip.text.ClipTokenizer;
import dev.mergetune.condu.ConduSessions;
import dev.mergetune.condu.ConduTaskStep;
import dev.mergetune.condu.Prototypes;
import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.StoredSession;
import dev.mergetune.condu.Theta0Ref;
import dev.mergetune.data.DataSources;
import dev.mergetune.data.Dataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune condu add-task}: one ConDU session — fine-tune an expert for the task from θ0 (or take a given
 * one), compute its prototypes with θ0, unify it with the store's tasks and commit the next session.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "add-task", description = "Add a task to a ConDU session store: fine-tune an expert from θ0 (e2e or"
    + " lora; or --expert for one already fine-tuned from θ0), prototypes from θ0, unify, commit the next session."
    + " Re-running an interrupted command resumes its training run.")
final class ConduAddTaskCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--store", required = true, description = "The session store folder (created on the first task)")
  Path store;

  @Option(names = "--model", required = true, description = "θ0: the zero-shot CLIP checkpoint every expert starts from")
  Path model;

  @Option(names = "--model-config", description = "For θ0 (and --expert); recorded in the store, so later steps"
      + " need not repeat it. " + ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--data", required = true, description = "The task's training data: an image folder or a dataset"
      + " config (for the coop and mtil layouts its train split)")
  Path data;

  @Option(names = "--name", description = "The task's name in the store (default: the dataset's name)")
  String name;

  @Option(names = "--method", defaultValue = "e2e", description = "e2e | lora (default ${DEFAULT-VALUE})")
  String method;

  @Option(names = "--expert", description = "A CLIP checkpoint already fine-tuned from θ0 for this task: no training"
      + " (with --lora-space adapters: a LoRA adapter file, lora.safetensors of a lora run)")
  Path expert;

  @Option(names = "--lora-space", defaultValue = AdapterSpace.FOLDED, description = "lora: folded (the expert merged"
      + " into dense weights, unified against the plain θ0; default) | adapters (the released ConDU code's: each"
      + " adapter's A and B unified separately against θ0's own random adapters, stored with the first session)")
  String loraSpace;

  @Option(names = "--prototype-images", defaultValue = ConduTaskStep.Options.EVAL, description = "Prototypes' image"
      + " features: eval (the evaluation transform; default) | augmented (the training augmentation, as the released"
      + " code's augmented loader)")
  String prototypeImages;

  @Option(names = "--templates", description = "The task's templates (prototypes; the first is the training text):"
      + " mtil:DATASET | coop:DATASET | imagenet80 | a file | one template (default: mtil:NAME if known, else"
      + " 'a photo of a {}.')")
  String templates;

  @Option(names = "--run-dir", description = "The expert's training run (default STORE/runs/NAME)")
  Path runDir;

  @Option(names = "--vocab", description = "CLIP BPE merges (.txt.gz) or a Hugging Face vocab.json; default: the"
      + " snapshot's own, $MERGETUNE_CLIP_VOCAB, one beside the model, or the bundled CLIP vocabulary")
  Path vocab;

  @Option(names = "--feature-batch", defaultValue = "32", description = "Batch of the prototypes' features and the"
      + " training run's evaluation (default ${DEFAULT-VALUE})")
  int featureBatch;


  @Mixin TrainOptions options;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    if (name != null) dev.mergetune.io.PathNames.require(name, "--name");  // before anything is loaded or written
    Dataset train = DataSources.load(data, "train");
    String task = name != null ? name : train.name();
    List<String> t = ConduInputs.templates(templates, task);
    TrainSettings s = options.settings(method);
    if (options.template == null) s.template = t.get(0);  // ConDU trains with the task's first template
    String config = ClipInputs.modelConfig(modelConfig);
    if (config == null && SessionStore.exists(store)) config = SessionStore.summary(store).theta0().modelConfig();
    ClipVocabulary vocabulary = ClipVocabulary.resolve(vocab, model,
        ClipLoader.resolve(model, config).config().vocabSize());
    ClipTokenizer tokenizer = vocabulary.tokenizer();
    ConduTaskStep.Task step = new ConduTaskStep.Task(task, train, data, ConduTaskStep.promptNames(train), t);
    ConduTaskStep.Options stepOptions = new ConduTaskStep.Options(loraSpace, prototypeImages);
    if (stepOptions.adapters() && !s.method.equals("lora")) {
      throw new IllegalArgumentException("--lora-space adapters unifies LoRA experts: give --method lora");
    }
    if (expert == null) {
      ConduTaskStep.run(store, model, config, tokenizer, vocabulary.file(), s, step, runDir != null ? runDir
          : store.resolve("runs").resolve(ConduTaskStep.folderName(task)), featureBatch, stepOptions,
          GlobalOptions.progress(), w);
    } else {
      Theta0Ref theta0 = Theta0Ref.of(model, config);
      try (ClipModel base = theta0.load()) {
        Transform images = prototypeImages.equals(ConduTaskStep.Options.AUGMENTED)
            ? TrainingRun.trainTransform(s, base.config().imageResolution())
            : ClipImageTransform.of(base.config().imageResolution());
        AdapterSpace space = stepOptions.adapters() ? ConduTaskStep.theta0Adapters(store, base, s) : null;
        Prototypes p = ConduTaskStep.prototypes(base, tokenizer, ConduInputs.shots(s, train), step.classNames(), t,
            featureBatch, images);
        if (space != null) {
          ConduSessions.addTaskFromExpert(store, theta0, task, space.theta0(), ConduTaskStep.expertAdapters(expert,
              space), p, space);
        } else {
          try (ClipModel fineTuned = ClipLoader.loadSameModelAs(expert, config, base)) {
            if (fineTuned.origin().endsWith("which records none")) {
              w.printf("%s records no model configuration: it takes θ0's, as an expert fine-tuned from θ0%n",
                  expert.getFileName());
            }
            ConduSessions.addTaskFromExpert(store, theta0, task, base, fineTuned, p);
          }
        }
      }
    }
    try (StoredSession st = SessionStore.load(store)) {
      w.printf("session %d: %d tasks %s; U %.1f MB, task '%s' masks %.2f MB (%.3f bytes per element)%n", st.session(),
          st.tasks(), st.taskNames(), st.unifiedBytes() / 1e6, task, st.maskBytes(st.tasks() - 1) / 1e6,
          (double) st.maskBytes(st.tasks() - 1) / st.referenceMaskBytes());
    }
    w.flush();
    return 0;
  }
}
