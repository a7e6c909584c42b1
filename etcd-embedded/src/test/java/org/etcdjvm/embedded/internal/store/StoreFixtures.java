package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Helpers shared by the store tests. */
final class StoreFixtures {
  static final Instant T0 = Instant.parse("2013-07-12T03:31:07.656146039Z");

  private StoreFixtures() {}

  /** A store whose reads see the time as {@link #T0}, when the fixtures' TTLs have not run out. */
  static EtcdStore storeAtT0(StoreLimits limits) {
    return new EtcdStore(limits, java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC));
  }

  static SetOp set(String key, String value) {
    return new SetOp(key, value, null, null, false);
  }

  static SetOp set(String key, String value, Instant expiration) {
    return new SetOp(key, value, null, expiration, false);
  }

  static SetOp testAndSet(String key, String prevValue, String value) {
    return new SetOp(key, value, prevValue, null, false);
  }

  static DeleteOp delete(String key) {
    return new DeleteOp(key, false);
  }

  static void assertEtcdError(ThrowingCallable call, EtcdError error, String cause) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StoreException.class, e -> {
      org.assertj.core.api.Assertions.assertThat(e.error()).isEqualTo(error);
      org.assertj.core.api.Assertions.assertThat(e.cause()).isEqualTo(cause);
    });
  }
}
