package org.etcdjvm.faults.check;

import java.util.List;

/**
 * Something a checker found wrong: which checker, what kind of anomaly (a short id, the checker's
 * name unless it names a specific known failure), one sentence, and the part of the history that
 * shows it (already formatted, one line each).
 */
public record Anomaly(String checker, String kind, String summary, List<String> excerpt) {
  /** An early expiry: a key gone before its TTL had passed. */
  public static final String EXPIRY_EARLY = "expiry-early";
  /** A live member removed from the cluster that did not stop by itself. */
  public static final String REMOVED_MEMBER_RUNNING = "removed-member-running";

  public Anomaly {
    excerpt = List.copyOf(excerpt);
  }

  public Anomaly(String checker, String summary, List<String> excerpt) {
    this(checker, checker, summary, excerpt);
  }

  public static Anomaly of(String checker, String summary, String... excerpt) {
    return new Anomaly(checker, checker, summary, List.of(excerpt));
  }

  public static Anomaly kind(String checker, String kind, String summary, String... excerpt) {
    return new Anomaly(checker, kind, summary, List.of(excerpt));
  }

  public String format() {
    StringBuilder b = new StringBuilder("[").append(checker);
    if (!kind.equals(checker)) {
      b.append(": ").append(kind);
    }
    b.append("] ").append(summary);
    for (String line : excerpt) {
      b.append("\n    ").append(line);
    }
    return b.toString();
  }
}
