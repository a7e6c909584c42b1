package org.etcdjvm.faults.check;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks the watches and, through them, the replicated log:
 * <ul>
 *   <li><b>once, in order</b>: each stream's indexes strictly increase (a gap, error 401, may skip
 *       ahead; nothing may come twice or go back);
 *   <li><b>one log</b>: every stream that delivered an index delivered the same event there;
 *   <li><b>nothing skipped</b>: every event of the log inside a range a stream saw in full was
 *       delivered to that stream (so an expiry is seen at its one index by every member's watch);
 *   <li><b>a consistent log</b>: each key's events chain up ({@code prevValue} of each is the value
 *       the one before left, {@code newKey} exactly when the key was absent);
 *   <li><b>acknowledged writes in the log</b>: a write acknowledged at index i is the event at i;
 *   <li><b>nothing else in the log</b>: every set in the log was sent by a client and not refused,
 *       and was applied once; every delete was sent, or is the expiry of a key set with a TTL;
 *   <li><b>expiry</b>: a key with a TTL expires once, after it was set, not before its TTL has
 *       passed since the set was sent, nor before its {@code expiration} (both less {@link
 *       #EARLY_SLACK_MS}).
 * </ul>
 */
public final class WatchChecker {
  static final String NAME = "watch";
  /** Clocks of one machine: an expiry seen more than this before its expiration is early. */
  static final long EARLY_SLACK_MS = 1000;

  private WatchChecker() {}

  public static List<Anomaly> check(List<WatchStream> streams, List<Op> ops) {
    EventLog log = new EventLog(streams);
    List<Anomaly> out = new ArrayList<>(log.conflicts);
    for (WatchStream s : streams) {
      order(s, out);
      completeness(s, log, out);
    }
    chains(log, out);
    acknowledged(log, ops, out);
    explained(log, ops, out);
    expiries(log, streams, ops, out);
    return out;
  }

  private static void order(WatchStream s, List<Anomaly> out) {
    long next = s.startIndex;
    WatchStream.Event previous = null;
    for (WatchStream.Item item : s.items()) {
      if (item instanceof WatchStream.Event e) {
        if (e.index() < next) {
          out.add(Anomaly.of(NAME, "watch " + s.name + " delivered index " + e.index() + " after asking for "
                  + next + " (duplicate or out of order)",
              "before: " + (previous == null ? "(start at " + s.startIndex + ")" : previous.describe()),
              "then:   " + e.describe()));
        }
        next = Math.max(next, e.index() + 1);
        previous = e;
      } else if (item instanceof WatchStream.Gap g) {
        if (g.resume() < next || g.from() != next) {
          out.add(Anomaly.of(NAME, "watch " + s.name + " resynced from " + g.from() + " to " + g.resume()
              + " while at " + next, g.why()));
        }
        next = Math.max(next, g.resume());
      }
    }
  }

  private static void completeness(WatchStream s, EventLog log, List<Anomaly> out) {
    Set<Long> delivered = new HashSet<>();
    for (WatchStream.Item item : s.items()) {
      if (item instanceof WatchStream.Event e) {
        delivered.add(e.index());
      }
    }
    int reported = 0;
    for (long[] seg : EventLog.segments(s)) {
      for (WatchStream.Event e : log.events()) {
        if (e.index() < seg[0] || e.index() > seg[1] || delivered.contains(e.index())) {
          continue;
        }
        if (reported++ < 5) {
          out.add(Anomaly.of(NAME, "watch " + s.name + " skipped the event at index " + e.index()
                  + " (it saw " + seg[0] + ".." + seg[1] + " without a resync)",
              "missed: " + e.describe() + " (delivered to " + log.seenBy(e.index()) + ")"));
        }
      }
    }
    if (reported > 5) {
      out.add(Anomaly.of(NAME, "watch " + s.name + " skipped " + (reported - 5) + " more events"));
    }
  }

  private static void chains(EventLog log, List<Anomaly> out) {
    for (String key : log.keys()) {
      List<WatchStream.Event> events = log.events(key);
      long prevIndex = log.firstIndex() - 1;
      String state = null;
      WatchStream.Event before = null;
      for (WatchStream.Event e : events) {
        // a fresh key is absent at the log's first index
        if (log.covered(prevIndex + 1, e.index())) {
          String problem = chainProblem(state, e);
          if (problem != null) {
            out.add(Anomaly.of(NAME, "the log of " + key + " does not chain at index " + e.index() + ": " + problem
                    + " (an event every watch missed, or replicas that applied different entries)",
                "before: " + (before == null ? "(none: the key was absent)" : before.describe()),
                "then:   " + e.describe()));
          }
        }
        state = e.isSet() ? e.value() : null;
        prevIndex = e.index();
        before = e;
      }
    }
  }

  /** Expirations are kept as {@link java.time.Instant#toString()}; RFC 3339 with an offset is read too. */
  static java.time.Instant instant(String expiration) {
    try {
      return java.time.Instant.parse(expiration);
    } catch (java.time.format.DateTimeParseException e) {
      return OffsetDateTime.parse(expiration).toInstant();
    }
  }

  static String chainProblem(String state, WatchStream.Event e) {
    if (e.isSet()) {
      if (state == null) {
        return e.newKey() && e.prevValue() == null ? null : "a set of an absent key without newKey";
      }
      if (e.newKey()) {
        return "newKey on a key holding " + state;
      }
      return Objects.equals(state, e.prevValue()) ? null
          : "prevValue " + e.prevValue() + " where the key held " + state;
    }
    if (e.isDelete()) {
      if (state == null) {
        return "a delete of an absent key";
      }
      return Objects.equals(state, e.prevValue()) ? null
          : "prevValue " + e.prevValue() + " where the key held " + state;
    }
    return "unexpected action " + e.action();
  }

  private static void acknowledged(EventLog log, List<Op> ops, List<Anomaly> out) {
    for (Op op : ops) {
      if (!op.done() || op.outcome() != Op.Outcome.OK || !op.isWrite() || op.index() < 0) {
        continue;
      }
      long i = op.index();
      WatchStream.Event e = log.at(i);
      if (e == null) {
        if (log.covered(i, i)) {
          out.add(Anomaly.of(NAME, "an acknowledged write is not in the log at its index " + i
              + " (lost, or acknowledged with a wrong index)", op.describe(0)));
        }
        continue;
      }
      boolean matches = e.key().equals(op.key)
          && (op.kind == Op.Kind.DELETE ? e.isDelete() && e.expiration() == null
              : e.isSet() && Objects.equals(e.value(), op.value));
      if (!matches) {
        out.add(Anomaly.of(NAME, "the log holds another event at the index of an acknowledged write (" + i + ")",
            "write: " + op.describe(0), "log:   " + e.describe()));
      }
    }
  }

  private static void explained(EventLog log, List<Op> ops, List<Anomaly> out) {
    Map<String, List<Op>> writes = new HashMap<>();
    Map<String, int[]> deletes = new HashMap<>();
    for (Op op : ops) {
      if (!op.done() || !op.isWrite()) {
        continue;
      }
      if (op.kind == Op.Kind.DELETE) {
        if (op.outcome() != Op.Outcome.FAIL) {
          deletes.computeIfAbsent(op.key, k -> new int[1])[0]++;
        }
      } else {
        writes.computeIfAbsent(op.key + "\u0000" + op.value, k -> new ArrayList<>()).add(op);
      }
    }
    Map<String, WatchStream.Event> setOnce = new HashMap<>();
    Map<String, Integer> deleteEvents = new HashMap<>();
    for (WatchStream.Event e : log.events()) {
      if (e.isSet()) {
        String id = e.key() + "\u0000" + e.value();
        List<Op> senders = writes.get(id);
        if (senders == null) {
          out.add(Anomaly.of(NAME, "the log sets " + e.key() + " to a value no client sent", e.describe()));
        } else if (senders.stream().allMatch(o -> o.outcome() == Op.Outcome.FAIL)) {
          out.add(Anomaly.of(NAME, "a write reported as failed took effect", "log:   " + e.describe(),
              "write: " + senders.get(0).describe(0)));
        }
        WatchStream.Event first = setOnce.putIfAbsent(id, e);
        if (first != null && (senders == null || senders.size() < 2)) {
          out.add(Anomaly.of(NAME, "one write was applied twice", first.describe(), e.describe()));
        }
      } else if (e.isDelete() && e.expiration() == null) {
        int n = deleteEvents.merge(e.key(), 1, Integer::sum);
        int sent = deletes.getOrDefault(e.key(), new int[1])[0];
        if (n > sent) {
          out.add(Anomaly.of(NAME, "the log deletes " + e.key() + " more often (" + n + ") than clients asked ("
              + sent + ")", e.describe()));
        }
      }
    }
  }

  private static void expiries(EventLog log, List<WatchStream> streams, List<Op> ops, List<Anomaly> out) {
    Map<String, Op> ttlSets = new HashMap<>();
    for (Op op : ops) {
      if (op.kind == Op.Kind.TTL) {
        ttlSets.put(op.key, op);
      }
    }
    Map<Long, Long> firstSeen = new HashMap<>();
    for (WatchStream s : streams) {
      for (WatchStream.Item item : s.items()) {
        if (item instanceof WatchStream.Event e && e.expiration() != null && e.isDelete()) {
          firstSeen.merge(e.index(), e.receivedAt(), Math::min);
        }
      }
    }
    for (String key : log.keys()) {
      WatchStream.Event expiry = null;
      WatchStream.Event setEvent = null;
      for (WatchStream.Event e : log.events(key)) {
        if (e.isSet()) {
          setEvent = e;
        }
        if (!e.isDelete() || e.expiration() == null) {
          continue;
        }
        if (!ttlSets.containsKey(key)) {
          out.add(Anomaly.of(NAME, "an expiry of " + key + ", which was never set with a TTL", e.describe()));
          continue;
        }
        if (expiry != null) {
          out.add(Anomaly.of(NAME, key + " expired twice", expiry.describe() + " (seen by " + log.seenBy(expiry.index())
              + ")", e.describe() + " (seen by " + log.seenBy(e.index()) + ")"));
        }
        if (setEvent == null || setEvent.index() > e.index()) {
          out.add(Anomaly.of(NAME, key + " expired before it was set", e.describe()));
        }
        expiry = e;
        long seen = firstSeen.getOrDefault(e.index(), Long.MAX_VALUE);
        Op set = ttlSets.get(key);
        long lived = seen - set.invokeWall;
        if (set.ttl() > 0 && lived < set.ttl() * 1000 - EARLY_SLACK_MS) {
          out.add(Anomaly.kind(NAME, Anomaly.EXPIRY_EARLY, key + " expired " + lived + " ms after the set that gave it a TTL of " + set.ttl()
              + " s was sent", e.describe(), set.describe(0)));
        }
        try {
          long due = instant(e.expiration()).toEpochMilli();
          if (seen < due - EARLY_SLACK_MS) {
            out.add(Anomaly.kind(NAME, Anomaly.EXPIRY_EARLY, key + " expired " + (due - seen) + " ms before its expiration",
                e.describe(), "first delivered at " + java.time.Instant.ofEpochMilli(seen)));
          }
        } catch (java.time.format.DateTimeParseException bad) {
          out.add(Anomaly.of(NAME, "an expiry with an unreadable expiration", e.describe()));
        }
      }
    }
  }
}
