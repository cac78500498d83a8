package dev.mergetune.tensors;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Unmaps a file mapping as soon as its owner is done with it. Without this a mapping lives until the garbage
 * collector finds it, and a streaming merge over many large checkpoints would keep every tensor it ever touched
 * resident. Uses the JDK's own cleaner (sun.misc.Unsafe.invokeCleaner, in jdk.unsupported); where that is not
 * available, release does nothing and the collector frees the mapping later.
 */
public final class MappedBuffers {
  private static final Object UNSAFE;
  private static final Method INVOKE_CLEANER;

  static {
    Object unsafe = null;
    Method cleaner = null;
    try {
      Class<?> c = Class.forName("sun.misc.Unsafe");
      Field f = c.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      unsafe = f.get(null);
      cleaner = c.getMethod("invokeCleaner", ByteBuffer.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      unsafe = null;
      cleaner = null;
    }
    UNSAFE = unsafe;
    INVOKE_CLEANER = cleaner;
  }

  private MappedBuffers() {}

  /**
   * Unmaps a buffer returned by {@link SafetensorsFile#bytes}. The caller must own it: no view, slice or copy of
   * it may be used afterwards (reading an unmapped buffer crashes the JVM).
   */
  public static void release(ByteBuffer mapping) {
    if (INVOKE_CLEANER == null || mapping == null || !mapping.isDirect()) return;
    try {
      INVOKE_CLEANER.invoke(UNSAFE, mapping);
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      // a slice or duplicate: leave it to the collector
    }
  }
}
