package org.etcdjvm.faults.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearizabilityTest {
  @Test
  void concurrentWritesAndReadsThatSomeOrderExplainsAreLinearizable() {
    Histories h = new Histories();
    h.write(1, "a", 0, 10);
    h.write(2, "b", 5, 15);           // concurrent with a: either order
    h.read(3, "a", 12, 14);           // b not yet (b may take effect after 14)
    h.read(3, "b", 16, 18);
    h.cas(1, "b", "c", 20, 30, Op.Outcome.OK);
    h.read(2, "b", 21, 22);           // before the cas took effect
    h.read(2, "c", 31, 32);
    h.add(1, Op.Kind.DELETE, null, null, 40, 41, Op.Outcome.OK).observe("c");
    h.read(2, null, 42, 43);
    Linearizability.Result r = Linearizability.check(h.ops());
    assertThat(r.linearizable()).as(r.summary()).isTrue();
  }

  @Test
  void aStaleReadAfterAnAcknowledgedWriteIsNotLinearizable() {
    Histories h = new Histories();
    h.write(1, "a", 0, 10);
    h.write(1, "b", 11, 20);
    Op stale = h.read(2, "a", 21, 25); // b was acknowledged before this read began
    Linearizability.Result r = Linearizability.check(h.ops());
    assertThat(r.linearizable()).isFalse();
    assertThat(r.inconclusive()).isFalse();
    assertThat(r.stuckOn()).isEqualTo(stale);
    assertThat(r.summary()).contains("NOT linearizable");
  }

  @Test
  void twoCompareAndSetsFromTheSameValueCannotBothSucceed() {
    Histories h = new Histories();
    h.write(1, "a", 0, 1);
    h.cas(1, "a", "b", 2, 10, Op.Outcome.OK);
    h.cas(2, "a", "c", 3, 11, Op.Outcome.OK);
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();
  }

  @Test
  void aPrevValueReportedBySetMustBeTheValueItReplaced() {
    Histories h = new Histories();
    h.write(1, "a", 0, 1);
    h.write(2, "b", 2, 3).observe("a");
    assertThat(Linearizability.check(h.ops()).linearizable()).isTrue();
    h.write(1, "c", 4, 5).observe("a"); // it replaced b, not a: a lost update
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();
  }

  @Test
  void aFailedCompareThatNamedTheValueIsARead() {
    Histories h = new Histories();
    h.write(1, "a", 0, 1);
    h.cas(2, "x", "y", 2, 3, Op.Outcome.FAIL).observe("a");
    assertThat(Linearizability.check(h.ops()).linearizable()).isTrue();
    h.write(1, "b", 4, 5);
    h.cas(2, "x", "y", 6, 7, Op.Outcome.FAIL).observe("a"); // b was there
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();
  }

  @Test
  void aFailedWriteWithoutObservationChangesNothing() {
    Histories h = new Histories();
    h.write(1, "a", 0, 1);
    h.add(2, Op.Kind.WRITE, "b", null, 2, 3, Op.Outcome.FAIL);
    h.read(1, "a", 4, 5);
    assertThat(Linearizability.check(h.ops()).linearizable()).isTrue();
    h.read(1, "b", 6, 7); // a refused write that shows up
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();
  }

  @Test
  void anUnknownWriteMayTakeEffectLateOrNever() {
    Histories never = new Histories();
    never.write(1, "a", 0, 1);
    never.add(2, Op.Kind.WRITE, "b", null, 2, 0, Op.Outcome.UNKNOWN);
    never.read(1, "a", 10, 11);
    never.read(1, "a", 20, 21);
    assertThat(Linearizability.check(never.ops()).linearizable()).isTrue();

    Histories late = new Histories();
    late.write(1, "a", 0, 1);
    late.add(2, Op.Kind.WRITE, "b", null, 2, 0, Op.Outcome.UNKNOWN);
    late.read(1, "a", 10, 11);
    late.read(1, "b", 100, 101); // applied long after the client gave up
    assertThat(Linearizability.check(late.ops()).linearizable()).isTrue();

    Histories flicker = new Histories();
    flicker.write(1, "a", 0, 1);
    flicker.add(2, Op.Kind.WRITE, "b", null, 2, 0, Op.Outcome.UNKNOWN);
    flicker.read(1, "b", 10, 11);
    flicker.read(1, "a", 20, 21); // b took effect, then a came back: impossible
    assertThat(Linearizability.check(flicker.ops()).linearizable()).isFalse();
  }

  @Test
  void anUnknownCompareTakesEffectOnlyIfItsExpectationHeld() {
    Histories h = new Histories();
    h.write(1, "a", 0, 1);
    h.cas(2, "zzz", "b", 2, 0, Op.Outcome.UNKNOWN);
    h.read(1, "b", 10, 11); // the compare could never have matched
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();
  }

  @Test
  void aDeleteMustFindTheKeyAndACreateMustNot() {
    Histories h = new Histories();
    h.add(1, Op.Kind.CREATE, "a", null, 0, 1, Op.Outcome.OK);
    h.add(2, Op.Kind.CREATE, "b", null, 2, 3, Op.Outcome.OK); // a exists: create must fail
    assertThat(Linearizability.check(h.ops()).linearizable()).isFalse();

    Histories d = new Histories();
    d.add(1, Op.Kind.DELETE, null, null, 0, 1, Op.Outcome.OK); // the key never existed
    assertThat(Linearizability.check(d.ops()).linearizable()).isFalse();
  }

  @Test
  void aBoundedHistoryWithManyConcurrentAndUnknownOperationsIsCheckedQuickly() {
    // 5 processes, 200 operations each overlapping the others, 10 unknown writes: a history
    // generated from a real register, so it must come out linearizable, fast.
    Random rnd = new Random(7);
    Histories h = new Histories();
    String state = null;
    long t = 0;
    int unknown = 0;
    for (int i = 0; i < 200; i++) {
      int p = i % 5;
      long a = t;
      long effect = a + 1 + rnd.nextInt(3);
      long b = effect + 1 + rnd.nextInt(8);
      t += 2; // calls 2 apart, each lasting up to 12: several in flight at once
      double r = rnd.nextDouble();
      if (r < 0.4) {
        h.read(p, state, a, b);
      } else if (r < 0.7 || state == null) {
        String v = "v" + i;
        if (unknown < 10 && rnd.nextInt(10) == 0) {
          unknown++;
          if (rnd.nextBoolean()) {
            h.add(p, Op.Kind.WRITE, v, null, a, 0, Op.Outcome.UNKNOWN);
            continue; // never applied
          }
          h.add(p, Op.Kind.WRITE, v, null, a, 0, Op.Outcome.UNKNOWN);
          state = v;  // applied, client never knew
          continue;
        }
        h.write(p, v, a, b);
        state = v;
      } else {
        h.cas(p, state, "c" + i, a, b, Op.Outcome.OK);
        state = "c" + i;
      }
    }
    long t0 = System.nanoTime();
    Linearizability.Result r = Linearizability.check(h.ops());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r.linearizable()).as(r.summary()).isTrue();
    assertThat(ms).as("check time, ms").isLessThan(5000);
  }
}
