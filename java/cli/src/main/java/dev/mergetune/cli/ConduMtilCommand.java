package dev.mergetune.cli;

import dev.mergetune.condu.MtilConfig;
import dev.mergetune.condu.MtilRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mergetune condu mtil}: ConDU over a task sequence, the accuracy matrices and their report. */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "mtil", description = "Run ConDU over an MTIL task sequence (YAML config): one session per task,"
    + " the accuracy matrix after each (seen tasks by their expert, unseen by aggregation; and task-agnostic),"
    + " Transfer / Average / Last and a report with heat maps. Re-running resumes.")
final class ConduMtilCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, description = "The MTIL config (.yaml/.json)")
  Path config;

  @Option(names = "--out", required = true, description = "Output folder: store/, runs/, rows/, report/, result.json")
  Path out;

  @Option(names = "--vocab", description = "CLIP BPE merges or a Hugging Face vocab.json (default: the config's, the"
      + " model snapshot's, $MERGETUNE_CLIP_VOCAB, one beside the model, or the bundled CLIP vocabulary)")
  Path vocab;


  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    MtilConfig c = MtilConfig.read(config);
    dev.mergetune.clip.ClipVocabulary v = dev.mergetune.clip.ClipVocabulary.resolve(vocab != null ? vocab : c.vocab(),
        c.model(), dev.mergetune.clip.ClipLoader.resolve(c.model(), c.modelConfig()).config().vocabSize());
    MtilRunner.run(c, v.tokenizer(), v.file(), out, GlobalOptions.progress(), w);
    return 0;
  }
}
