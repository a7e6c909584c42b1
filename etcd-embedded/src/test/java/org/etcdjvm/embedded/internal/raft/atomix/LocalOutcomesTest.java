package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class LocalOutcomesTest {
  private final LocalOutcomes outcomes = new LocalOutcomes();

  @Test
  void aReferenceCarriesTheIndexAndIsToldApartFromAnOutcome() {
    byte[] reference = LocalOutcomes.reference(123_456_789_012L);
    assertThat(reference).hasSize(9);
    assertThat(LocalOutcomes.isReference(reference)).isTrue();
    assertThat(LocalOutcomes.index(reference)).isEqualTo(123_456_789_012L);
    // what a leader of an older version returns: the outcomes themselves (format byte 0x52)
    assertThat(LocalOutcomes.isReference(new byte[] {0x52, 0, 0, 0, 1, 0, 0, 0, 0})).isFalse();
    assertThat(LocalOutcomes.isReference(new byte[0])).isFalse();
    assertThat(LocalOutcomes.isReference(null)).isFalse();
  }

  @Test
  void anOutcomeAppliedBeforeItIsAskedForIsHandedOverOnce() throws Exception {
    outcomes.ownedBy(session -> session == 7);
    outcomes.applied(7, 10, new byte[] {1});
    assertThat(outcomes.outcome(10).get()).containsExactly(1);
    assertThat(outcomes.kept()).isZero();
  }

  @Test
  void anOutcomeAskedForBeforeThisReplicaAppliedItArrivesWhenItDoes() throws Exception {
    // another member answered the command (leadership moved while it was in flight)
    outcomes.ownedBy(session -> session == 7);
    CompletableFuture<byte[]> outcome = outcomes.outcome(11);
    assertThat(outcome).isNotDone();
    outcomes.applied(7, 11, new byte[] {2});
    assertThat(outcome.get()).containsExactly(2);
    assertThat(outcomes.kept()).isZero();
  }

  @Test
  void otherSessionsOutcomesAreNotKept() {
    outcomes.ownedBy(session -> session == 7);
    outcomes.applied(8, 12, new byte[] {3});
    assertThat(outcomes.kept()).isZero();
  }

  @Test
  void outcomesOfCommandsGivenUpOnAreBoundedAndTheOldestWaitFailsAsUnknown() {
    outcomes.ownedBy(session -> true);
    CompletableFuture<byte[]> abandoned = outcomes.outcome(1);
    for (long index = 2; index < 2 + 3 * LocalOutcomes.MAX_KEPT; index++) {
      outcomes.applied(7, index, new byte[] {(byte) index});
    }
    assertThat(outcomes.kept()).isEqualTo(LocalOutcomes.MAX_KEPT);
    assertThatThrownBy(abandoned::get).isInstanceOf(ExecutionException.class)
        .hasMessageContaining("index 1").hasMessageContaining("outcome unknown");
  }
}
