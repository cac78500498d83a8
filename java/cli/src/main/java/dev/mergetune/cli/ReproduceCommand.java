package dev.mergetune.cli;

import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModel;
import dev.mergetune.clip.OpenClipConfigs;
import dev.mergetune.reproduce.CostProbe;
import dev.mergetune.reproduce.ReproOptions;
import dev.mergetune.reproduce.ReproTable;
import dev.mergetune.reproduce.Reproduction;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune reproduce TABLE --data DIR --model M}: one of the papers' tables end to end on the user's data,
 * through the tool's own commands, beside the published numbers ({@link Reproduction}).
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "reproduce", description = "Run a paper's table end to end on your data (CoOp / MTIL folder layouts)"
    + " with the released recipes, and print it beside the published numbers with the difference. Tables:"
    + " mergetune-b2n-coop, mergetune-b2n-kgcoop, mergetune-xd-coop, mergetune-dg-coop, condu-mtil. Resumable cell by"
    + " cell: run the same command again after an interruption. --dry-run lists the runs, their estimated cost and"
    + " what is missing on disk.")
final class ReproduceCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "TABLE", description = "mergetune-b2n-coop | mergetune-b2n-kgcoop |"
      + " mergetune-xd-coop | mergetune-dg-coop | condu-mtil")
  String table;

  @Option(names = "--data", required = true, description = "The data root: the CoOp layout (caltech-101/,"
      + " oxford_pets/, imagenet/, ... with their split_zhou_*.json) for the MergeTune tables, the torchvision layout"
      + " MTIL reads (fgvc-aircraft-2013b/, caltech101/, cifar-100-images/, ...) for condu-mtil")
  Path data;

  @Option(names = "--model", required = true, description = "The CLIP checkpoint (the papers: ViT-B/16). With"
      + " --dry-run an open_clip name (ViT-B-16) also works: the timing probe then runs on random weights")
  String model;

  @Option(names = "--model-config", description = "For a checkpoint that does not record its configuration")
  String modelConfig;

  @Option(names = "--vocab", description = "CLIP BPE merges (default: found as for train)")
  Path vocab;

  @Option(names = "--out", defaultValue = "reproduce-out", description = "Output folder: runs/, cells/, report/"
      + " (default ${DEFAULT-VALUE}); several tables may share one (runs with the same settings are shared)")
  Path out;

  @Option(names = "--seeds", split = ",", description = "Seeds (default: 1,2,3; condu-mtil: 42)")
  List<Long> seeds;

  @Option(names = "--datasets", split = ",", description = "Only these datasets of the table, or on-disk: those that"
      + " read under --data (the cross-dataset and domain-generalisation tables always train on ImageNet; an MTIL"
      + " sequence keeps order I)")
  List<String> datasets;

  @Option(names = "--dry-run", description = "List the runs, their estimated cost (a short timing probe) and what is"
      + " missing on disk; run nothing")
  boolean dryRun;

  @Option(names = "--epochs", description = "Departure from the protocol (reported as such): epochs of the baseline"
      + " and of MergeTune instead of 100 each")
  Integer epochs;

  @Option(names = "--shots", description = "Departure: shots per class instead of 16")
  Integer shots;

  @Option(names = "--iterations", description = "Departure: iterations per ConDU task instead of 1000 (warm-up"
      + " scaled alike)")
  Long iterations;

  @Option(names = "--ties-density", defaultValue = "0.2", description = "TIES of (zero-shot, baseline) prompts:"
      + " kept fraction (default ${DEFAULT-VALUE}; the paper does not state its setting)")
  double tiesDensity;

  @Option(names = "--dare-keep", defaultValue = "0.3", description = "DARE of (zero-shot, baseline) prompts: kept"
      + " fraction (default ${DEFAULT-VALUE}; the paper does not state its setting)")
  float dareKeep;

  @Option(names = "--feature-batch", defaultValue = "32", description = "Feature extraction and evaluation batch"
      + " (default ${DEFAULT-VALUE})")
  int featureBatch;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    ReproTable t = ReproTable.parse(table);
    if (epochs != null && epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1");
    if (shots != null && shots < 1) throw new IllegalArgumentException("--shots must be at least 1");
    if (iterations != null && iterations < 1) throw new IllegalArgumentException("--iterations must be at least 1");
    if (t.protocol() == ReproTable.Protocol.MTIL && (epochs != null || shots != null)) {
      throw new IllegalArgumentException("condu-mtil trains by iterations on every image: --iterations, not --epochs"
          + " or --shots");
    }
    if (t.protocol() != ReproTable.Protocol.MTIL && iterations != null) {
      throw new IllegalArgumentException(t.key() + " trains by epochs: --epochs, not --iterations");
    }
    if (seeds != null) {
      if (seeds.isEmpty()) throw new IllegalArgumentException("--seeds: no seed given");
      for (int i = 0; i < seeds.size(); i++) {
        if (seeds.subList(0, i).contains(seeds.get(i))) {
          throw new IllegalArgumentException("--seeds: seed " + seeds.get(i) + " is given twice");
        }
      }
    }
    Path modelPath = Path.of(model);
    boolean architectureOnly = !Files.exists(modelPath) && OpenClipConfigs.names().contains(model);
    if (architectureOnly && !dryRun) {
      throw new IllegalArgumentException("--model " + model + " names an architecture, not a checkpoint: a"
          + " reproduction needs the weights (only --dry-run probes an architecture)");
    }
    if (!architectureOnly && !Files.isRegularFile(modelPath) && !Files.isDirectory(modelPath)) {
      throw new IllegalArgumentException("--model " + model + ": no such file");
    }
    List<String> chosen = datasets;
    if (datasets != null && datasets.size() == 1 && datasets.get(0).equals("on-disk")) {
      chosen = Reproduction.onDisk(t, data);
      if (chosen.isEmpty()) throw new IllegalArgumentException("--datasets on-disk: no dataset of " + t.key()
          + " reads under " + data + " (--dry-run says what is missing)");
      w.printf("--datasets on-disk: %s%n", String.join(", ", chosen));
    }
    ReproOptions o = new ReproOptions(t, data, out, seeds == null ? t.defaultSeeds() : seeds, t.select(chosen),
        modelPath, modelConfig, vocab, epochs, shots, iterations, tiesDensity, dareKeep, featureBatch,
        GlobalOptions.asArguments());
    Reproduction r = new Reproduction(o);
    if (dryRun) {
      CostProbe probe;
      try (ClipModel m = architectureOnly ? new ClipModel(OpenClipConfigs.named(model)).initialize(0)
          : ClipLoader.load(modelPath, ClipInputs.modelConfig(modelConfig))) {
        probe = CostProbe.measure(m, architectureOnly ? model + ", random weights" : modelPath.getFileName().toString());
      }
      r.dryRun(probe, w);
      return 0;
    }
    List<String> invocation = new ArrayList<>(List.of("./mergetune"));
    invocation.addAll(spec.commandLine().getParseResult().originalArgs());
    r.run((args, log) -> MergetuneCli.execute(log, log, args.toArray(String[]::new)), w, invocation,
        VersionProvider.version());
    return 0;
  }
}
