package dev.mergetune.kernels;

import dev.mergetune.kernels.binding.MergetuneNative;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native stack in the one order that is safe, once per process.
 *
 * <ol>
 *   <li>Extract every LibTorch native library into the JavaCPP cache <em>before</em> any torch class loads, then
 *       load LibTorch's own libraries (libgomp, libc10, libtorch_cpu, ...) from there by absolute path, in
 *       dependency order. On a cold cache JavaCPP would otherwise extract {@code libtorch.so} alone and let the
 *       dynamic linker resolve its {@code libtorch_cpu.so} from the system path, where a foreign build (a
 *       distribution's python3-torch, say) breaks or crashes the JVM; and a foreign copy on LD_LIBRARY_PATH wins
 *       over the cache's RUNPATH even on a warm cache. A library already loaded under its soname is never searched
 *       for again, so loading ours first shuts both doors.
 *   <li>Load OpenBLAS from its preset and make it single-threaded unless the user chose otherwise: its pool fights
 *       LibTorch's OpenMP for the cores (a training step measured 18x slower on 2 cores).
 *   <li>Load libmergetune and its JNI glue.
 * </ol>
 *
 * Every public entry point of the library calls {@link #ensureLoaded()}; callers that use LibTorch themselves
 * should call it (or {@link #ensureTorch()}) before their first torch class.
 */
public final class NativeRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(NativeRuntime.class);
  private static final String TORCH_RESOURCES = "/org/bytedeco/pytorch/";
  private static final List<String> TORCH_LOAD_ORDER = List.of(
      "libgomp.so.1", "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so");

  private static volatile boolean kernelsLoaded;
  private static volatile boolean torchLoaded;
  private static String torchNativeFlavour = "none";

  private NativeRuntime() {}

  /** Prefetches LibTorch, pins OpenBLAS to one thread and loads libmergetune. Idempotent and thread-safe. */
  public static void ensureLoaded() {
    if (kernelsLoaded) return;
    synchronized (NativeRuntime.class) {
      if (kernelsLoaded) return;
      File torchDir = prefetchLibTorch();
      loadOpenBlas();
      if (torchDir != null) preloadLibTorch(torchDir);
      Loader.load(MergetuneNative.class);
      kernelsLoaded = true;
    }
  }

  /** {@link #ensureLoaded()} and then LibTorch itself (about a second on a warm cache). */
  public static void ensureTorch() {
    ensureLoaded();
    if (torchLoaded) return;
    synchronized (NativeRuntime.class) {
      if (torchLoaded) return;
      Loader.load(org.bytedeco.pytorch.global.torch.class);
      torchLoaded = true;
    }
  }

  /** "cpu", "gpu" or "none": which LibTorch native build is on the class path. */
  public static String torchNativeFlavour() {
    ensureLoaded();
    return torchNativeFlavour;
  }

  /** The version of the LibTorch preset on the class path, e.g. "2.10.0-1.5.13", or "unknown". */
  public static String torchPresetVersion() {
    try (InputStream in =
        NativeRuntime.class.getResourceAsStream("/META-INF/maven/org.bytedeco/pytorch/pom.properties")) {
      if (in == null) return "unknown";
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException("reading the LibTorch preset version", e);
    }
  }

  /** Absolute path libmergetune was loaded from (inside the JavaCPP cache when it came from a jar). */
  public static String mergetuneLibraryPath() {
    ensureLoaded();
    for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
      String path = e.getValue();
      if (path != null && path.endsWith("/libmergetune.so")) return path;
    }
    return "unknown";
  }

  /** The JavaCPP native cache directory in use. */
  public static String cacheDirectory() {
    try {
      return Loader.getCacheDir().getAbsolutePath();
    } catch (IOException e) {
      return "unavailable (" + e.getMessage() + ")";
    }
  }

  /** Extracts the LibTorch natives; returns the cache directory holding them, or null when none are present. */
  private static File prefetchLibTorch() {
    if ("false".equals(System.getProperty("mergetune.prefetchTorch"))) {
      LOG.warn("LibTorch prefetch disabled by -Dmergetune.prefetchTorch=false; a cold cache may crash");
      torchNativeFlavour = "unchecked";
      return null;
    }
    String platform = Loader.getPlatform();
    for (String flavour : new String[] {"gpu", "cpu"}) {
      String dir = TORCH_RESOURCES + platform + ("gpu".equals(flavour) ? "-gpu" : "") + "/";
      if (NativeRuntime.class.getResource(dir + "libtorch_cpu.so") == null) continue;
      try {
        long start = System.nanoTime();
        File[] cached = Loader.cacheResources(dir);
        LOG.debug("LibTorch natives ({}) cached in {} ms", flavour, (System.nanoTime() - start) / 1_000_000);
        torchNativeFlavour = flavour;
        for (File f : cached) {
          if (f.isDirectory() && new File(f, "libtorch_cpu.so").isFile()) return f;
          if (f.getName().equals("libtorch_cpu.so")) return f.getParentFile();
        }
        throw new IllegalStateException("LibTorch natives were cached but libtorch_cpu.so is not among "
            + Arrays.toString(cached));
      } catch (IOException e) {
        throw new UncheckedIOException("extracting the LibTorch native libraries from " + dir, e);
      }
    }
    torchNativeFlavour = "none";
    return null;
  }

  private static void loadOpenBlas() {
    try {
      Class.forName("org.bytedeco.openblas.global.openblas");
    } catch (ClassNotFoundException e) {
      return;  // no OpenBLAS preset on the class path
    }
    Loader.load(org.bytedeco.openblas.global.openblas.class);
    if (System.getenv("OPENBLAS_NUM_THREADS") == null) {  // the user's explicit choice wins
      org.bytedeco.openblas.global.openblas.blas_set_num_threads(1);
    }
  }

  /** Loads LibTorch's libraries from the cache by absolute path, dependencies first. */
  private static void preloadLibTorch(File dir) {
    for (String name : TORCH_LOAD_ORDER) {
      File lib = new File(dir, name);
      if (!lib.isFile()) continue;  // e.g. the CUDA libraries of a CPU build
      try {
        System.load(lib.getAbsolutePath());
      } catch (UnsatisfiedLinkError e) {
        throw new IllegalStateException("cannot load LibTorch's " + lib + ": " + e.getMessage(), e);
      }
    }
  }
}
