package dev.mergetune.cli;

import dev.mergetune.clip.FeatureExtractor;
import dev.mergetune.eval.Report;
import dev.mergetune.protocol.ClassifierProvider;
import dev.mergetune.protocol.ProtocolConfig;
import dev.mergetune.protocol.Protocols;
import dev.mergetune.protocol.ZeroShotClip;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mergetune eval --protocol CONFIG --out DIR}: a CoOp-family or MTIL evaluation protocol ({@link ProtocolConfig})
 * of CLIP checkpoints evaluated zero-shot, written as a report folder (report.json, report.md, a PNG).
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    name = "eval", description = "Run an evaluation protocol (base-to-novel, cross-dataset, domain-generalisation,"
    + " mtil) from a YAML/JSON config and write a report folder.")
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--protocol", required = true, description = "The protocol config (.yaml, .yml or .json)")
  Path protocol;

  @Option(names = "--out", required = true, description = "The report folder (report.json, report.md, PNG)")
  Path out;


  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    ProtocolConfig config = ProtocolConfig.read(protocol);
    FeatureExtractor extractor = ClipInputs.extractor(config.batchSize(), GlobalOptions.progress(), config.cache());
    ClassifierProvider provider = ZeroShotClip.provider(config.modelConfig(), m -> ClipInputs.tokenizer(
        ClipInputs.vocabulary(config.vocab(), config.model(), m).tokenizer(), m, true), extractor,
        ckpt -> config.cache() == null ? null : ClipInputs.identity(ckpt, config.cache()));
    w.printf("%s (%s)%n", config.title(), config.kind().key());
    w.flush();
    Report report = Protocols.run(config, provider, w);
    report.writeTo(out);
    w.printf("report: %s%n", out.resolve(Report.MARKDOWN));
    w.flush();
    return 0;
  }
}
