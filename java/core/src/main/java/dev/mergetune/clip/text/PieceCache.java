package dev.mergetune.clip.text;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A thread-safe, size-bounded cache from a pre-tokenised piece to its token ids (the role of the {@code cache}
 * dict in CLIP's tokenizer, which is unbounded). Two generations approximate LRU without a lock: hits in the old
 * generation are copied into the young one; when the young one holds half the capacity it becomes the old one and
 * the previous old one is dropped. So at most about {@code capacity} entries are held, and a piece used at least once
 * per half-capacity insertions stays cached.
 */
final class PieceCache {
  private final int half;
  private volatile ConcurrentHashMap<String, int[]> young;
  private volatile ConcurrentHashMap<String, int[]> old;

  PieceCache(int capacity) {
    if (capacity < 0) throw new IllegalArgumentException("cache capacity must be >= 0, got " + capacity);
    this.half = capacity / 2;
    this.young = newMap();
    this.old = newMap();
  }

  /** Sized for a few thousand pieces (a class list's worth) so that filling a fresh generation rarely resizes. */
  private ConcurrentHashMap<String, int[]> newMap() {
    return new ConcurrentHashMap<>(Math.min(half, 4096));
  }

  boolean enabled() {
    return half > 0;
  }

  int[] get(String piece) {
    if (half == 0) return null;
    int[] ids = young.get(piece);
    if (ids != null) return ids;
    ids = old.get(piece);
    if (ids != null) put(piece, ids);
    return ids;
  }

  void put(String piece, int[] ids) {
    if (half == 0) return;
    ConcurrentHashMap<String, int[]> y = young;
    y.put(piece, ids);
    if (y.size() >= half) rotate(y);
  }

  private synchronized void rotate(ConcurrentHashMap<String, int[]> full) {
    if (young != full) return;  // another thread rotated already
    old = full;
    young = newMap();
  }

  int size() {
    return young.size() + old.size();
  }

  void clear() {
    synchronized (this) {
      young = newMap();
      old = newMap();
    }
  }
}
