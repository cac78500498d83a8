package dev.mergetune.cli;

import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The CLI's {@link Progress} (a service of the cli jar): on a terminal an ASCII bar on stderr (the progressbar
 * library renders it; {@link Console} draws it so that it never shares a line with other output); otherwise no
 * {@code \r} ever, and one plain line per task when it ends: {@code train: 240 steps in 3.1 s}; nothing with
 * {@code --no-progress}, whatever the library asked for, and with {@code -Dmergetune.progress=off} (what
 * {@code launch} gives the ranks other than 0).
 */
public final class ConsoleProgress implements Progress {
  @Override
  public ProgressTask start(String name, long total, String unit) {
    if (!GlobalOptions.progress() || "off".equals(System.getProperty("mergetune.progress"))) {
      return Progress.none().start(name, total, unit);  // --no-progress, or a rank other than 0
    }
    return Console.terminal() ? new Bar(name, total, unit) : new PlainLine(name, total, unit);
  }

  /** Units for people: "1 step", "2 steps", "1 α point", "3 α points". */
  static String count(long n, String unit) {
    return n + " " + (n == 1 || unit.endsWith("s") ? unit : unit + "s");
  }

  private static final class PlainLine implements ProgressTask {
    private final String name;
    private final long total;
    private final String unit;
    private final long start = System.nanoTime();
    private long done;
    private boolean closed;

    PlainLine(String name, long total, String unit) {
      this.name = name;
      this.total = total;
      this.unit = unit;
    }

    @Override
    public synchronized void step(long n) {
      done += n;
    }

    @Override
    public synchronized void stepTo(long d) {
      done = d;
    }

    @Override
    public void status(String message) {}

    @Override
    public synchronized void close() {
      if (closed) return;
      closed = true;
      double s = (System.nanoTime() - start) / 1e9;
      String of = total > 0 && done != total ? " of " + total : "";
      System.err.println(String.format(Locale.ROOT, "%s: %s%s in %.1f s", name, count(done, unit), of, s));
      System.err.flush();
    }
  }

  private static final class Bar implements ProgressTask {
    private final ProgressBar bar;

    Bar(String name, long total, String unit) {
      Object id = this;
      bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
          .setUnit(" " + unit + "s", 1).continuousUpdate().setConsumer(new ProgressBarConsumer() {
            @Override
            public int getMaxRenderedLength() {
              return Console.width();
            }

            @Override
            public void accept(String rendered) {
              Console.updateBar(id, rendered);
            }

            @Override
            public void close() {
              Console.endBar(id);
            }
          }).build();
    }

    @Override
    public void step(long n) {
      bar.stepBy(n);
    }

    @Override
    public void stepTo(long done) {
      bar.stepTo(done);
    }

    @Override
    public void status(String message) {
      bar.setExtraMessage(" " + message);
    }

    @Override
    public void close() {
      bar.close();
    }
  }
}
