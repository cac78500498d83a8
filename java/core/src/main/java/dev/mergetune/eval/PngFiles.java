package dev.mergetune.eval;

import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Renders an XChart chart to a PNG file, atomically (temporary file, then rename). Rendering needs no display: the
 * JVM is switched to headless AWT before the first chart is built unless the embedding application has already
 * chosen ({@code -Djava.awt.headless=...}).
 */
final class PngFiles {
  private PngFiles() {}

  /** Call before creating any chart: selects headless AWT unless the application set java.awt.headless itself. */
  static void headless() {
    if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
  }

  static void write(Path file, Chart<?, ?> chart) throws IOException {
    AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
  }
}
