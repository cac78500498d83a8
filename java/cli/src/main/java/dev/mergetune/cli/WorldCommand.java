package dev.mergetune.cli;

import dev.mergetune.world.World;
import dev.mergetune.world.WorldGenerator;
import dev.mergetune.world.WorldSpec;
import dev.mergetune.world.StandIn;
import java.io.IOException;
import java.nio.file.Files;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mergetune world}: generates the procedural image–text world into a folder. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "world", description = "Generate the procedural shapes world (pre-training pairs with held-out shape x"
    + " colour combinations, downstream datasets, domain-shifted test sets, its own BPE vocabulary, world.json),"
    + " byte-identical for a seed.")
final class WorldCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--seed", defaultValue = "7", description = "Seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", required = true, description = "The folder to create (absent or empty)")
  Path out;

  @Option(names = "--image-size", defaultValue = "" + WorldSpec.DEFAULT_IMAGE_SIZE,
      description = "Image side, 32..64 (default ${DEFAULT-VALUE})")
  int imageSize;

  @Option(names = "--pretrain-pairs", defaultValue = "" + WorldSpec.DEFAULT_PRETRAIN_PAIRS,
      description = "Pre-training (image, caption) pairs (default ${DEFAULT-VALUE})")
  int pretrainPairs;

  @Option(names = "--zeroshot-per-class", defaultValue = "" + WorldSpec.DEFAULT_ZERO_SHOT_PER_CLASS,
      description = "Images per shape x colour class of the zero-shot set (default ${DEFAULT-VALUE})")
  int zeroShotPerClass;

  @Option(names = "--train-per-class", defaultValue = "" + WorldSpec.DEFAULT_TRAIN_PER_CLASS,
      description = "Downstream train images per class (default ${DEFAULT-VALUE})")
  int trainPerClass;

  @Option(names = "--val-per-class", defaultValue = "" + WorldSpec.DEFAULT_VAL_PER_CLASS,
      description = "Downstream val images per class (default ${DEFAULT-VALUE})")
  int valPerClass;

  @Option(names = "--test-per-class", defaultValue = "" + WorldSpec.DEFAULT_TEST_PER_CLASS,
      description = "Downstream and domain test images per class (default ${DEFAULT-VALUE})")
  int testPerClass;

  @Option(names = "--context", defaultValue = "" + WorldSpec.DEFAULT_CONTEXT_LENGTH,
      description = "Text context length the captions must fit (default ${DEFAULT-VALUE})")
  int context;

  @Option(names = "--stand-in", paramLabel = "DIR", description = "Also write a stand-in for the papers' data under"
      + " DIR, the world's datasets in the CoOp and MTIL folder layouts (for reproduce); an existing world at --out is"
      + " reused, an existing stand-in at DIR kept")
  Path standIn;

  @Override
  public Integer call() throws IOException {
    if (standIn != null && Files.isRegularFile(out.resolve(WorldGenerator.WORLD_JSON))) {
      PrintWriter o = spec.commandLine().getOut();
      World w = World.read(out);
      o.printf("world: %s exists (sha256 %s), reused%n", out.resolve(WorldGenerator.WORLD_JSON), w.sha256());
      writeStandIn(w, o);
      return 0;
    }
    long t0 = System.nanoTime();
    WorldSpec s = new WorldSpec(seed, imageSize, pretrainPairs, zeroShotPerClass, trainPerClass, valPerClass,
        testPerClass, context);
    World w = WorldGenerator.generate(s, out);
    PrintWriter o = spec.commandLine().getOut();
    o.printf("world (seed %d, %d px): %d pre-training pairs, held out %s; datasets %s; tasks %s; vocabulary %d merges;"
        + " %s (sha256 %s) in %.1f s%n", seed, imageSize, pretrainPairs, w.heldOut(),
        w.datasets().stream().map(World.DatasetEntry::name).toList(), w.taskSequence(), w.merges(),
        w.root().resolve(WorldGenerator.WORLD_JSON), w.sha256(), (System.nanoTime() - t0) / 1e9);
    if (standIn != null) writeStandIn(w, o);
    o.flush();
    return 0;
  }

  private void writeStandIn(World w, PrintWriter o) throws IOException {
    if (StandIn.exists(standIn)) {
      o.printf("stand-in: %s exists, kept%n", standIn);
    } else {
      StandIn.write(w, standIn);
      o.printf("stand-in: %s (CoOp layout: %s; MTIL layout: %s)%n", standIn, String.join(", ", StandIn.COOP),
          String.join(", ", StandIn.MTIL));
    }
    o.flush();
  }
}
