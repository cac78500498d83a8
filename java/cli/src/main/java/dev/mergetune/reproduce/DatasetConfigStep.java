package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes the dataset config ({@code dev.mergetune.data.DatasetConfig}, JSON) the commands read a dataset of the data
 * root through: {@code OUT/data/<layout>-<name>.json} = {name, layout, root, split: test} (the commands that train
 * take its train split, and for the coop layout its val split).
 */
record DatasetConfigStep(Path file, String dataset, String layout, Path root) implements Step {
  static Path file(Path out, String dataset, String layout) {
    return out.resolve("data").resolve(layout + "-" + dataset + ".json").toAbsolutePath().normalize();
  }

  String json() {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.put("name", dataset);
    c.put("layout", layout);
    c.put("root", root.toAbsolutePath().normalize().toString());
    c.put("split", "test");
    return c.toString();
  }

  @Override
  public String command() {
    return "write " + file + ": " + json();
  }

  @Override
  public void run(StepContext ctx) throws IOException {
    java.nio.file.Files.createDirectories(file.getParent());
    AtomicFiles.writeString(file, json() + "\n");
  }
}
