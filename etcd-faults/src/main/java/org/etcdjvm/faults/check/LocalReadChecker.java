package org.etcdjvm.faults.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Plain GETs are local reads (etcd 0.1's): they may be stale, but one member must never go back in
 * time, and what it answers must be the state of the log up to the index it reports:
 * <ul>
 *   <li><b>monotonic per member</b>: a read that began after another read of the same member
 *       process ended reports an index at least as high;
 *   <li><b>a prefix of the log</b>: each key listed (or not) holds the value the log's events up to
 *       the reported index leave it with, wherever the watches saw the log in full up to there.
 * </ul>
 */
public final class LocalReadChecker {
  static final String NAME = "local-read";

  private LocalReadChecker() {}

  /**
   * @param keys the keys the listings cover (those created under the listed directory); a key not
   *     in a listing was absent
   */
  public static List<Anomaly> check(List<LocalRead> reads, EventLog log, java.util.Collection<String> keys) {
    List<Anomaly> out = new ArrayList<>();
    Map<String, List<LocalRead>> byProcess = new HashMap<>();
    for (LocalRead r : reads) {
      byProcess.computeIfAbsent(r.node() + "#" + r.incarnation(), k -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<String, List<LocalRead>> e : byProcess.entrySet()) {
      monotonic(e.getKey(), e.getValue(), out);
    }
    int reported = 0;
    for (LocalRead r : reads) {
      if (log == null) {
        break;
      }
      for (String key : keys) {
        String expected = log.valueAt(key, r.index());
        if (expected == EventLog.NOT_KNOWN) {
          break;
        }
        String got = r.values().get(key);
        if (!Objects.equals(expected, got) && reported++ < 5) {
          out.add(Anomaly.of(NAME, r.node() + " answered " + key + " = " + (got == null ? "<absent>" : got)
                  + " at index " + r.index() + ", but the log up to that index leaves "
                  + (expected == null ? "<absent>" : expected),
              "events of " + key + " up to " + r.index() + ": " + log.events(key).stream()
                  .filter(ev -> ev.index() <= r.index()).map(WatchStream.Event::describe).toList()));
        }
      }
    }
    if (reported > 5) {
      out.add(Anomaly.of(NAME, reported - 5 + " more local reads were not a prefix of the log"));
    }
    return out;
  }

  private static void monotonic(String process, List<LocalRead> reads, List<Anomaly> out) {
    List<LocalRead> byInvoke = new ArrayList<>(reads);
    byInvoke.sort(Comparator.comparingLong(LocalRead::invoke));
    List<LocalRead> byComplete = new ArrayList<>(reads);
    byComplete.sort(Comparator.comparingLong(LocalRead::complete));
    int c = 0;
    LocalRead highest = null;
    int reported = 0;
    for (LocalRead r : byInvoke) {
      while (c < byComplete.size() && byComplete.get(c).complete() < r.invoke()) {
        LocalRead done = byComplete.get(c++);
        if (highest == null || done.index() > highest.index()) {
          highest = done;
        }
      }
      if (highest != null && r.index() < highest.index() && reported++ < 3) {
        out.add(Anomaly.of(NAME, "member " + process + " went back in time: index " + r.index()
                + " after it had answered index " + highest.index(),
            String.format("earlier read ended %.3f s before the later began", (r.invoke() - highest.complete()) / 1e9)));
      }
    }
  }
}
