package dev.mergetune.cli;

import dev.mergetune.kernels.CudaDevice;
import dev.mergetune.kernels.Devices;
import dev.mergetune.kernels.KernelCatalog;
import dev.mergetune.kernels.NativeRuntime;
import dev.mergetune.clip.ClipConfig;
import dev.mergetune.clip.ClipLayout;
import dev.mergetune.clip.ClipLoader;
import dev.mergetune.clip.ClipModelFiles;
import dev.mergetune.clip.ClipVocabulary;
import dev.mergetune.clip.ResolvedClipConfig;
import dev.mergetune.tensors.Checkpoint;
import dev.mergetune.tensors.Checkpoints;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code mergetune info}: what this installation can run, said honestly; {@code mergetune info MODEL}: the model
 * configuration a CLIP checkpoint or snapshot folder resolves to — what every command will run — and its vocabulary.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "info", description = "Version, native library, CPU/CUDA kernels available, threads, LibTorch; with"
    + " MODEL: the CLIP configuration it loads with (family, widths, layers, heads, head width, activation, image"
    + " size, patch, context, vocabulary source).")
final class InfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "A CLIP checkpoint or snapshot folder")
  Path model;

  @Option(names = "--model-config", description = ClipInputs.MODEL_CONFIG_HELP)
  String modelConfig;

  @Option(names = "--vocab", description = "The vocabulary to check against the model (default: found as the other"
      + " commands find it)")
  Path vocab;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (model != null) return model(out);
    if (modelConfig != null || vocab != null) throw new IllegalArgumentException("--model-config and --vocab go with MODEL");
    NativeRuntime.ensureTorch();
    row(out, "mergetune", VersionProvider.version() + " (libmergetune " + Devices.libraryVersion() + ")");
    row(out, "native library", NativeRuntime.mergetuneLibraryPath());
    row(out, "native cache", NativeRuntime.cacheDirectory());
    row(out, "CUDA build", Devices.builtWithCuda() ? "yes, sm " + Devices.cudaArchitectures().replace(",", ", sm ")
        : "no (CPU kernels only)");
    List<CudaDevice> devices = Devices.cudaDevices();
    if (devices.isEmpty()) {
      row(out, "CUDA devices", "none: " + Devices.cudaUnavailableReason());
    } else {
      int[] v = Devices.cudaVersions();
      row(out, "CUDA runtime/driver", v[0] + " / " + v[1]);
      for (CudaDevice d : devices) {
        row(out, "CUDA device " + d.index(), String.format("%s, compute %s, %.1f GiB (%.1f GiB free)", d.name(),
            d.computeCapability(), d.totalBytes() / 1073741824.0, d.freeBytes() / 1073741824.0));
      }
    }
    for (KernelCatalog.Entry k : KernelCatalog.entries()) {
      row(out, "kernel " + k.id(), k.description() + " | CPU: yes | CUDA: " + (k.cudaUsable() ? "yes" : "no"));
    }
    row(out, "CPU kernels", Devices.cpuIsa() + " (MERGETUNE_CPU_ISA=generic forces the portable path)");
    row(out, "CPU threads", "kernels " + Devices.cpuThreads() + ", LibTorch intra-op "
        + org.bytedeco.pytorch.global.torch.get_num_threads() + ", hardware " + Runtime.getRuntime().availableProcessors()
        + ", OPENBLAS_NUM_THREADS=" + env("OPENBLAS_NUM_THREADS", "unset (pinned to 1 at start-up)"));
    row(out, "LibTorch", NativeRuntime.torchPresetVersion() + " (" + NativeRuntime.torchNativeFlavour()
        + " natives; LibTorch sees CUDA: " + org.bytedeco.pytorch.global.torch.cuda_is_available() + ")");
    row(out, "JVM", System.getProperty("java.vm.name") + " " + Runtime.version() + ", max heap "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
    row(out, "platform", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    out.flush();
    return 0;
  }

  private int model(PrintWriter out) {
    ClipModelFiles files = ClipModelFiles.of(model);
    try (Checkpoint ckpt = Checkpoints.open(files.weights())) {
      ResolvedClipConfig r = ClipLoader.resolve(ckpt, modelConfig);
      ClipConfig c = r.config();
      row(out, "model", files.weights() + " (" + ClipLayout.detect(ckpt.tensors().keySet()) + " key layout, "
          + ckpt.tensors().size() + " tensors)");
      row(out, "family", r.family());
      row(out, "configuration from", r.source());
      for (String n : r.notes()) row(out, "note", n);
      row(out, "embedding", Integer.toString(c.embedDim()));
      row(out, "image", String.format(Locale.ROOT, "%d px, patch %d (%d×%d patches + class token)",
          c.imageResolution(), c.visionPatchSize(), c.grid(), c.grid()));
      row(out, "text", "context length " + c.contextLength() + ", vocabulary " + c.vocabSize() + " tokens");
      row(out, "vision tower", c.vision().describe());
      row(out, "text tower", c.text().describe());
      row(out, "pooling", "image: class token; text: causal mask, end-of-text token (largest id)");
      String v;
      try {
        v = ClipVocabulary.resolve(vocab, model, c.vocabSize()).description();
      } catch (IllegalArgumentException e) {
        v = "none found: " + e.getMessage();
      }
      row(out, "vocabulary", v);
    }
    out.flush();
    return 0;
  }

  private static void row(PrintWriter out, String key, String value) {
    out.printf("%-22s %s%n", key, value);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v != null ? v : fallback;
  }
}
