package dev.mergetune.distributed;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;

/**
 * Who is still alive, told through the rendezvous store: every rank counts a heartbeat key up once per second from a
 * daemon thread (on its own store connection), and a rank that fails in its own code leaves its error under a
 * failure key before it exits. When a collective fails, {@link #diagnose} names the ranks that left an error, or whose
 * heartbeat stopped over a few seconds; if the store itself is gone, rank 0 (which serves it) is the one that died.
 */
final class Liveness implements AutoCloseable {
  static final long BEAT_MILLIS = 1000;
  private static final long SILENCE_MILLIS = 3500;
  private static final String BEAT = "mergetune/heartbeat/";
  private static final String FAILED = "mergetune/failed/";

  private final Store beats;    // the heartbeat thread's connection
  private final Store queries;  // diagnosis and failure notes
  private final int rank;
  private final int world;
  private final String storeAddress;
  private final Thread thread;
  private volatile boolean running = true;

  Liveness(Store beats, Store queries, int rank, int world, String storeAddress) {
    this.beats = beats;
    this.queries = queries;
    this.rank = rank;
    this.world = world;
    this.storeAddress = storeAddress;
    this.thread = new Thread(this::beat, "mergetune-heartbeat-rank-" + rank);
    thread.setDaemon(true);
    thread.start();
  }

  private void beat() {
    while (running) {
      try {
        beats.add(BEAT + rank, 1);
        Thread.sleep(BEAT_MILLIS);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        return;  // the store is gone (rank 0 ended); a collective will report it
      }
    }
  }

  /** Leaves this rank's error for the others to read (best effort: the store may be gone). */
  void announceFailure(String message) {
    running = false;
    try {
      queries.set(FAILED + rank, bytes(message == null ? "failed" : message));
    } catch (RuntimeException ignored) {
      // nothing more can be told
    }
  }

  /** The ranks that failed or went silent, as an exception for the failure of {@code what}. */
  WorkerFailedException diagnose(String what, Throwable cause) {
    String detail = Rendezvous.firstLine(cause);
    List<Integer> failed = new ArrayList<>();
    StringBuilder why = new StringBuilder();
    try {
      for (int r = 0; r < world; r++) {
        if (r == rank) continue;
        if (queries.check(new StringVector(FAILED + r))) {
          failed.add(r);
          why.append(why.length() == 0 ? "" : "; ").append("rank ").append(r).append(" failed: ")
              .append(string(queries.get(FAILED + r)));
        }
      }
      if (failed.isEmpty()) {
        long[] before = counts();
        long end = System.nanoTime() + SILENCE_MILLIS * 1_000_000L;
        while (System.nanoTime() < end) Thread.sleep(100);
        long[] after = counts();
        for (int r = 0; r < world; r++) {
          if (r != rank && after[r] == before[r]) failed.add(r);
        }
        if (!failed.isEmpty()) {
          why.append(failed.size() == 1 ? "rank " + failed.get(0) + " has" : "ranks " + join(failed) + " have")
              .append(" stopped (no heartbeat for ").append(SILENCE_MILLIS / 1000.0).append(" s)");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException storeGone) {
      if (rank != 0) {
        failed.clear();
        failed.add(0);
        why.setLength(0);
        why.append("rank 0 has stopped (the rendezvous store it serves at ").append(storeAddress)
            .append(" is unreachable)");
      }
    }
    String message = why.length() == 0
        ? "rank " + rank + ": " + what + " failed (" + detail + "); every other rank still answers"
        : "rank " + rank + ": " + what + " failed because " + why + " (" + detail + ")";
    return new WorkerFailedException(message, failed, cause);
  }

  /** Rank 0's heartbeat count (it moves once a second while rank 0 lives). */
  long mainBeat() {
    return queries.add(BEAT + 0, 0);
  }

  private long[] counts() {
    long[] c = new long[world];
    for (int r = 0; r < world; r++) c[r] = queries.add(BEAT + r, 0);
    return c;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static ByteVector bytes(String s) {
    return new ByteVector(s.getBytes(StandardCharsets.UTF_8));
  }

  static String string(ByteVector v) {
    return new String(v.get(), StandardCharsets.UTF_8);
  }

  static String join(List<Integer> ranks) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < ranks.size(); i++) {
      if (i > 0) s.append(i == ranks.size() - 1 ? " and " : ", ");
      s.append(ranks.get(i));
    }
    return s.toString();
  }
}
