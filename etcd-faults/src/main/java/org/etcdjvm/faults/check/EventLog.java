package org.etcdjvm.faults.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The replicated log as the watches saw it: the union of every stream's events by index, and which
 * index ranges some stream demonstrably saw in full (a stream that asked from index {@code a} and
 * then delivered its next event at {@code b} has shown there was no event in between).
 */
public final class EventLog {
  private final TreeMap<Long, WatchStream.Event> byIndex = new TreeMap<>();
  private final Map<Long, List<String>> seenBy = new HashMap<>();
  private final Map<String, List<WatchStream.Event>> byKey = new HashMap<>();
  /** Merged, sorted, closed intervals [a, b] covered by at least one stream. */
  private final List<long[]> covered;
  private final long firstIndex;
  /** Disagreements found while merging: same index, different events. */
  final List<Anomaly> conflicts = new ArrayList<>();

  public EventLog(List<WatchStream> streams) {
    List<long[]> segments = new ArrayList<>();
    long first = Long.MAX_VALUE;
    for (WatchStream s : streams) {
      first = Math.min(first, s.startIndex);
      segments.addAll(segments(s));
      for (WatchStream.Item item : s.items()) {
        if (item instanceof WatchStream.Event e) {
          WatchStream.Event known = byIndex.putIfAbsent(e.index(), e);
          if (known != null && !known.sameAs(e)) {
            conflicts.add(Anomaly.of("watch", "two watches delivered different events at index " + e.index()
                    + " (replicas applied different entries?)",
                seenBy.get(e.index()) + ": " + known.describe(), s.name + ": " + e.describe()));
          }
          seenBy.computeIfAbsent(e.index(), k -> new ArrayList<>()).add(s.name);
        }
      }
    }
    this.firstIndex = first == Long.MAX_VALUE ? 1 : first;
    for (WatchStream.Event e : byIndex.values()) {
      byKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e);
    }
    segments.sort((x, y) -> Long.compare(x[0], y[0]));
    List<long[]> merged = new ArrayList<>();
    for (long[] seg : segments) {
      if (!merged.isEmpty() && seg[0] <= merged.get(merged.size() - 1)[1] + 1) {
        long[] lastSeg = merged.get(merged.size() - 1);
        lastSeg[1] = Math.max(lastSeg[1], seg[1]);
      } else {
        merged.add(new long[] {seg[0], seg[1]});
      }
    }
    this.covered = merged;
  }

  /**
   * The ranges one stream saw in full: from where it (re)started to its last event before the next
   * gap. A range with no event in it shows nothing and is left out.
   */
  static List<long[]> segments(WatchStream s) {
    List<long[]> out = new ArrayList<>();
    long start = s.startIndex;
    long last = -1;
    for (WatchStream.Item item : s.items()) {
      if (item instanceof WatchStream.Event e) {
        last = e.index();
      } else if (item instanceof WatchStream.Gap g) {
        if (last >= start) {
          out.add(new long[] {start, last});
        }
        start = g.resume();
        last = -1;
      }
    }
    if (last >= start) {
      out.add(new long[] {start, last});
    }
    return out;
  }

  public WatchStream.Event at(long index) {
    return byIndex.get(index);
  }

  public List<String> seenBy(long index) {
    return seenBy.getOrDefault(index, List.of());
  }

  public java.util.Collection<WatchStream.Event> events() {
    return Collections.unmodifiableCollection(byIndex.values());
  }

  /** The events of one key in index order. */
  public List<WatchStream.Event> events(String key) {
    return byKey.getOrDefault(key, List.of());
  }

  public java.util.Set<String> keys() {
    return byKey.keySet();
  }

  public long lastIndex() {
    return byIndex.isEmpty() ? firstIndex - 1 : byIndex.lastKey();
  }

  public long firstIndex() {
    return firstIndex;
  }

  /** True when every index of [a, b] was seen in full by some stream. */
  public boolean covered(long a, long b) {
    if (a > b) {
      return true;
    }
    for (long[] seg : covered) {
      if (seg[0] <= a && b <= seg[1]) {
        return true;
      }
      if (seg[0] > a) {
        return false;
      }
    }
    return false;
  }

  /**
   * The key's value once the log up to {@code index} is applied (null = absent), if the log is
   * known in full from its first index up to there; else {@code NOT_KNOWN}.
   */
  public String valueAt(String key, long index) {
    if (!covered(firstIndex, index)) {
      return NOT_KNOWN;
    }
    String v = null;
    for (WatchStream.Event e : events(key)) {
      if (e.index() > index) {
        break;
      }
      v = e.isSet() ? e.value() : null;
    }
    return v;
  }

  /** Returned by {@link #valueAt} when the log is not known in full up to the index asked. */
  public static final String NOT_KNOWN = new String("<not known>");

  /** A compact description of the covered ranges, for reports. */
  public String coverage() {
    StringBuilder b = new StringBuilder();
    for (long[] seg : covered) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(seg[0]).append("..").append(seg[1]);
    }
    return b.toString();
  }
}
