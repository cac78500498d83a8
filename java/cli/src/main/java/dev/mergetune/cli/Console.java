package dev.mergetune.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The terminal the tool writes to. Progress bars are drawn on stderr only when it is a terminal; result lines go to
 * stdout through {@link #lines}, which lifts the bar line while it writes so that a bar never shares a line with
 * other output. {@code -Dmergetune.console=terminal|plain} overrides the detection (tests).
 */
final class Console {
  private static final Object LOCK = new Object();
  private static final PrintStream BAR_STREAM = System.err;
  /** The active bars, oldest first, each with its last rendering; shown together on one line. */
  private static final Map<Object, String> BARS = new LinkedHashMap<>();
  private static boolean barShown;

  private Console() {}

  /** Whether stdout and stdin are a terminal (System.console()) and TERM is not "dumb". */
  static boolean terminal() {
    String forced = System.getProperty("mergetune.console");
    if ("terminal".equals(forced)) return true;
    if ("plain".equals(forced)) return false;
    return System.console() != null && !"dumb".equals(System.getenv("TERM"));
  }

  /** Width the bars may use: $COLUMNS when set, else 100. */
  static int width() {
    try {
      String c = System.getenv("COLUMNS");
      if (c != null) return Math.max(40, Integer.parseInt(c.strip()) - 1);
    } catch (NumberFormatException e) {
      // fall through
    }
    return 100;
  }

  static void updateBar(Object task, String rendered) {
    synchronized (LOCK) {
      BARS.put(task, rendered);
      draw();
    }
  }

  /** Removes a finished bar; its last rendering stays on the screen as a line of its own. */
  static void endBar(Object task) {
    synchronized (LOCK) {
      String last = BARS.remove(task);
      clear();
      if (last != null) BAR_STREAM.println(last);
      draw();
    }
  }

  private static void draw() {
    if (BARS.isEmpty()) return;
    List<String> parts = new ArrayList<>(BARS.values());
    String line = String.join("  |  ", parts);
    if (line.length() > width()) line = line.substring(line.length() - width());
    BAR_STREAM.print("\r" + line + "\033[K");
    BAR_STREAM.flush();
    barShown = true;
  }

  private static void clear() {
    if (barShown) {
      BAR_STREAM.print("\r\033[2K");
      BAR_STREAM.flush();
      barShown = false;
    }
  }

  /** A writer onto {@code out} that lifts the progress bar while it writes, and draws it again after a newline. */
  static PrintWriter lines(OutputStream out) {
    PrintStream target = out instanceof PrintStream p ? p : new PrintStream(out, true, StandardCharsets.UTF_8);
    return new PrintWriter(new Writer() {
      @Override
      public void write(char[] buf, int off, int len) {
        synchronized (LOCK) {
          clear();
          target.print(new String(buf, off, len));
          target.flush();
          if (len > 0 && buf[off + len - 1] == '\n') draw();
        }
      }

      @Override
      public void flush() {
        target.flush();
      }

      @Override
      public void close() throws IOException {
        target.flush();
      }
    }, true);
  }
}
