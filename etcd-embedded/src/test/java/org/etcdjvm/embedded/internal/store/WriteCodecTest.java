package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriteCodecTest {
  private static final Instant EXP = Instant.parse("2013-07-12T03:31:12.156146039Z");

  @Test
  void opsRoundTripWithEveryField() {
    List<WriteOp> ops = List.of(
        new SetOp("/foo", "bar", null, null, false),
        new SetOp("foo//bar/", "v", "", EXP, false),
        new SetOp("/foo", "two", "one", Instant.ofEpochSecond(-5, 1), true),
        new SetOp("/empty", null, null, null, false),
        new DeleteOp("/_etcd/machines/n1", true),
        new DeleteOp("/foo", false));
    assertThat(WriteCodec.decodeOps(WriteCodec.encodeOps(ops))).isEqualTo(ops);
  }

  @Test
  void anEmptyBatchRoundTrips() {
    assertThat(WriteCodec.decodeOps(WriteCodec.encodeOps(List.of()))).isEmpty();
    assertThat(WriteCodec.decodeOutcomes(WriteCodec.encodeOutcomes(List.of()))).isEmpty();
  }

  @Test
  void stringsRoundTripExactlyIncludingUnicodeAndLoneSurrogates() {
    List<WriteOp> ops = List.of(
        new SetOp("/\u65e5\u672c/\uD83D\uDE00", "caf\u00e9 \u0000 <&>", null, null, false),
        new SetOp("/k", "bad \uD800 surrogate \uDFFF", "\uDC00", null, false));
    assertThat(WriteCodec.decodeOps(WriteCodec.encodeOps(ops))).isEqualTo(ops);
  }

  @Test
  void aLargeValueRoundTrips() {
    String big = "x".repeat(1_048_576);
    List<WriteOp> ops = List.of(new SetOp("/big", big, null, null, false));
    assertThat(((SetOp) WriteCodec.decodeOps(WriteCodec.encodeOps(ops)).get(0)).value()).isEqualTo(big);
  }

  @Test
  void outcomesRoundTripEventsAndErrors() {
    List<Outcome> outcomes = List.of(
        new Outcome.Applied(new Event(Action.SET, "/foo", false, "old", "new", false, EXP, 6)),
        new Outcome.Applied(new Event(Action.SET, "/bar", false, null, "four", true, null, 11)),
        new Outcome.Applied(new Event(Action.DELETE, "/testkey", false, "test", null, false, EXP, 189)),
        new Outcome.Applied(new Event(Action.GET, "/dir", true, null, null, false, null, 3)),
        new Outcome.Failed(new StoreException(EtcdError.TEST_FAILED, "TestAndSet: one!=two")),
        new Outcome.Failed(new StoreException(EtcdError.RAFT_INTERNAL, null)));
    List<Outcome> decoded = WriteCodec.decodeOutcomes(WriteCodec.encodeOutcomes(outcomes));
    assertThat(decoded).hasSize(6);
    assertThat(decoded.subList(0, 4)).isEqualTo(outcomes.subList(0, 4));
    assertThat(decoded.get(4)).isInstanceOfSatisfying(Outcome.Failed.class, f -> {
      assertThat(f.error().error()).isEqualTo(EtcdError.TEST_FAILED);
      assertThat(f.error().cause()).isEqualTo("TestAndSet: one!=two");
    });
    assertThat(decoded.get(5)).isInstanceOfSatisfying(Outcome.Failed.class, f -> {
      assertThat(f.error().error()).isEqualTo(EtcdError.RAFT_INTERNAL);
      assertThat(f.error().cause()).isNull();
    });
  }

  @Test
  void everyErrorCodeRoundTrips() {
    for (EtcdError error : EtcdError.values()) {
      Outcome decoded = WriteCodec.decodeOutcomes(
          WriteCodec.encodeOutcomes(List.of(new Outcome.Failed(new StoreException(error, "c"))))).get(0);
      assertThat(((Outcome.Failed) decoded).error().error()).isEqualTo(error);
    }
  }

  @Test
  void aTimedCommandCarriesItsTimeAndAnOldOneHasNone() {
    List<WriteOp> ops = List.of(new SetOp("/foo", "bar", null, null, false));
    java.time.Instant t = java.time.Instant.parse("2026-11-30T12:00:00.123456789Z");
    assertThat(WriteCodec.decodeCommand(WriteCodec.encodeCommand(t, ops))).isEqualTo(new WriteCodec.Command(t, ops));
    assertThat(WriteCodec.decodeCommand(WriteCodec.encodeOps(ops))).isEqualTo(new WriteCodec.Command(null, ops));
  }

  @Test
  void corruptBytesAreRejected() {
    byte[] good = WriteCodec.encodeOps(List.of(new SetOp("/foo", "bar", null, null, false)));
    assertThatThrownBy(() -> WriteCodec.decodeOps(Arrays.copyOf(good, good.length - 1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WriteCodec.decodeOps(Arrays.copyOf(good, good.length + 1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WriteCodec.decodeOps(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WriteCodec.decodeOps(new byte[] {0x51, 0x7f, 0, 0, 0}))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] outcomes = WriteCodec.encodeOutcomes(
        List.of(new Outcome.Failed(new StoreException(EtcdError.KEY_NOT_FOUND, null))));
    assertThatThrownBy(() -> WriteCodec.decodeOps(outcomes)).isInstanceOf(IllegalArgumentException.class);
  }
}
