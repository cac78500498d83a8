package dev.mergetune.cli;

import dev.mergetune.world.PretrainReport;
import dev.mergetune.world.PretrainSettings;
import dev.mergetune.world.Pretraining;
import dev.mergetune.world.World;
import dev.mergetune.world.WorldZeroShot;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mergetune pretrain}: contrastive pre-training of a tiny CLIP on a generated world, with a zero-shot report. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "pretrain", description = "Pre-train a tiny CLIP on a world (symmetric contrastive loss, learnable"
    + " temperature, AdamW with warm-up and cosine decay); writes the checkpoint (safetensors) and NAME.json / NAME.md"
    + " beside it with zero-shot accuracy on seen and held-out shape x colour combinations, and the world's vocabulary (world-bpe.txt.gz, for --vocab).")
final class PretrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--world", required = true, description = "A folder made by `mergetune world`")
  Path world;

  @Option(names = "--out", required = true, description = "The checkpoint to write (.safetensors)")
  Path out;

  @Option(names = "--epochs", defaultValue = "" + PretrainSettings.DEFAULT_EPOCHS, description = "Epochs (default ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch", defaultValue = "" + PretrainSettings.DEFAULT_BATCH, description = "Pairs per batch (default ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "" + PretrainSettings.DEFAULT_LR, description = "Peak learning rate (default ${DEFAULT-VALUE})")
  double lr;

  @Option(names = "--warmup", defaultValue = "" + PretrainSettings.DEFAULT_WARMUP, description = "Warm-up steps (default ${DEFAULT-VALUE})")
  long warmup;

  @Option(names = "--weight-decay", defaultValue = "" + PretrainSettings.DEFAULT_WEIGHT_DECAY,
      description = "AdamW weight decay (default ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(names = "--seed", defaultValue = "" + PretrainSettings.DEFAULT_SEED, description = "Init and batch-order seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--embed", defaultValue = "" + PretrainSettings.DEFAULT_EMBED, description = "Joint embedding size (default ${DEFAULT-VALUE})")
  int embed;

  @Option(names = "--width", defaultValue = "" + PretrainSettings.DEFAULT_WIDTH, description = "Width of both towers (default ${DEFAULT-VALUE})")
  int width;

  @Option(names = "--layers", defaultValue = "" + PretrainSettings.DEFAULT_LAYERS, description = "Layers of each tower (default ${DEFAULT-VALUE})")
  int layers;

  @Option(names = "--heads", defaultValue = "" + PretrainSettings.DEFAULT_HEADS, description = "Attention heads (default ${DEFAULT-VALUE})")
  int heads;

  @Option(names = "--activation", defaultValue = "quick_gelu", description = "MLP activation of both towers:"
      + " quick_gelu (OpenAI's, the demo model's) | gelu (default ${DEFAULT-VALUE})")
  String activation;

  @Option(names = "--patch", defaultValue = "" + PretrainSettings.DEFAULT_PATCH, description = "ViT patch size (default ${DEFAULT-VALUE})")
  int patch;

  @Option(names = "--threads", description = "LibTorch threads (default 1: on a busy 2-core machine, two OpenMP threads"
      + " fighting for the cores made a step ten times slower)")
  Integer threads;


  @Override
  public Integer call() throws IOException {
    if (!out.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException("--out " + out + ": the checkpoint must be a .safetensors file");
    }
    World w = World.read(world);
    int n = threads != null ? threads : 1;
    // LibTorch's threads for the zero-shot evaluation too
    dev.mergetune.kernels.NativeRuntime.configure(dev.mergetune.kernels.RuntimeSettings.recommended().withTorchThreads(n));
    dev.mergetune.clip.Activation act = dev.mergetune.clip.Activation.parse(activation, "--activation");
    PretrainSettings s = new PretrainSettings(epochs, batch, lr, warmup, weightDecay, seed, embed, width, layers, heads,
        patch, n, act);
    String command = String.format(Locale.ROOT, "./mergetune world --seed %d --out WORLD && ./mergetune pretrain"
        + " --world WORLD --out %s --epochs %d --batch %d --lr %s --warmup %d --weight-decay %s --seed %d --embed %d"
        + " --width %d --layers %d --heads %d --patch %d --threads %d", w.seed(), out.getFileName(), epochs, batch, lr,
        warmup, weightDecay, seed, embed, width, layers, heads, patch, n)
        + (act == dev.mergetune.clip.Activation.QUICK_GELU ? "" : " --activation " + act.key());
    Pretraining.Result r = Pretraining.run(s, w, out, Map.of("mergetune.pretrain.command", command), GlobalOptions.progress());
    // data-parallel: rank 0 alone evaluates and writes the reports
    dev.mergetune.distributed.ProcessGroupContext.current().mainOnly("write the pre-training report",
        () -> report(w, s, r, command));
    return 0;
  }

  private void report(World w, PretrainSettings s, Pretraining.Result r, String command) throws IOException {
    WorldZeroShot.Result zs = WorldZeroShot.evaluate(r.model(), w, 256);
    dev.mergetune.tensors.AtomicFiles.writeString(PretrainReport.beside(out, ".json"),
        PretrainReport.pretty(PretrainReport.json(command, w, s, r, zs)));
    dev.mergetune.tensors.AtomicFiles.writeString(PretrainReport.beside(out, ".md"), PretrainReport.markdown(command, w, s, r, zs));
    Path vocab = out.toAbsolutePath().resolveSibling(w.mergesFile().getFileName());  // the model's tokenizer travels with it
    dev.mergetune.tensors.AtomicFiles.write(vocab, java.nio.file.Files.readAllBytes(w.mergesFile()));
    PrintWriter o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "pretrain: %d steps in %.1f s, loss %.3f -> %.3f; zero-shot %d-way top-1: seen %.1f%%,"
        + " held-out %.1f%% (chance %.1f%%); %s (vocabulary %s)%n", r.steps(), r.seconds(), r.firstLoss(),
        r.lastEpochLoss(), zs.classes(), 100 * zs.seen().top1(), 100 * zs.heldOut().top1(), 100.0 / zs.classes(), out,
        vocab);
    o.flush();
  }
}
