package dev.mergetune.protocol;

import java.nio.file.Path;
import java.util.List;

/**
 * One thing to classify: a dataset's images and its class names (label c = {@code classNames.get(c)}, as put into
 * the prompts), with the prompt templates the protocol prescribes (each with one {@code {}}). A classifier that has
 * no use for text (a linear head) ignores the names and templates but must still give one logit per class.
 *
 * @param name the dataset's name, for messages and cache keys
 */
public record ClassificationTask(String name, List<String> classNames, List<String> templates, List<Path> images) {
  public ClassificationTask {
    if (name == null || name.isBlank()) throw new IllegalArgumentException("a task needs a name");
    classNames = List.copyOf(classNames);
    templates = List.copyOf(templates);
    images = List.copyOf(images);
    if (classNames.isEmpty()) throw new IllegalArgumentException(name + ": no classes");
    if (templates.isEmpty()) throw new IllegalArgumentException(name + ": no prompt templates");
    if (images.isEmpty()) throw new IllegalArgumentException(name + ": no images");
  }
}
