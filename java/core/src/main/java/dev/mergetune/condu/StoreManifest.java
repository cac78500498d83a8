package dev.mergetune.condu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The session store's manifest ({@code condu-session.json}): what session it is, which θ0 it refers to, the model's
 * tensors, and every data file of the session with its SHA-256. Written last; its rename is the commit point.
 */
record StoreManifest(long session, Theta0Ref theta0, List<String> names, List<long[]> shapes, FileEntry unified,
    List<TaskEntry> tasks, Adapters adapters) {
  static final String FORMAT = "mergetune-condu-store/1";
  /** How the mask files are laid out ({@link MaskFiles}); a reader refuses any other. */
  static final String MASK_LAYOUT = "uint32-le-words-per-tensor";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A data file of the session: its name inside the store, its size and its SHA-256. */
  record FileEntry(String file, long bytes, String sha256) {}

  /** One task: its name, rescaler λ, mask file, and prototype file (null when it has none). */
  record TaskEntry(String name, double rescaler, FileEntry masks, FileEntry prototypes) {}

  /**
   * A store in the LoRA adapters' space ({@link AdapterSpace}): the adapters' rank and scaling, the seed θ0's adapters
   * were drawn from, and their file. Null for a store of the model's own weights.
   */
  record Adapters(int rank, double scaling, long theta0Seed, FileEntry theta0) {}

  StoreManifest {
    names = List.copyOf(names);
    shapes = List.copyOf(shapes);
    tasks = List.copyOf(tasks);
  }

  long[] lengths() {
    long[] lengths = new long[shapes.size()];
    for (int s = 0; s < lengths.length; s++) {
      long n = 1;
      for (long d : shapes.get(s)) n *= d;
      lengths[s] = n;
    }
    return lengths;
  }

  /** Every data file of the session, U first, then each task's masks and prototypes, then θ0's adapters if any. */
  List<FileEntry> files() {
    List<FileEntry> files = new ArrayList<>();
    files.add(unified);
    for (TaskEntry t : tasks) {
      files.add(t.masks());
      if (t.prototypes() != null) files.add(t.prototypes());
    }
    if (adapters != null) files.add(adapters.theta0());
    return files;
  }

  byte[] toJson() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("session", session);
    root.put("mask_layout", MASK_LAYOUT);
    ObjectNode th = root.putObject("theta0");
    th.put("path", theta0.path().toString());
    th.put("sha256", theta0.sha256());
    if (theta0.modelConfig() != null) th.put("model_config", theta0.modelConfig());
    ArrayNode tensors = root.putArray("tensors");
    for (int s = 0; s < names.size(); s++) {
      ObjectNode t = tensors.addObject();
      t.put("name", names.get(s));
      ArrayNode shape = t.putArray("shape");
      for (long d : shapes.get(s)) shape.add(d);
    }
    if (adapters != null) {
      ObjectNode a = root.putObject("adapters");
      a.put("rank", adapters.rank());
      a.put("scaling", adapters.scaling());
      a.put("theta0_seed", adapters.theta0Seed());
      put(a.putObject("theta0"), adapters.theta0());
    }
    put(root.putObject("unified"), unified);
    ArrayNode taskArray = root.putArray("tasks");
    for (TaskEntry task : tasks) {
      ObjectNode t = taskArray.addObject();
      t.put("name", task.name());
      t.put("rescaler", task.rescaler());
      put(t.putObject("masks"), task.masks());
      if (task.prototypes() != null) put(t.putObject("prototypes"), task.prototypes());
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
  }

  private static void put(ObjectNode node, FileEntry f) {
    node.put("file", f.file());
    node.put("bytes", f.bytes());
    node.put("sha256", f.sha256());
  }

  static StoreManifest read(Path file) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new CheckpointFormatException(file, "unreadable manifest: " + e.getMessage(), e);
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new CheckpointFormatException(file, "not a " + FORMAT + " manifest");
    }
    try {
      JsonNode th = root.path("theta0");
      Theta0Ref theta0 = new Theta0Ref(Path.of(text(th, "path")), text(th, "sha256"),
          th.hasNonNull("model_config") ? th.get("model_config").asText() : null);
      List<String> names = new ArrayList<>();
      List<long[]> shapes = new ArrayList<>();
      for (JsonNode t : root.path("tensors")) {
        names.add(text(t, "name"));
        long[] shape = new long[t.path("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = t.path("shape").get(i).asLong();
        for (long d : shape) {
          if (d < 0) throw new IllegalArgumentException("tensor '" + names.get(names.size() - 1) + "' has a negative dimension");
        }
        shapes.add(shape);
      }
      List<TaskEntry> tasks = new ArrayList<>();
      for (JsonNode t : root.path("tasks")) {
        JsonNode protos = t.get("prototypes");
        tasks.add(new TaskEntry(text(t, "name"), t.path("rescaler").asDouble(Double.NaN), entry(t.path("masks")),
            protos == null || protos.isNull() ? null : entry(protos)));
      }
      if (!root.path("session").canConvertToLong()) throw new IllegalArgumentException("missing 'session'");
      if (!MASK_LAYOUT.equals(root.path("mask_layout").asText())) {
        throw new IllegalArgumentException("mask layout '" + root.path("mask_layout").asText() + "' is not " + MASK_LAYOUT);
      }
      checkConsistent(names, tasks);
      Adapters adapters = null;
      JsonNode a = root.get("adapters");
      if (a != null && !a.isNull()) {
        if (!a.path("rank").canConvertToInt() || a.path("rank").asInt() < 1 || !a.path("scaling").isNumber()) {
          throw new IllegalArgumentException("'adapters' needs a positive rank and a scaling");
        }
        adapters = new Adapters(a.path("rank").asInt(), a.path("scaling").asDouble(), a.path("theta0_seed").asLong(),
            entry(a.path("theta0")));
      }
      return new StoreManifest(root.path("session").asLong(), theta0, names, shapes, entry(root.path("unified")), tasks,
          adapters);
    } catch (IllegalArgumentException e) {
      throw new CheckpointFormatException(file, "malformed manifest: " + e.getMessage(), e);
    }
  }

  private static void checkConsistent(List<String> names, List<TaskEntry> tasks) {
    if (tasks.isEmpty()) throw new IllegalArgumentException("no tasks");
    if (new java.util.HashSet<>(names).size() != names.size()) throw new IllegalArgumentException("tensor names repeat");
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (TaskEntry t : tasks) {
      if (!seen.add(t.name())) throw new IllegalArgumentException("task '" + t.name() + "' appears twice");
      if (!Double.isFinite(t.rescaler())) {
        throw new IllegalArgumentException("task '" + t.name() + "' has rescaler " + t.rescaler());
      }
    }
  }

  private static FileEntry entry(JsonNode node) {
    return new FileEntry(text(node, "file"), node.path("bytes").asLong(-1), text(node, "sha256"));
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) throw new IllegalArgumentException("missing text field '" + field + "'");
    return v.asText();
  }
}
