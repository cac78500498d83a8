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
 *   <li>Load OpenBLAS from its preset (its thread count is left alone: see {@link #configure}).
 *   <li>Load libmergetune and its JNI glue.
 * </ol>
 *
 * Every public entry point of the library calls {@link #ensureLoaded()}; callers that use LibTorch themselves
 * should call it (or {@link #ensureTorch()}) before their first torch class. The entry points that call libmergetune
 * alone and no torch class (the CPU interpolation the linear merges run) call {@link #ensureKernels()}: step 3 only.
 * That is safe on its own because libmergetune links against neither LibTorch nor OpenBLAS nor libgomp (its ELF
 * needs only the C/C++ runtime), and it keeps the order above, since a later {@link #ensureLoaded()} still loads
 * LibTorch's libraries before any torch class; it saves a merge that needs no LibTorch the time of extracting,
 * checking and loading LibTorch's libraries.
 *
 * <p>Loading changes no process-wide setting; {@link #configure(RuntimeSettings)} is the one call that does, when
 * the application asks (the CLI calls it with {@link RuntimeSettings#recommended()}), and
 * {@link #configureOnLoad(RuntimeSettings)} the same settings applied as each part loads, for a command that may
 * need no LibTorch at all. Thread-safe; every method may be called from any thread.
 */
public final class NativeRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(NativeRuntime.class);
  private static final String TORCH_RESOURCES = "/org/bytedeco/pytorch/";
  private static final List<String> TORCH_LOAD_ORDER = List.of(
      "libgomp.so.1", "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so");

  private static volatile boolean kernelsLoaded;  // libmergetune (step 3)
  private static volatile boolean stackLoaded;  // steps 1-3
  private static volatile boolean configured;
  private static volatile boolean torchLoaded;
  /** {@link #configureOnLoad}'s settings, applied as each part loads; null when none were given that way. */
  private static RuntimeSettings onLoad;
  private static String torchNativeFlavour = "none";

  private NativeRuntime() {}

  /**
   * Prefetches and preloads LibTorch's libraries, loads OpenBLAS and libmergetune (the whole order above).
   * Idempotent and thread-safe.
   */
  public static void ensureLoaded() {
    if (stackLoaded) return;
    synchronized (NativeRuntime.class) {
      if (stackLoaded) return;
      File torchDir = prefetchLibTorch();
      loadOpenBlas();
      if (torchDir != null) preloadLibTorch(torchDir);
      ensureKernels();
      stackLoaded = true;
      if (onLoad != null && onLoad.openBlasThreads() > 0 && openBlasPresent()) {
        org.bytedeco.openblas.global.openblas.blas_set_num_threads(onLoad.openBlasThreads());
      }
    }
  }

  /**
   * Loads libmergetune and its JNI glue only (step 3), for callers that use no torch class and no OpenBLAS: the
   * library needs neither (see the class comment). Idempotent and thread-safe.
   */
  public static void ensureKernels() {
    if (kernelsLoaded) return;
    synchronized (NativeRuntime.class) {
      if (kernelsLoaded) return;
      Loader.load(MergetuneNative.class);
      kernelsLoaded = true;
      if (onLoad != null && onLoad.kernelThreads() > 0) MergetuneNative.mt_set_num_threads(onLoad.kernelThreads());
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
      if (onLoad != null && onLoad.torchThreads() > 0) org.bytedeco.pytorch.global.torch.set_num_threads(onLoad.torchThreads());
    }
  }

  /**
   * {@link #configure}'s settings without loading anything now: headless AWT at once, and each thread count when its
   * part of the stack loads (OpenBLAS's in {@link #ensureLoaded()}, LibTorch's in {@link #ensureTorch()}, the
   * kernels' in {@link #ensureKernels()}), or at once for a part already loaded. For a command that may need no
   * LibTorch at all (the CLI's merge of safetensors files with a libmergetune method); the library's entry points
   * still load whatever they use, so the order of the class comment holds.
   */
  public static void configureOnLoad(RuntimeSettings settings) {
    synchronized (NativeRuntime.class) {
      configured = true;
      onLoad = settings;
      if (settings.headlessAwt() && System.getProperty("java.awt.headless") == null) {
        System.setProperty("java.awt.headless", "true");
      }
      if (stackLoaded && settings.openBlasThreads() > 0 && openBlasPresent()) {
        org.bytedeco.openblas.global.openblas.blas_set_num_threads(settings.openBlasThreads());
      }
      if (torchLoaded && settings.torchThreads() > 0) org.bytedeco.pytorch.global.torch.set_num_threads(settings.torchThreads());
      if (kernelsLoaded && settings.kernelThreads() > 0) MergetuneNative.mt_set_num_threads(settings.kernelThreads());
    }
  }

  /**
   * Loads the native stack ({@link #ensureLoaded()}; LibTorch itself too when its threads are set) and applies the
   * settings that are not "leave as it is" ({@link RuntimeSettings}). Call it once at start-up, before the first
   * training step or merge; a later call applies its settings again.
   */
  public static void configure(RuntimeSettings settings) {
    synchronized (NativeRuntime.class) {
      configured = true;
      if (settings.headlessAwt() && System.getProperty("java.awt.headless") == null) {
        System.setProperty("java.awt.headless", "true");
      }
      if (settings.torchThreads() > 0) ensureTorch();
      else ensureLoaded();
      if (settings.openBlasThreads() > 0 && openBlasPresent()) {
        org.bytedeco.openblas.global.openblas.blas_set_num_threads(settings.openBlasThreads());
      }
      if (settings.torchThreads() > 0) org.bytedeco.pytorch.global.torch.set_num_threads(settings.torchThreads());
      if (settings.kernelThreads() > 0) MergetuneNative.mt_set_num_threads(settings.kernelThreads());
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

  private static boolean openBlasPresent() {
    try {
      Class.forName("org.bytedeco.openblas.global.openblas", false, NativeRuntime.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  private static void loadOpenBlas() {
    if (!openBlasPresent()) return;
    Loader.load(org.bytedeco.openblas.global.openblas.class);
    // OpenBLAS starts one thread per core unless one of its variables says otherwise (the preset cannot report it).
    boolean chosen = System.getenv("OPENBLAS_NUM_THREADS") != null || System.getenv("GOTO_NUM_THREADS") != null
        || System.getenv("OMP_NUM_THREADS") != null;
    int cores = Runtime.getRuntime().availableProcessors();
    if (!chosen && !configured && cores > 1) {
      LOG.warn("OpenBLAS will run {} threads beside LibTorch's OpenMP pool (measured up to 18x slower training "
          + "steps): call NativeRuntime.configure(RuntimeSettings.recommended()) at start-up or set "
          + "OPENBLAS_NUM_THREADS=1", cores);
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
