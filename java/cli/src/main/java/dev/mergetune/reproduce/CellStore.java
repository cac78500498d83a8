package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mergetune.tensors.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The result file of every cell, {@code OUT/cells/<id>.json}: its settings, the commands that made it, its numbers and
 * how long it took. Written atomically (temporary file, then rename) once the cell is complete, so a killed
 * reproduction leaves complete cells only; a cell whose file records the same settings is reused, not run again.
 */
public final class CellStore {
  public static final String FORMAT = "mergetune-reproduce-cell/1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path dir;

  public CellStore(Path out) {
    this.dir = out.resolve("cells");
  }

  public Path file(Cell cell) {
    return dir.resolve(cell.id() + ".json");
  }

  /** The stored cell when its file exists and records these settings; empty otherwise. */
  public Optional<JsonNode> reusable(Cell cell) throws IOException {
    Path f = file(cell);
    if (!Files.isRegularFile(f)) return Optional.empty();
    JsonNode stored;
    try {
      stored = JSON.readTree(f.toFile());
    } catch (IOException e) {
      return Optional.empty();  // unreadable: computed again and replaced
    }
    JsonNode settings = JSON.readTree(JSON.writeValueAsBytes(cell.settings()));
    if (!FORMAT.equals(stored.path("format").asText()) || !settings.equals(stored.get("settings"))) {
      return Optional.empty();
    }
    return Optional.of(stored);
  }

  /** Writes the finished cell atomically and returns what was written. */
  public JsonNode write(Cell cell, ObjectNode results, double seconds) throws IOException {
    ObjectNode j = JSON.createObjectNode();
    j.put("format", FORMAT);
    j.put("id", cell.id());
    j.put("dataset", cell.dataset());
    j.put("seed", cell.seed());
    j.set("settings", cell.settings());
    var commands = j.putArray("commands");
    cell.commands().forEach(commands::add);
    j.set("results", results);
    j.put("seconds", seconds);
    Path f = file(cell);
    Files.createDirectories(f.getParent());
    AtomicFiles.writeString(f, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j) + "\n");
    return j;
  }
}
