package dev.mergetune.distributed;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * The meeting point of a job: c10d's {@code TCPStore}, served by rank 0 at {@code MASTER_ADDR:MASTER_PORT}, every rank
 * a client. Rank 0's constructor waits (up to the timeout) until all {@code WORLD_SIZE} ranks have connected; the
 * others retry connecting until the timeout. c10d's messages are turned into ones that say which setting to check.
 */
final class Rendezvous {
  private Rendezvous() {}

  static TCPStore connect(DistributedConfig c) {
    TCPStoreOptions o = new TCPStoreOptions();
    o.port((short) c.masterPort());  // a 16-bit field: ports above 32767 wrap to negative shorts and back
    o.isServer(c.rank() == 0);
    o.numWorkers(new SizeTPointer(1).put(c.worldSize()));
    o.waitWorkers(true);
    o.timeout(new Milliseconds(c.timeout().toMillis()));
    String where = c.masterAddr() + ":" + c.masterPort();
    try {
      return new TCPStore(c.masterAddr(), o);
    } catch (RuntimeException e) {
      String m = firstLine(e);
      String lower = m.toLowerCase(java.util.Locale.ROOT);
      if (c.rank() == 0 && lower.contains("waiting for clients")) {
        throw new DistributedException("rendezvous at " + where + ": not every rank joined within "
            + c.timeout().toSeconds() + " s (" + m + "); start all " + c.worldSize() + " ranks with the same"
            + " MASTER_ADDR, MASTER_PORT and WORLD_SIZE", e);
      }
      if (c.rank() == 0 && (lower.contains("address already in use") || lower.contains("eaddrinuse")
          || lower.contains("bind"))) {
        throw new DistributedException("rendezvous: rank 0 cannot listen on port " + c.masterPort() + " (" + m
            + "); choose another MASTER_PORT (--master-port)", e);
      }
      if (c.rank() != 0 && (lower.contains("timed out") || lower.contains("timeout"))) {
        throw new DistributedException("rendezvous: rank " + c.rank() + " could not reach rank 0's store at " + where
            + " within " + c.timeout().toSeconds() + " s (" + m + "); check MASTER_ADDR / MASTER_PORT and that rank 0"
            + " is running", e);
      }
      throw new DistributedException("rendezvous at " + where + " failed on rank " + c.rank() + ": " + m, e);
    }
  }

  static String firstLine(Throwable e) {
    String m = e.getMessage();
    if (m == null) return e.getClass().getSimpleName();
    int nl = m.indexOf('\n');
    // c10d/Gloo messages start with the C++ source location, "[/path/to/pair.cc:538] Read error ..."
    return (nl < 0 ? m : m.substring(0, nl)).replaceFirst("^\\[[^\\]]*\\.(cc|cpp|h|hpp):\\d+\\]\\s*", "").trim();
  }
}
