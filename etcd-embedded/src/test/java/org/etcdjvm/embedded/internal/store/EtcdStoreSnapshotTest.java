package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.T0;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.assertEtcdError;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.delete;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.set;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdStoreSnapshotTest {
  private final StoreLimits limits = new StoreLimits(1024, 1 << 20, 4, 100);
  private final EtcdStore source = StoreFixtures.storeAtT0(limits);

  private static byte[] snapshot(EtcdStore store) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    store.writeSnapshot(new DataOutputStream(bytes));
    return bytes.toByteArray();
  }

  private static void restore(EtcdStore store, byte[] bytes) throws IOException {
    store.readSnapshot(new DataInputStream(new ByteArrayInputStream(bytes)));
  }

  private void fill() throws StoreException {
    source.apply(new SetOp("/_etcd/machines/node1", "raft=http://127.0.0.1:7001", null, null, true), T0);
    source.apply(set("/a/b/c", "deep"), T0);
    source.apply(set("/a/ttl", "t", T0.plusSeconds(30)), T0);
    source.apply(set("/empty/x", "gone"), T0);
    source.apply(delete("/empty/x"), T0);
    source.apply(set("/u/\u65e5\u672c", "caf\u00e9 \uD800"), T0);
  }

  @Test
  void aRestoredStoreHasTheSameTreeTtlsAndIndex() throws Exception {
    fill();
    EtcdStore copy = StoreFixtures.storeAtT0(limits);
    restore(copy, snapshot(source));
    assertThat(copy.index()).isEqualTo(6);
    for (String key : List.of("/", "/a", "/a/b", "/a/b/c", "/a/ttl", "/empty", "/_etcd", "/_etcd/machines",
        "/_etcd/machines/node1", "/u", "/u/\u65e5\u672c")) {
      assertThat(copy.get(key)).as(key).isEqualTo(source.get(key));
    }
    assertThat(copy.get("/empty").children()).isEmpty();
    assertThat(copy.nextExpiration()).contains(T0.plusSeconds(30));
    assertThat(copy.expire(T0.plusSeconds(30)))
        .containsExactly(new Event(Action.DELETE, "/a/ttl", false, "t", null, false, T0.plusSeconds(30), 7));
  }

  @Test
  void aRestoredStoreKeepsTheHistoryAndThe401Boundary() throws Exception {
    fill(); // 6 events, history 4: indexes 3..6
    EtcdStore copy = StoreFixtures.storeAtT0(limits);
    restore(copy, snapshot(source));
    assertThat(copy.watches().oldestRetainedIndex()).isEqualTo(3);
    assertEtcdError(() -> copy.watches().watch("/", 2, e -> {}), EtcdError.EVENT_INDEX_CLEARED, "3");
    List<Event> seen = new ArrayList<>();
    copy.watches().watch("/empty", 3, seen::add);
    assertThat(seen).containsExactly(new Event(Action.SET, "/empty/x", false, null, "gone", true, null, 4));
  }

  @Test
  void aSnapshotOfARestoredStoreIsIdentical() throws Exception {
    fill();
    byte[] first = snapshot(source);
    EtcdStore copy = StoreFixtures.storeAtT0(limits);
    restore(copy, first);
    assertThat(snapshot(copy)).isEqualTo(first);
  }

  @Test
  void restoringReplacesThePreviousState() throws Exception {
    fill();
    EtcdStore other = StoreFixtures.storeAtT0(limits);
    other.apply(set("/stale", "x", T0.plusSeconds(1)), T0);
    restore(other, snapshot(source));
    assertEtcdError(() -> other.get("/stale"), EtcdError.KEY_NOT_FOUND, "get: /stale");
    assertThat(other.nextExpiration()).contains(T0.plusSeconds(30));
  }

  @Test
  void anEmptyStoreRoundTrips() throws Exception {
    EtcdStore copy = StoreFixtures.storeAtT0(limits);
    copy.apply(set("/x", "y"), T0);
    restore(copy, snapshot(StoreFixtures.storeAtT0(limits)));
    assertThat(copy.index()).isZero();
    assertThat(copy.get("/").children()).isEmpty();
    assertThat(copy.watches().oldestRetainedIndex()).isZero();
  }

  @Test
  void liveWatchersStayRegisteredAcrossARestore() throws Exception {
    fill();
    EtcdStore follower = StoreFixtures.storeAtT0(limits);
    List<Event> seen = new ArrayList<>();
    follower.watches().watch("/later", 0, seen::add);
    restore(follower, snapshot(source));
    assertThat(follower.watches().activeWatchers()).isEqualTo(1);
    Event e = follower.apply(set("/later", "v"), T0);
    assertThat(seen).containsExactly(e);
  }

  @Test
  void aPendingWatcherFiresForAMatchingEventInTheInstalledHistory() throws Exception {
    fill();
    EtcdStore follower = StoreFixtures.storeAtT0(limits);
    List<Event> seen = new ArrayList<>();
    follower.watches().watch("/u", 0, seen::add); // waits for index >= 1
    restore(follower, snapshot(source));
    assertThat(seen).extracting(Event::key).containsExactly("/u/\u65e5\u672c");
    assertThat(follower.watches().activeWatchers()).isZero();
  }

  @Test
  void aSmallerHistoryLimitKeepsTheNewestEventsAndMovesTheBoundary() throws Exception {
    fill();
    EtcdStore small = StoreFixtures.storeAtT0(new StoreLimits(1024, 1 << 20, 2, 100));
    restore(small, snapshot(source));
    assertThat(small.watches().oldestRetainedIndex()).isEqualTo(5);
    assertEtcdError(() -> small.watches().watch("/", 4, e -> {}), EtcdError.EVENT_INDEX_CLEARED, "5");
  }

  @Test
  void aCorruptSnapshotIsAnIOExceptionAndChangesNothing() throws Exception {
    fill();
    byte[] good = snapshot(source);
    EtcdStore target = StoreFixtures.storeAtT0(limits);
    target.apply(set("/mine", "1"), T0);
    assertThatThrownBy(() -> restore(target, Arrays.copyOf(good, good.length - 3))).isInstanceOf(IOException.class);
    byte[] badMagic = good.clone();
    badMagic[0] = 0;
    assertThatThrownBy(() -> restore(target, badMagic)).isInstanceOf(IOException.class);
    byte[] badVersion = good.clone();
    badVersion[7] = 9;
    assertThatThrownBy(() -> restore(target, badVersion)).hasMessageContaining("version");
    assertThat(target.get("/mine").node().value()).isEqualTo("1");
    assertThat(target.index()).isEqualTo(1);
  }
}
