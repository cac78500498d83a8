package dev.mergetune.cli;

import dev.mergetune.progress.Progress;
import dev.mergetune.progress.ProgressTask;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The CLI's {@link Progress}: an ASCII progress bar on stderr (registered as a service of the cli jar); none with
 * {@code -Dmergetune.progress=off} (what {@code launch} gives the ranks other than 0).
 */
public final class ConsoleProgress implements Progress {
  @Override
  public ProgressTask start(String name, long total, String unit) {
    if ("off".equals(System.getProperty("mergetune.progress"))) return Progress.none().start(name, total, unit);
    ProgressBar bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII).continuousUpdate().build();
    return new ProgressTask() {
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
    };
  }
}
