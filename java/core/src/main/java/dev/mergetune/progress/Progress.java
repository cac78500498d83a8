package dev.mergetune.progress;

import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * Where the library reports the progress of long work (training steps, feature extraction, merges): a factory of
 * {@link ProgressTask}s. The library never draws anything itself. The implementation is the first
 * {@code META-INF/services/dev.mergetune.progress.Progress} provider on the class path (the CLI ships one that draws
 * a bar on a terminal and plain lines otherwise), else {@link #none()}: an embedding application sees no output
 * unless it installs a provider or passes its own {@code Progress} where an API takes one.
 *
 * <p>Implementations must be thread-safe: tasks may be started and stepped from different threads.
 */
public interface Progress {
  /** Starts a task of {@code total} units ({@code total <= 0}: unknown), e.g. ("train", 1000, "step"). */
  ProgressTask start(String name, long total, String unit);

  /** Reports nothing. */
  static Progress none() {
    return NoProgress.INSTANCE;
  }

  /** The provider found on the class path (looked up once), or {@link #none()}. */
  static Progress installed() {
    return Installed.INSTANCE;
  }

  /** {@link #installed()} when {@code enabled}, else {@link #none()}: for the APIs that take a boolean. */
  static Progress of(boolean enabled) {
    return enabled ? installed() : none();
  }

  /** Holder idiom: the ServiceLoader runs on first use only. */
  final class Installed {
    private static final Progress INSTANCE = find();

    private Installed() {}

    private static Progress find() {
      Iterator<Progress> it = ServiceLoader.load(Progress.class, Progress.class.getClassLoader()).iterator();
      return it.hasNext() ? it.next() : none();
    }
  }
}
