package dev.mergetune.reproduce;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;

/**
 * One cell of a table: a dataset and a seed, the settings that determine its numbers (compared when a reproduction is
 * run again), the steps that compute it and the evaluation that reads its numbers off them.
 */
public record Cell(String id, String dataset, long seed, ObjectNode settings, List<Step> steps, Evaluation evaluation,
    Workload workload) {
  /** Reads (or computes in process) the cell's numbers once its steps have run. */
  public interface Evaluation {
    /** What it reads or computes, for the report's list of commands. */
    String describe();

    ObjectNode evaluate(StepContext ctx) throws IOException;
  }

  /** The steps' commands, then what the evaluation does. */
  public List<String> commands() {
    List<String> c = new java.util.ArrayList<>();
    steps.forEach(s -> c.add(s.command()));
    c.add(evaluation.describe());
    return c;
  }

  public Cell {
    steps = List.copyOf(steps);
  }
}
