package dev.mergetune.world;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mergetune.clip.text.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A generated world as described by its {@code world.json} ({@link WorldGenerator}): paths are resolved against the
 * world's folder. {@link #sha256()} is the hash of {@code world.json}, which itself holds the hash of every other
 * file, so it identifies the whole world.
 */
public final class World {
  /** A downstream dataset: sorted classes (labels = positions), prompt templates, split folders, base/novel classes. */
  public record DatasetEntry(String name, List<String> classes, List<String> templates, Path train, Path val,
      Path test, List<String> base, List<String> novel) {}

  /** A domain-shifted test set of dataset {@code of} (same classes). */
  public record DomainEntry(String name, String of, Domain domain, Path test) {}

  private final Path root;
  private final JsonNode json;
  private final String sha256;

  private World(Path root, JsonNode json, String sha256) {
    this.root = root;
    this.json = json;
    this.sha256 = sha256;
  }

  /** Reads {@code dir/world.json}; a missing or foreign file is an error naming it. */
  public static World read(Path dir) {
    Path file = dir.resolve(WorldGenerator.WORLD_JSON);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--world " + dir + ": no " + WorldGenerator.WORLD_JSON
          + " (generate one with `mergetune world --out DIR`)");
    }
    try {
      byte[] bytes = Files.readAllBytes(file);
      JsonNode j = new ObjectMapper().readTree(bytes);
      if (j == null || !WorldGenerator.FORMAT.equals(j.path("format").asText())) {
        throw new IllegalArgumentException(file + ": not a world description (format is not " + WorldGenerator.FORMAT + ")");
      }
      return new World(dir.toAbsolutePath().normalize(), j, WorldFiles.sha256(bytes));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  public Path root() {
    return root;
  }

  public String sha256() {
    return sha256;
  }

  public long seed() {
    return json.get("seed").asLong();
  }

  public int imageSize() {
    return json.get("image_size").asInt();
  }

  public List<String> heldOut() {
    return strings(json.get("held_out"));
  }

  public Path mergesFile() {
    return path(json.get("vocabulary").get("merges_file"));
  }

  public int merges() {
    return json.get("vocabulary").get("merges").asInt();
  }

  public int vocabSize() {
    return json.get("vocabulary").get("vocab_size").asInt();
  }

  public int contextLength() {
    return json.get("vocabulary").get("context_length").asInt();
  }

  /** The world's tokenizer: its own merges, vocabulary {@link #vocabSize()}. */
  public ClipTokenizer tokenizer() {
    return ClipTokenizer.load(mergesFile(), merges());
  }

  public Path pretrainCaptions() {
    return path(json.get("pretrain").get("captions"));
  }

  public Path zeroShotRoot() {
    return path(json.get("zeroshot").get("root"));
  }

  public List<String> zeroShotTemplates() {
    return strings(json.get("zeroshot").get("templates"));
  }

  public List<DatasetEntry> datasets() {
    List<DatasetEntry> out = new ArrayList<>();
    for (JsonNode d : json.get("datasets")) {
      out.add(new DatasetEntry(d.get("name").asText(), strings(d.get("classes")), strings(d.get("templates")),
          path(d.get("train")), path(d.get("val")), path(d.get("test")), strings(d.get("base")), strings(d.get("novel"))));
    }
    return out;
  }

  public DatasetEntry dataset(String name) {
    for (DatasetEntry d : datasets()) if (d.name().equals(name)) return d;
    throw new IllegalArgumentException("the world has no dataset '" + name + "' (it has "
        + datasets().stream().map(DatasetEntry::name).toList() + ")");
  }

  public List<DomainEntry> domains() {
    List<DomainEntry> out = new ArrayList<>();
    for (JsonNode d : json.get("domains")) {
      out.add(new DomainEntry(d.get("name").asText(), d.get("of").asText(), Domain.parse(d.get("domain").asText()),
          path(d.get("test"))));
    }
    return out;
  }

  /** The MTIL-like task sequence: dataset names in training order. */
  public List<String> taskSequence() {
    return strings(json.get("task_sequence"));
  }

  private Path path(JsonNode rel) {
    return root.resolve(rel.asText());
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : a) out.add(n.asText());
    return List.copyOf(out);
  }
}
