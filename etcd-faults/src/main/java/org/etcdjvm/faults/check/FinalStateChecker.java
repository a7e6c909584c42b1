package org.etcdjvm.faults.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * After healing: every member holds the same store at the same index (compared listing by
 * listing), no acknowledged write is lost, and nothing is there that no client wrote.
 */
public final class FinalStateChecker {
  static final String NAME = "final-state";

  private FinalStateChecker() {}

  /** One member's answers after healing: the listing of each checked directory, and its index. */
  public record Replica(String node, long index, Map<String, Map<String, String>> dirs) {}

  /** All members must agree: same index, same listings. */
  public static List<Anomaly> converged(List<Replica> replicas) {
    List<Anomaly> out = new ArrayList<>();
    if (replicas.isEmpty()) {
      return out;
    }
    Replica first = replicas.get(0);
    for (Replica r : replicas.subList(1, replicas.size())) {
      if (r.index() != first.index()) {
        out.add(Anomaly.of(NAME, "replicas did not converge: " + first.node() + " is at index " + first.index()
            + ", " + r.node() + " at " + r.index()));
      }
      for (String dir : union(first.dirs().keySet(), r.dirs().keySet())) {
        Map<String, String> a = first.dirs().getOrDefault(dir, Map.of());
        Map<String, String> b = r.dirs().getOrDefault(dir, Map.of());
        if (!a.equals(b)) {
          List<String> diff = new ArrayList<>();
          for (String k : union(a.keySet(), b.keySet())) {
            if (!Objects.equals(a.get(k), b.get(k)) && diff.size() < 10) {
              diff.add(k + ": " + first.node() + "=" + a.get(k) + " " + r.node() + "=" + b.get(k));
            }
          }
          out.add(new Anomaly(NAME, "replicas did not converge on " + dir + ": " + first.node() + " and " + r.node()
              + " differ", diff));
        }
      }
    }
    return out;
  }

  private static java.util.SortedSet<String> union(java.util.Set<String> a, java.util.Set<String> b) {
    java.util.SortedSet<String> u = new java.util.TreeSet<>(a);
    u.addAll(b);
    return u;
  }

  /**
   * Keys written exactly once ({@link Op.Kind#ONCE}): each acknowledged one must be there with its
   * value; each one there must have been sent and not refused.
   */
  public static List<Anomaly> noLostWrites(List<Op> onceOps, Map<String, String> finalListing) {
    List<Anomaly> out = new ArrayList<>();
    Map<String, Op> byKey = new HashMap<>();
    int lost = 0;
    for (Op op : onceOps) {
      byKey.put(op.key, op);
      if (op.done() && op.outcome() == Op.Outcome.OK) {
        String v = finalListing.get(op.key);
        if (!Objects.equals(v, op.value) && lost++ < 10) {
          out.add(Anomaly.of(NAME, "an acknowledged write is lost: " + op.key + " is "
              + (v == null ? "absent" : v) + " after healing", op.describe(0)));
        }
      }
    }
    if (lost > 10) {
      out.add(Anomaly.of(NAME, (lost - 10) + " more acknowledged writes lost"));
    }
    for (Map.Entry<String, String> e : new TreeMap<>(finalListing).entrySet()) {
      Op op = byKey.get(e.getKey());
      if (op == null || !Objects.equals(op.value, e.getValue())) {
        out.add(Anomaly.of(NAME, e.getKey() + " = " + e.getValue() + " after healing, which no client wrote"));
      } else if (op.outcome() == Op.Outcome.FAIL) {
        out.add(Anomaly.of(NAME, "a write reported as failed took effect: " + e.getKey(), op.describe(0)));
      }
    }
    return out;
  }

  /** Keys that must be gone (set with a TTL, waited for well past it): any left is an anomaly. */
  public static List<Anomaly> expired(Replica r, String dir) {
    Map<String, String> left = r.dirs().getOrDefault(dir, Map.of());
    if (left.isEmpty()) {
      return List.of();
    }
    return List.of(new Anomaly(NAME, left.size() + " keys set with a TTL are still on " + r.node()
        + " a minute after the latest expiration",
        left.entrySet().stream().limit(5).map(e -> e.getKey() + "=" + e.getValue()).toList()));
  }
}
