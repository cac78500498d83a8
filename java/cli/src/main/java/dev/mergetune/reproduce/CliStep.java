package dev.mergetune.reproduce;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A command of the tool ({@code train}, {@code continue}, {@code condu mtil}) as a user would type it. It is skipped when
 * {@code finished} exists (the command's own result file, written last); otherwise it runs, and the command's own
 * resume logic continues an interrupted run from its last checkpoint.
 */
public record CliStep(List<String> args, Path finished) implements Step {
  public CliStep {
    args = List.copyOf(args);
  }

  @Override
  public String command() {
    List<String> words = new ArrayList<>();
    words.add("./mergetune");
    for (String a : args) words.add(quote(a));
    return String.join(" ", words);
  }

  @Override
  public void run(StepContext ctx) {
    if (Files.isRegularFile(finished)) {
      ctx.log().printf("  finished earlier: %s%n", finished.getParent());
      return;
    }
    ctx.log().printf("  $ %s%n", command());
    ctx.log().flush();
    List<String> full = new ArrayList<>(ctx.options().globalFlags());
    full.addAll(args);
    int code = ctx.runner().run(full, ctx.log());
    if (code != 0) {
      throw new IllegalArgumentException("step failed (exit " + code + "): " + command());
    }
  }

  static String quote(String a) {
    return a.matches("[A-Za-z0-9_./:=@,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'";
  }
}
