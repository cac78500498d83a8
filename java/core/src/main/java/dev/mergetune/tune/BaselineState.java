package dev.mergetune.tune;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.train.RunDirectory;
import dev.mergetune.train.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which trained state of a finished {@code train} run a continuation takes as ŵ2: the state the run kept
 * ({@code trained}: its best-validation epoch, or its last one with {@code --last}) or its last epoch ({@code last},
 * what MergeTune's released trainer loads: {@code prompt_learner/model.pth.tar-100}, the last epoch of its 100-epoch
 * baselines). A run that kept its best epoch has its last state in its final checkpoint (the training loop always
 * checkpoints its last step).
 *
 * @param file the safetensors file holding the state (tensor names as the run's trainable state)
 * @param step the optimizer steps it had taken
 * @param what a short description for logs and run.json
 */
public record BaselineState(Path file, long step, String what) {
  /** The state {@code start} ({@code trained} | {@code last}) of the finished run in {@code dir}. */
  public static BaselineState of(Path dir, String start) throws IOException {
    JsonNode result = RunDirectory.readJson(dir.resolve(RunDirectory.RESULT_FILE));
    boolean keptBest = RunDirectory.readJson(dir.resolve(RunDirectory.RUN_FILE)).at("/settings/keep_best").asBoolean(true);
    long steps = result.path("steps").asLong();
    Path trained = dir.resolve(result.get("trained").asText());
    if (start.equals("trained")) {
      return new BaselineState(trained, steps, keptBest ? "the baseline's best-validation epoch (epoch "
          + result.path("best_epoch").asInt() + ")" : "the baseline's last step");
    }
    if (!start.equals("last")) throw new IllegalArgumentException("start must be trained or last, got '" + start + "'");
    if (!keptBest) return new BaselineState(trained, steps, "the baseline's last step (step " + steps + ")");
    Path checkpoints = dir.resolve(RunDirectory.CHECKPOINT_DIR);
    if (Files.isRegularFile(checkpoints.resolve(TrainingCheckpoint.STATE_FILE))) {
      TrainingCheckpoint.State c = TrainingCheckpoint.load(checkpoints);
      if (c.step() == steps) {
        return new BaselineState(checkpoints.resolve(c.trainableFile()), steps,
            "the baseline's last step (step " + steps + ", its final checkpoint)");
      }
    }
    throw new IllegalArgumentException(dir + " kept its best-validation epoch and holds no checkpoint of its last step"
        + " (step " + steps + "), which the released MergeTune recipe continues from; train the baseline again"
        + " (its final step is now always checkpointed), or with --last, or continue with --start trained");
  }
}
