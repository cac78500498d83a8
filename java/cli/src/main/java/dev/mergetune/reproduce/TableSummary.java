package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mergetune.eval.BaseToNovelRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A table's numbers from its cells: per seed the paper's average (base-to-novel: Base and Novel averaged over the
 * datasets and HM of those averages; cross-dataset / domain generalisation: top-1 averaged over the targets, the
 * source listed apart; MTIL: Transfer / Average / Last), then mean ± spread over the seeds, beside the published value.
 */
public record TableSummary(ReproTable table, List<Line> averages, List<Line> perDataset, List<String> methods,
    List<String> datasets, List<Long> seeds) {
  /** One number of ours (mean ± spread over seeds), with the published one where the paper gives it. */
  public record Line(String method, String dataset, String metric, Stats ours, PublishedNumbers.Entry published) {
    /** Ours − published, or NaN. */
    public double difference() {
      return published == null ? Double.NaN : ours.mean() - published.value();
    }
  }

  public static TableSummary of(ReproTable t, List<JsonNode> cells, List<String> datasets, List<Long> seeds,
      PublishedNumbers published) {
    // values.get(method).get(dataset or "").get(metric) = one value per seed, in seed order
    Map<String, Map<String, Map<String, List<Double>>>> perDataset = new LinkedHashMap<>();
    Map<String, Map<String, List<Double>>> averages = new LinkedHashMap<>();
    for (long seed : seeds) {
      List<JsonNode> mine = cells.stream().filter(c -> c.get("seed").asLong() == seed).toList();
      if (t.protocol() == ReproTable.Protocol.MTIL) {
        JsonNode r = mine.get(0).get("results");
        List<String> names = new ArrayList<>();
        r.get("datasets").forEach(n -> names.add(n.asText()));
        r.get("methods").fields().forEachRemaining(m -> {
          for (String metric : List.of("Transfer", "Average", "Last")) {
            add(averages, m.getKey(), metric, m.getValue().get(metric).asDouble());
          }
          JsonNode matrix = m.getValue().get("matrix");
          JsonNode last = matrix.get(matrix.size() - 1);
          String metric = m.getKey().equals("zero-shot") ? "top-1" : "Last";
          for (int d = 0; d < names.size(); d++) add(perDataset, m.getKey(), names.get(d), metric, last.get(d).asDouble());
        });
        continue;
      }
      Map<String, double[]> sums = new LinkedHashMap<>();  // method -> {Σ base or top-1, Σ novel, count}
      for (JsonNode c : mine) {
        String d = c.get("dataset").asText();
        boolean target = !(t.fromSource() && d.equals(ReproTable.SOURCE));
        for (JsonNode row : c.get("results").get("rows")) {
          String m = row.get("method").asText();
          double[] s = sums.computeIfAbsent(m, k -> new double[3]);
          if (t.protocol() == ReproTable.Protocol.BASE_TO_NOVEL) {
            add(perDataset, m, d, "Base", row.get("base").asDouble());
            add(perDataset, m, d, "Novel", row.get("novel").asDouble());
            add(perDataset, m, d, "HM", row.get("hm").asDouble());
            s[0] += row.get("base").asDouble();
            s[1] += row.get("novel").asDouble();
            s[2]++;
          } else {
            add(perDataset, m, d, "top-1", row.get("top1").asDouble());
            if (target) {
              s[0] += row.get("top1").asDouble();
              s[2]++;
            }
          }
        }
      }
      for (var e : sums.entrySet()) {
        double[] s = e.getValue();
        if (s[2] == 0) continue;
        if (t.protocol() == ReproTable.Protocol.BASE_TO_NOVEL) {
          double b = s[0] / s[2];
          double n = s[1] / s[2];
          add(averages, e.getKey(), "Base", b);
          add(averages, e.getKey(), "Novel", n);
          add(averages, e.getKey(), "HM", BaseToNovelRow.harmonicMean(b, n));
        } else {
          add(averages, e.getKey(), t.averageName(), s[0] / s[2]);
        }
      }
    }
    List<Line> avg = new ArrayList<>();
    averages.forEach((m, metrics) -> metrics.forEach((metric, v) ->
        avg.add(new Line(m, null, metric, Stats.of(v), published.average(t, m, metric)))));
    List<Line> per = new ArrayList<>();
    perDataset.forEach((m, byDataset) -> byDataset.forEach((d, metrics) -> metrics.forEach((metric, v) ->
        per.add(new Line(m, d, metric, Stats.of(v), published.perDataset(t, m, d, metric))))));
    List<String> methods = new ArrayList<>(perDataset.keySet());
    for (String m : averages.keySet()) if (!methods.contains(m)) methods.add(m);
    return new TableSummary(t, avg, per, methods, datasets, seeds);
  }

  /** The per-dataset mean of a metric, or NaN when that cell has none. */
  public double mean(String method, String dataset, String metric) {
    for (Line l : perDataset) {
      if (l.method().equals(method) && l.dataset().equals(dataset) && l.metric().equals(metric)) return l.ours().mean();
    }
    return Double.NaN;
  }

  private static void add(Map<String, Map<String, List<Double>>> m, String method, String metric, double v) {
    m.computeIfAbsent(method, k -> new LinkedHashMap<>()).computeIfAbsent(metric, k -> new ArrayList<>()).add(v);
  }

  private static void add(Map<String, Map<String, Map<String, List<Double>>>> m, String method, String dataset,
      String metric, double v) {
    m.computeIfAbsent(method, k -> new LinkedHashMap<>()).computeIfAbsent(dataset, k -> new LinkedHashMap<>())
        .computeIfAbsent(metric, k -> new ArrayList<>()).add(v);
  }
}
