package dev.mergetune.cli;

import dev.mergetune.condu.SessionStore;
import dev.mergetune.condu.StoredSession;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mergetune condu info STORE}: the committed session, its tasks, rescalers and bytes. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "info", description = "Describe a ConDU session store: session, θ0, tasks with λ, prototypes and bytes"
    + " per task against one byte per element.")
final class ConduInfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", description = "The session store folder")
  Path store;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    try (StoredSession s = SessionStore.load(store)) {
      w.printf("session %d, θ0 %s (SHA-256 %s)%n", s.session(), s.theta0().path(), s.theta0().sha256());
      s.adapters().ifPresent(a -> w.printf("LoRA adapters' space: rank %d, scaling %s, θ0's own adapters %s (drawn"
          + " from seed %d)%n", a.rank(), a.scaling(), a.theta0File().getFileName(), a.theta0Seed()));
      w.printf("U: %d tensors, %d elements, %.1f MB%n", s.tensorNames().size(), s.referenceMaskBytes(),
          s.unifiedBytes() / 1e6);
      for (int t = 0; t < s.tasks(); t++) {
        w.printf("task %d %-20s λ %.6f  masks %.2f MB (%.3f of one byte per element)%s%n", t, s.taskNames().get(t),
            s.rescaler(t), s.maskBytes(t) / 1e6, (double) s.maskBytes(t) / s.referenceMaskBytes(),
            s.prototypes(t).map(p -> String.format("  prototypes %d classes", p.classes())).orElse("  no prototypes"));
      }
    }
    w.flush();
    return 0;
  }
}
