package dev.mergetune.cli;

import dev.mergetune.condu.StateDictUnify;
import dev.mergetune.merge.UnifiedFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune condu unify}: ConDU's unify of experts of any state dict, one session per expert in the given
 * order, written in the format {@code merge --method emr} writes (U, OUT.masks.safetensors, OUT.emr.json).
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "unify", description = "ConDU's unify of experts fine-tuned from one base, for any state dict (no CLIP"
    + " model, images or vocabulary): one session per --expert in order; writes the unified delta U to --out and"
    + " OUT.masks.safetensors and OUT.emr.json (rescalers) beside it, the format of merge --method emr.")
final class ConduUnifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--base", required = true, description = "θ0: the checkpoint every expert was fine-tuned from")
  Path base;

  @Option(names = "--expert", required = true, description = "An expert checkpoint (repeat, in session order)")
  List<Path> experts;

  @Option(names = "--name", description = "The experts' task names, in order (repeat; default: their file names)")
  List<String> names;

  @Option(names = "--store", description = "Keep the session store in this new folder (condu info reads it);"
      + " default: a temporary one, deleted")
  Path store;

  @Option(names = "--out", required = true, description = "The unified delta U (.safetensors)")
  Path out;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    List<String> tasks = new ArrayList<>();
    if (names != null) {
      if (names.size() != experts.size()) {
        throw new IllegalArgumentException(names.size() + " --name values for " + experts.size() + " --expert files");
      }
      for (String n : names) dev.mergetune.io.PathNames.require(n, "--name");
      tasks.addAll(names);
    } else {
      for (Path e : experts) tasks.add(UnifiedFiles.taskName(e));
    }
    long start = System.nanoTime();
    for (Path p : StateDictUnify.run(base, experts, tasks, store, out)) w.printf("wrote %s%n", p);
    w.printf("condu unify of %d expert(s) %s in %.2f s%n", experts.size(), tasks, (System.nanoTime() - start) / 1e9);
    w.flush();
    return 0;
  }
}
