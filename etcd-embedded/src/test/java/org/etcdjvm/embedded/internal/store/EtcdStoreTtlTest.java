package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.T0;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.assertEtcdError;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.delete;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.set;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdStoreTtlTest {
  /** The clock this node's reads go by; the store's writes take their time from the log. */
  private final MutableClock clock = new MutableClock(T0);
  private final EtcdStore store = new EtcdStore(StoreLimits.defaults(), clock);
  private final Instant in5s = T0.plusSeconds(5);

  private static final class MutableClock extends java.time.Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aKeyIsGoneForReadsTheInstantItExpiresBeforeItsExpiryIsApplied() throws StoreException {
    store.apply(set("/dir/foo", "bar", in5s), T0);
    store.apply(set("/dir/keep", "x"), T0);
    long index = store.index();
    clock.now = in5s.minusNanos(1);
    assertThat(store.get("/dir/foo").node().value()).isEqualTo("bar");
    clock.now = in5s;
    assertEtcdError(() -> store.get("/dir/foo"), EtcdError.KEY_NOT_FOUND, "get: /dir/foo");
    assertThat(store.get("/dir").children()).extracting(Event::key).containsExactly("/dir/keep");
    assertThat(store.index()).as("a read changes nothing").isEqualTo(index);
    // the replicated expiry still happens once, with its own index and event
    List<Event> expired = store.expire(in5s);
    assertThat(expired).extracting(Event::key, Event::index).containsExactly(org.assertj.core.groups.Tuple.tuple("/dir/foo", index + 1));
    assertThat(store.get("/dir").children()).extracting(Event::key).containsExactly("/dir/keep");
  }

  @Test
  void aSetWithExpirationCarriesItOnTheEventAndOnGet() throws StoreException {
    Event e = store.apply(set("/foo", "bar", in5s), T0);
    assertThat(e).isEqualTo(new Event(Action.SET, "/foo", false, null, "bar", true, in5s, 1));
    assertThat(store.get("/foo").node().expiration()).isEqualTo(in5s);
    assertThat(store.get("/").children().get(0).expiration()).isEqualTo(in5s);
    assertThat(store.nextExpiration()).contains(in5s);
  }

  @Test
  void reSettingWithoutExpirationMakesTheKeyPermanent() throws StoreException {
    store.apply(set("/foo", "bar", in5s), T0);
    Event e = store.apply(set("/foo", "baz"), T0);
    assertThat(e.expiration()).isNull();
    assertThat(e.prevValue()).isEqualTo("bar");
    assertThat(store.get("/foo").node().expiration()).isNull();
    assertThat(store.nextExpiration()).isEmpty();
    assertThat(store.expire(in5s.plusSeconds(100))).isEmpty();
    assertThat(store.get("/foo").node().value()).isEqualTo("baz");
  }

  @Test
  void reSettingWithANewExpirationReplacesIt() throws StoreException {
    store.apply(set("/foo", "bar", in5s), T0);
    Instant later = T0.plusSeconds(100);
    store.apply(set("/foo", "baz", later), T0);
    assertThat(store.nextExpiration()).contains(later);
    assertThat(store.expire(in5s)).isEmpty();
    assertThat(store.expire(later)).extracting(Event::key).containsExactly("/foo");
  }

  @Test
  void expiringAKeyIsADeleteEventWithPrevValueExpirationAndItsOwnIndex() throws StoreException {
    store.apply(set("/foo", "bar", in5s), T0);
    store.apply(set("/other", "x"), T0);
    assertThat(store.expire(in5s.minusNanos(1))).isEmpty();
    List<Event> expired = store.expire(in5s);
    assertThat(expired).containsExactly(new Event(Action.DELETE, "/foo", false, "bar", null, false, in5s, 3));
    assertThat(store.index()).isEqualTo(3);
    assertEtcdError(() -> store.get("/foo"), EtcdError.KEY_NOT_FOUND, "get: /foo");
    assertThat(store.nextExpiration()).isEmpty();
  }

  @Test
  void expiryRemovesDueKeysEarliestFirstEachWithItsOwnIndex() throws StoreException {
    store.apply(set("/c", "3", T0.plusSeconds(3)), T0);
    store.apply(set("/a", "1", T0.plusSeconds(1)), T0);
    store.apply(set("/b", "2", T0.plusSeconds(2)), T0);
    store.apply(set("/d", "4", T0.plusSeconds(4)), T0);
    List<Event> expired = store.expire(T0.plusSeconds(3));
    assertThat(expired).extracting(Event::key).containsExactly("/a", "/b", "/c");
    assertThat(expired).extracting(Event::index).containsExactly(5L, 6L, 7L);
    assertThat(store.nextExpiration()).contains(T0.plusSeconds(4));
  }

  @Test
  void keysWithTheSameExpirationAllExpire() throws StoreException {
    store.apply(set("/b", "2", in5s), T0);
    store.apply(set("/a", "1", in5s), T0);
    assertThat(store.expire(in5s)).extracting(Event::key).containsExactly("/a", "/b");
  }

  @Test
  void aKeyStaysReadableUntilExpireRuns() throws StoreException {
    store.apply(set("/foo", "bar", in5s), T0);
    assertThat(store.get("/foo").node().value()).isEqualTo("bar");
  }

  @Test
  void anAlreadyPastExpirationIsSetThenExpiredByTheNextExpireCall() throws StoreException {
    Event e = store.apply(set("/foo", "bar", T0.minusSeconds(1)), T0);
    assertThat(e.action()).isEqualTo(Action.SET);
    assertThat(store.nextExpiration()).contains(T0.minusSeconds(1));
    assertThat(store.expire(T0)).extracting(Event::action).containsExactly(Action.DELETE);
  }

  @Test
  void deletingATtlKeyCarriesItsExpirationAndCancelsTheExpiry() throws StoreException {
    store.apply(set("/testkey", "test", in5s), T0);
    Event e = store.apply(delete("/testkey"), T0);
    assertThat(e).isEqualTo(new Event(Action.DELETE, "/testkey", false, "test", null, false, in5s, 2));
    assertThat(store.nextExpiration()).isEmpty();
    assertThat(store.expire(in5s)).isEmpty();
  }

  @Test
  void aTtlKeyRecreatedAfterDeleteKeepsOnlyItsNewExpiry() throws StoreException {
    store.apply(set("/k", "1", in5s), T0);
    store.apply(delete("/k"), T0);
    store.apply(set("/k", "2", T0.plusSeconds(60)), T0);
    assertThat(store.expire(in5s)).isEmpty();
    assertThat(store.get("/k").node().value()).isEqualTo("2");
  }

  @Test
  void expiryLeavesTheDirectoryBehind() throws StoreException {
    store.apply(set("/dir/k", "1", in5s), T0);
    store.expire(in5s);
    assertThat(store.get("/dir").children()).isEmpty();
  }

  @Test
  void expiriesAreInHistoryAndDeliveredToWatchers() throws StoreException {
    store.apply(set("/foo", "bar", in5s), T0);
    List<Event> seen = new ArrayList<>();
    store.watches().watch("/foo", 0, seen::add);
    List<Event> expired = store.expire(in5s);
    assertThat(seen).isEqualTo(expired);
    List<Event> replay = new ArrayList<>();
    store.watches().watch("/", 2, replay::add);
    assertThat(replay).isEqualTo(expired);
  }
}
