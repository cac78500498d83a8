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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune demo}: every method on the project's own world and tiny CLIP, into one report folder
 * ({@link Demo}). Needs no download: the world is generated, the tiny CLIP is committed under {@code demo/tiny-clip/}.
 */
@Command(name = "demo", description = "Run every method end to end on the project's procedural world with the"
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

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    Path m = model != null ? model : defaultModel();
    Demo.Result r = Demo.run(new Demo.Options(WorldSpec.defaults(worldSeed), m, dataset, PromptDemo.Options.demo("a photo of a {}",
        "a photo of a", mergeTunePreset), ConduDemo.Options.demo(),
        progress || (GlobalOptions.progress() && Console.terminal()), GlobalOptions.verbose()), out, w);
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
