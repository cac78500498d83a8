package dev.mergetune.cli;

import dev.mergetune.adapt.TrainSettings;
import dev.mergetune.adapt.TrainingRun;
import dev.mergetune.data.Dataset;
import dev.mergetune.protocol.ProtocolConfig;
import java.util.List;

/** What the {@code condu} commands share: a task's templates and its few-shot draw. */
final class ConduInputs {
  private ConduInputs() {}

  /** A --templates value (see {@link ClipInputs#templates}); none given: the task's MTIL list, else the fallback. */
  static List<String> templates(String spec, String task) {
    return spec != null ? ClipInputs.templates(spec) : ProtocolConfig.templates(null, null, true, task);
  }

  /** The training samples the settings' shots keep. */
  static Dataset shots(TrainSettings s, Dataset train) {
    return TrainingRun.prepare(s, train, null).train();
  }
}
