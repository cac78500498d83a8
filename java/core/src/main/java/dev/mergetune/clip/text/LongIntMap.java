package dev.mergetune.clip.text;

import java.util.Arrays;

/** An open-addressing map from long keys to non-negative ints (BPE pair → rank); {@link #get} returns -1. */
final class LongIntMap {
  private static final long EMPTY = Long.MIN_VALUE;
  private final long[] keys;
  private final int[] values;
  private final int mask;

  LongIntMap(int expected) {
    int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
    keys = new long[capacity];
    values = new int[capacity];
    mask = capacity - 1;
    Arrays.fill(keys, EMPTY);
  }

  private static int hash(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 29));
  }

  void put(long key, int value) {
    if (key == EMPTY || value < 0) throw new IllegalArgumentException("unsupported key or value");
    int i = hash(key) & mask;
    while (keys[i] != EMPTY && keys[i] != key) i = (i + 1) & mask;
    keys[i] = key;
    values[i] = value;
  }

  int get(long key) {
    int i = hash(key) & mask;
    while (true) {
      long k = keys[i];
      if (k == key) return values[i];
      if (k == EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }
}
