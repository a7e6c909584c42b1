package org.etcdjvm.faults.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FinalAndLocalReadCheckerTest {
  private static Op once(int id, String key, String value, Op.Outcome outcome) {
    Op op = new Op(id, 100, Op.Kind.ONCE, key, value, null, id, null);
    return op.complete(id + 1, outcome, outcome == Op.Outcome.OK ? id : -1, null);
  }

  @Test
  void anAcknowledgedWriteMissingAtTheEndIsLost() {
    List<Op> ops = List.of(once(1, "/fz/once/o1", "o1", Op.Outcome.OK), once(2, "/fz/once/o2", "o2", Op.Outcome.OK),
        once(3, "/fz/once/o3", "o3", Op.Outcome.UNKNOWN), once(4, "/fz/once/o4", "o4", Op.Outcome.FAIL));
    assertThat(FinalStateChecker.noLostWrites(ops, Map.of("/fz/once/o1", "o1", "/fz/once/o2", "o2"))).isEmpty();
    assertThat(FinalStateChecker.noLostWrites(ops, Map.of("/fz/once/o1", "o1", "/fz/once/o2", "o2", "/fz/once/o3",
        "o3"))).as("an unknown write may be there").isEmpty();
    assertThat(FinalStateChecker.noLostWrites(ops, Map.of("/fz/once/o1", "o1")))
        .extracting(Anomaly::summary).containsExactly("an acknowledged write is lost: /fz/once/o2 is absent after healing");
    assertThat(FinalStateChecker.noLostWrites(ops, Map.of("/fz/once/o1", "o1", "/fz/once/o2", "o2", "/fz/once/o4",
        "o4"))).extracting(Anomaly::summary).anyMatch(s -> s.contains("reported as failed took effect"));
    assertThat(FinalStateChecker.noLostWrites(ops, Map.of("/fz/once/o1", "o1", "/fz/once/o2", "o2", "/fz/once/o9",
        "o9"))).extracting(Anomaly::summary).anyMatch(s -> s.contains("which no client wrote"));
  }

  @Test
  void replicasMustAgreeOnListingsAndIndex() {
    var a = new FinalStateChecker.Replica("n1", 40, Map.of("/fz/once", Map.of("/fz/once/o1", "o1")));
    var b = new FinalStateChecker.Replica("n2", 40, Map.of("/fz/once", Map.of("/fz/once/o1", "o1")));
    var behind = new FinalStateChecker.Replica("n3", 39, Map.of("/fz/once", Map.of()));
    assertThat(FinalStateChecker.converged(List.of(a, b))).isEmpty();
    assertThat(FinalStateChecker.converged(List.of(a, b, behind))).extracting(Anomaly::summary)
        .anyMatch(s -> s.contains("n3 at 39")).anyMatch(s -> s.contains("did not converge on /fz/once"));
    assertThat(FinalStateChecker.expired(a, "/fz/once")).hasSize(1);
    assertThat(FinalStateChecker.expired(a, "/fz/ttl")).isEmpty();
  }

  private static final String K = "/fz/lin/k0";

  @Test
  void aMemberThatGoesBackInTimeIsFound() {
    List<LocalRead> reads = List.of(
        new LocalRead("n1", 1, 0, 10, 7, Map.of(K, "b")),
        new LocalRead("n1", 1, 20, 30, 5, Map.of(K, "a")),   // later, lower index: backwards
        new LocalRead("n1", 2, 40, 50, 3, Map.of()),         // a new incarnation may start lower
        new LocalRead("n2", 1, 20, 30, 5, Map.of(K, "a")));  // another member may lag
    assertThat(LocalReadChecker.check(reads, null, List.of(K))).extracting(Anomaly::summary)
        .containsExactly("member n1#1 went back in time: index 5 after it had answered index 7");
  }

  @Test
  void aLocalReadMustBeThePrefixOfTheLogAtItsIndex() {
    WatchStream s = new WatchStream("n1", true, 1);
    s.event(new WatchStream.Event(3, "SET", K, "a", null, true, null, 0));
    s.event(new WatchStream.Event(6, "SET", K, "b", "a", false, null, 0));
    s.event(new WatchStream.Event(8, "DELETE", K, null, "b", false, null, 0));
    EventLog log = new EventLog(List.of(s));
    List<LocalRead> good = List.of(new LocalRead("n1", 1, 0, 1, 2, Map.of()), new LocalRead("n1", 1, 2, 3, 4,
        Map.of(K, "a")), new LocalRead("n2", 1, 2, 3, 7, Map.of(K, "b")), new LocalRead("n2", 1, 4, 5, 8, Map.of()));
    assertThat(LocalReadChecker.check(good, log, List.of(K))).isEmpty();
    List<LocalRead> torn = List.of(new LocalRead("n2", 1, 0, 1, 6, Map.of(K, "a"))); // index 6 but the old value
    assertThat(LocalReadChecker.check(torn, log, List.of(K))).extracting(Anomaly::summary)
        .anyMatch(m -> m.contains("the log up to that index leaves b"));
  }
}
