package org.etcdjvm.faults.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchCheckerTest {
  private static final String A = "/fz/lin/a";
  private static final String T = "/fz/ttl/t0";
  private final List<Op> ops = new ArrayList<>();
  private int ids;

  private Op write(String key, String value, long index, Op.Outcome outcome) {
    Op op = new Op(++ids, 1, Op.Kind.WRITE, key, value, null, ids * 10L, null);
    op.complete(ids * 10L + 5, outcome, outcome == Op.Outcome.OK ? index : -1, null);
    ops.add(op);
    return op;
  }

  private static WatchStream.Event set(long index, String key, String value, String prev) {
    return new WatchStream.Event(index, "SET", key, value, prev, prev == null, null, 0);
  }

  private static WatchStream.Event delete(long index, String key, String prev, String expiration, long receivedAt) {
    return new WatchStream.Event(index, "DELETE", key, null, prev, false, expiration, receivedAt);
  }

  /** a=1 at 3, a=2 at 5, a=3 at 9 (acknowledged); a stream that saw them all. */
  private WatchStream full(String name) {
    WatchStream s = new WatchStream(name, true, 1);
    s.event(set(3, A, "1", null));
    s.event(set(5, A, "2", "1"));
    s.event(set(9, A, "3", "2"));
    return s;
  }

  private void acknowledgeAll() {
    write(A, "1", 3, Op.Outcome.OK);
    write(A, "2", 5, Op.Outcome.OK);
    write(A, "3", 9, Op.Outcome.OK);
  }

  @Test
  void streamsThatAgreeAndSawEverythingPass() {
    acknowledgeAll();
    assertThat(WatchChecker.check(List.of(full("n1"), full("n2")), ops)).isEmpty();
  }

  @Test
  void aDuplicatedEventIsFound() {
    acknowledgeAll();
    WatchStream s = full("n1");
    s.event(set(9, A, "3", "2"));
    assertThat(WatchChecker.check(List.of(s), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("duplicate or out of order"));
  }

  @Test
  void anEventDeliveredOutOfOrderIsFound() {
    acknowledgeAll();
    WatchStream s = new WatchStream("n1", true, 1);
    s.event(set(3, A, "1", null));
    s.event(set(9, A, "3", "2"));
    s.event(set(5, A, "2", "1"));
    assertThat(WatchChecker.check(List.of(s, full("n2")), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("duplicate or out of order"));
  }

  @Test
  void anEventOneWatchSkippedIsFound() {
    acknowledgeAll();
    WatchStream skipping = new WatchStream("n2", true, 1);
    skipping.event(set(3, A, "1", null));
    skipping.event(set(9, A, "3", "2"));
    List<Anomaly> found = WatchChecker.check(List.of(full("n1"), skipping), ops);
    assertThat(found).extracting(Anomaly::summary).anyMatch(m -> m.contains("n2 skipped the event at index 5"));
  }

  @Test
  void aResyncExplainsWhatItSkips() {
    acknowledgeAll();
    WatchStream resynced = new WatchStream("n2", true, 1);
    resynced.event(set(3, A, "1", null));
    resynced.gap(4, 6, "401: history cleared");
    resynced.event(set(9, A, "3", "2"));
    assertThat(WatchChecker.check(List.of(full("n1"), resynced), ops)).isEmpty();
  }

  @Test
  void twoReplicasWithDifferentEventsAtOneIndexAreFound() {
    acknowledgeAll();
    WatchStream other = new WatchStream("n2", true, 1);
    other.event(set(3, A, "1", null));
    other.event(set(5, A, "2b", "1"));
    assertThat(WatchChecker.check(List.of(full("n1"), other), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("different events at index 5"));
  }

  @Test
  void anEventEveryWatchMissedBreaksTheChain() {
    write(A, "1", 3, Op.Outcome.OK);
    write(A, "2", 5, Op.Outcome.UNKNOWN);
    write(A, "3", 9, Op.Outcome.OK);
    WatchStream s = new WatchStream("n1", true, 1);
    s.event(set(3, A, "1", null));
    s.event(set(9, A, "3", "2")); // prevValue 2: an event in between that nobody delivered
    assertThat(WatchChecker.check(List.of(s), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("does not chain at index 9"));
  }

  @Test
  void anAcknowledgedWriteMissingFromTheLogIsFound() {
    acknowledgeAll();
    write(A, "4", 7, Op.Outcome.OK); // acknowledged at 7, but the log has nothing at 7
    assertThat(WatchChecker.check(List.of(full("n1")), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("not in the log at its index 7"));
  }

  @Test
  void refusedPhantomAndDoubledWritesAreFound() {
    write(A, "1", 3, Op.Outcome.OK);
    write(A, "2", -1, Op.Outcome.FAIL);
    WatchStream s = new WatchStream("n1", true, 1);
    s.event(set(3, A, "1", null));
    s.event(set(5, A, "2", "1"));       // refused, yet applied
    s.event(set(7, A, "ghost", "2"));   // nobody sent it
    s.event(set(8, A, "1", "ghost"));   // applied a second time
    List<String> found = WatchChecker.check(List.of(s), ops).stream().map(Anomaly::summary).toList();
    assertThat(found).anyMatch(m -> m.contains("reported as failed took effect"))
        .anyMatch(m -> m.contains("value no client sent"))
        .anyMatch(m -> m.contains("applied twice"));
  }

  @Test
  void expiryOnceAtOneIndexAndNotEarly() {
    Op ttl = new Op(++ids, 1, Op.Kind.TTL, T, "t", null, 0, null);
    ttl.complete(1, Op.Outcome.OK, 2, null);
    ops.add(ttl);
    String expiration = "2030-01-01T00:00:10Z";
    long due = java.time.Instant.parse(expiration).toEpochMilli();
    WatchStream good = new WatchStream("n1", true, 1);
    good.event(set(2, T, "t", null));
    good.event(delete(4, T, "t", expiration, due + 20));
    assertThat(WatchChecker.check(List.of(good), ops)).isEmpty();

    WatchStream twice = new WatchStream("n2", true, 1);
    twice.event(set(2, T, "t", null));
    twice.event(delete(4, T, "t", expiration, due + 20));
    twice.event(delete(6, T, "t", expiration, due + 30));
    assertThat(WatchChecker.check(List.of(twice), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("expired twice"));

    WatchStream early = new WatchStream("n3", true, 1);
    early.event(set(2, T, "t", null));
    early.event(delete(4, T, "t", expiration, due - 5000));
    assertThat(WatchChecker.check(List.of(early), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("ms before its expiration"));

    WatchStream tooSoon = new WatchStream("n5", true, 1);
    ttl.ttl(2);
    tooSoon.event(set(2, T, "t", null));
    tooSoon.event(delete(4, T, "t", "2000-01-01T00:00:00Z", ttl.invokeWall + 500)); // lived 0.5 s of 2
    assertThat(WatchChecker.check(List.of(tooSoon), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("expired 500 ms after the set that gave it a TTL of 2 s"));

    WatchStream missed = new WatchStream("n4", true, 1);
    missed.event(set(2, T, "t", null));
    missed.event(set(5, A, "x", null)); // saw 2..5 in full, but not the expiry at 4
    write(A, "x", 5, Op.Outcome.OK);
    assertThat(WatchChecker.check(List.of(good, missed), ops)).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("n4 skipped the event at index 4"));
  }
}
