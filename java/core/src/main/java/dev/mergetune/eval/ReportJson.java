package dev.mergetune.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;

/**
 * {@code report.json}: every number of the report at full double precision, with its name.
 *
 * <pre>
 * {"format": "mergetune-report/1", "title": ..., "sections": [
 *   {"kind": "base-to-novel", "title", "plot", "rows": [{"dataset", "base", "novel", "hm"}, ...],
 *    "average": {"dataset": "Average", "base", "novel", "hm"}},
 *   {"kind": "methods", "title", "plot", "rows": [{"method", "base", "novel", "hm"}, ...]},
 *   {"kind": "text", "title", "text"} (Markdown prose, no plot),
 *   {"kind": "accuracy-grid", "title", "plot", "methods": [...], "rows": [{"dataset", "source", "top1": [...]}],
 *    "average": [per method, over the target rows]},
 *   {"kind": "mtil", "title", "plot", "description" (if given), "taskAgnostic", "datasets": [...],
 *    "matrix": [[A[s][d], ...], ...],
 *    "transfer", "average", "last",
 *    "perDataset": [{"dataset", "transfer" (null for the first), "average" (column mean), "last"}, ...]},
 *   {"kind": "accuracy", "title", "plot", "rows": [{"dataset", "top1", "source"}, ...], "average" (of the targets)},
 *   {"kind": "path", "title", "plot", "curves": [{"name", "quantity": "loss"|"accuracy", "alphas", "values"}]}]}
 * </pre>
 * {@code "plot"} is the PNG's file name, or null when the report was written without XChart on the class path.
 */
final class ReportJson {
  static final String FORMAT = "mergetune-report/1";

  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReportJson() {}

  static String render(Report report, boolean plots) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format", FORMAT);
    root.put("title", report.title());
    ArrayNode sections = root.putArray("sections");
    for (ReportSection section : report.sections()) {
      ObjectNode s = sections.addObject();
      if (section instanceof ReportSection.Text x) {
        s.put("kind", "text");
        s.put("title", x.title());
        s.put("text", x.markdown());
      } else if (section instanceof ReportSection.BaseToNovel b) {
        s.put("kind", b.byMethod() ? "methods" : "base-to-novel");
        header(s, section, plots);
        ArrayNode rows = s.putArray("rows");
        for (BaseToNovelRow r : b.table().rows()) row(rows.addObject(), r, b.byMethod() ? "method" : "dataset");
        if (!b.byMethod()) row(s.putObject("average"), b.table().average(), "dataset");
      } else if (section instanceof ReportSection.Mtil m) {
        s.put("kind", "mtil");
        header(s, section, plots);
        if (m.description() != null) s.put("description", m.description());
        mtil(s, m.matrix());
      } else if (section instanceof ReportSection.Grid g) {
        s.put("kind", "accuracy-grid");
        header(s, section, plots);
        ArrayNode methods = s.putArray("methods");
        g.grid().methods().forEach(methods::add);
        ArrayNode rows = s.putArray("rows");
        for (AccuracyGrid.Row r : g.grid().rows()) {
          ObjectNode o = rows.addObject();
          o.put("dataset", r.dataset());
          o.put("source", r.source());
          ArrayNode v = o.putArray("top1");
          for (double x : r.top1()) v.add(x);
        }
        ArrayNode avg = s.putArray("average");
        for (double x : g.grid().targetAverages()) avg.add(x);
      } else if (section instanceof ReportSection.Accuracies a) {
        s.put("kind", "accuracy");
        header(s, section, plots);
        ArrayNode rows = s.putArray("rows");
        for (AccuracyTable.Row r : a.table().rows()) {
          ObjectNode o = rows.addObject();
          o.put("dataset", r.dataset());
          o.put("top1", r.top1());
          o.put("source", r.source());
        }
        s.put("average", a.table().average());
      } else {
        s.put("kind", "path");
        header(s, section, plots);
        ArrayNode curves = s.putArray("curves");
        for (PathCurve c : ((ReportSection.Path) section).curves()) {
          ObjectNode o = curves.addObject();
          o.put("name", c.name());
          o.put("quantity", c.quantity() == PathCurve.Quantity.LOSS ? "loss" : "accuracy");
          ArrayNode alphas = o.putArray("alphas");
          for (double a : c.alphas()) alphas.add(a);
          ArrayNode values = o.putArray("values");
          for (double v : c.values()) values.add(v);
        }
      }
    }
    try {
      return MAPPER.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void header(ObjectNode s, ReportSection section, boolean plots) {
    s.put("title", section.title());
    if (plots) s.put("plot", section.plot());
    else s.putNull("plot");
  }

  private static void row(ObjectNode o, BaseToNovelRow r, String key) {
    o.put(key, r.dataset());
    o.put("base", r.base());
    o.put("novel", r.novel());
    o.put("hm", r.hm());
  }

  private static void mtil(ObjectNode s, AccuracyMatrix m) {
    int t = m.size();
    s.put("taskAgnostic", m.taskAgnostic());
    ArrayNode names = s.putArray("datasets");
    m.datasets().forEach(names::add);
    ArrayNode matrix = s.putArray("matrix");
    for (int i = 0; i < t; i++) {
      ArrayNode row = matrix.addArray();
      for (int d = 0; d < t; d++) row.add(m.get(i, d));
    }
    s.put("transfer", m.transfer());
    s.put("average", m.average());
    s.put("last", m.last());
    ArrayNode per = s.putArray("perDataset");
    for (int d = 0; d < t; d++) {
      ObjectNode o = per.addObject();
      o.put("dataset", m.datasets().get(d));
      if (d == 0) {
        o.putNull("transfer");
      } else {
        o.put("transfer", m.transferOf(d));
      }
      o.put("average", m.averageOf(d));
      o.put("last", m.get(t - 1, d));
    }
  }
}
