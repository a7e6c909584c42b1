package org.etcdjvm.faults.check;

import java.util.List;

/**
 * Something a checker found wrong: which checker, one sentence, and the part of the history that
 * shows it (already formatted, one line each).
 */
public record Anomaly(String checker, String summary, List<String> excerpt) {
  public Anomaly {
    excerpt = List.copyOf(excerpt);
  }

  public static Anomaly of(String checker, String summary, String... excerpt) {
    return new Anomaly(checker, summary, List.of(excerpt));
  }

  public String format() {
    StringBuilder b = new StringBuilder("[").append(checker).append("] ").append(summary);
    for (String line : excerpt) {
      b.append("\n    ").append(line);
    }
    return b.toString();
  }
}
