package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The papers' published numbers, from the one data file {@code dev/mergetune/reproduce/published.json}: per table,
 * (method, metric[, dataset], value, source), each source naming the paper and the table it comes from.
 */
public final class PublishedNumbers {
  static final String RESOURCE = "/dev/mergetune/reproduce/published.json";

  /** One published number; {@code dataset} is null for a table average. */
  public record Entry(String method, String dataset, String metric, double value, String source) {}

  private final JsonNode root;

  private PublishedNumbers(JsonNode root) {
    this.root = root;
  }

  public static PublishedNumbers load() {
    try (InputStream in = PublishedNumbers.class.getResourceAsStream(RESOURCE)) {
      if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the jar");
      return new PublishedNumbers(new ObjectMapper().readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** The published numbers of a table (averages and per-dataset ones). */
  public List<Entry> of(ReproTable table) {
    List<Entry> out = new ArrayList<>();
    for (JsonNode e : root.path("tables").path(table.key())) {
      out.add(new Entry(e.get("method").asText(), e.path("dataset").isTextual() ? e.get("dataset").asText() : null,
          e.get("metric").asText(), e.get("value").asDouble(), e.get("source").asText()));
    }
    return out;
  }

  /** The published number for (method, metric) of the table's average, or null. */
  public Entry average(ReproTable table, String method, String metric) {
    for (Entry e : of(table)) {
      if (e.dataset() == null && e.method().equals(method) && e.metric().equals(metric)) return e;
    }
    return null;
  }

  /** The published per-dataset number, or null. */
  public Entry perDataset(ReproTable table, String method, String dataset, String metric) {
    for (Entry e : of(table)) {
      if (dataset.equals(e.dataset()) && e.method().equals(method) && e.metric().equals(metric)) return e;
    }
    return null;
  }

  /** What a source key stands for (paper and table). */
  public String source(String key) {
    JsonNode s = root.path("sources").path(key);
    if (!s.isTextual()) throw new IllegalStateException(RESOURCE + ": no source '" + key + "'");
    return s.asText();
  }

  public String note() {
    return root.path("note").asText();
  }
}
