package dev.mergetune.protocol;

import dev.mergetune.data.Dataset;
import dev.mergetune.data.Sample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A dataset as a protocol evaluates it: its name in the tables, the samples, the class names put into the prompts
 * (label c = {@code classNames.get(c)}) and the prompt templates.
 */
public record EvalDataset(String name, Dataset data, List<String> classNames, List<String> templates) {
  public EvalDataset {
    classNames = List.copyOf(classNames);
    templates = List.copyOf(templates);
    if (classNames.size() != data.numClasses()) {
      throw new IllegalArgumentException(name + ": " + classNames.size() + " class names for " + data.numClasses()
          + " classes");
    }
  }

  /** The whole dataset as a task. */
  public ClassificationTask task() {
    return task(name, data, classNames);
  }

  /** A task for {@code subset} (a class subset of this dataset, relabelled) with its own class names. */
  public ClassificationTask task(String taskName, Dataset subset, List<String> names) {
    List<Path> images = new ArrayList<>(subset.size());
    for (Sample s : subset.samples()) images.add(s.image());
    return new ClassificationTask(taskName, names, templates, images);
  }

  /** The labels of a dataset's samples, in order. */
  static int[] labels(Dataset d) {
    int[] out = new int[d.size()];
    int i = 0;
    for (Sample s : d.samples()) out[i++] = s.label();
    return out;
  }
}
