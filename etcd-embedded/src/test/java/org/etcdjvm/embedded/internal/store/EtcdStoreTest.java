package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.T0;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.assertEtcdError;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.delete;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.set;
import static org.etcdjvm.embedded.internal.store.StoreFixtures.testAndSet;

import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdStoreTest {
  private final EtcdStore store = new EtcdStore(StoreLimits.defaults());

  // ---------------------------------------------------------------- set and get

  @Test
  void aFreshStoreHasIndexZeroAndAnEmptyRoot() throws StoreException {
    assertThat(store.index()).isZero();
    GetResult root = store.get("/");
    assertThat(root.isDirectory()).isTrue();
    assertThat(root.children()).isEmpty();
    assertThat(store.nextExpiration()).isEmpty();
  }

  @Test
  void firstSetCreatesTheKeyWithIndexOne() throws StoreException {
    Event e = store.apply(set("message", "Hello world"), T0);
    assertThat(e).isEqualTo(new Event(Action.SET, "/message", false, null, "Hello world", true, null, 1));
    assertThat(store.index()).isEqualTo(1);
  }

  @Test
  void overwritingReturnsThePreviousValueAndIsNotNew() throws StoreException {
    store.apply(set("/message", "Hello world"), T0);
    Event e = store.apply(set("/message", "Hello etcd"), T0);
    assertThat(e).isEqualTo(new Event(Action.SET, "/message", false, "Hello world", "Hello etcd", false, null, 2));
  }

  @Test
  void getOfAFileReturnsItsValueWithTheCurrentStoreIndex() throws StoreException {
    store.apply(set("/message", "Hello world"), T0);
    store.apply(set("/other", "x"), T0);
    GetResult r = store.get("/message");
    assertThat(r.isDirectory()).isFalse();
    assertThat(r.node()).isEqualTo(new Event(Action.GET, "/message", false, null, "Hello world", false, null, 2));
  }

  @Test
  void setCleansTheKey() throws StoreException {
    assertThat(store.apply(set("foo//bar/", "v"), T0).key()).isEqualTo("/foo/bar");
    assertThat(store.get("/foo/bar").node().value()).isEqualTo("v");
  }

  @Test
  void setCreatesIntermediateDirectories() throws StoreException {
    store.apply(set("/a/b/c", "v"), T0);
    assertThat(store.get("/a").children())
        .containsExactly(new Event(Action.GET, "/a/b", true, null, null, false, null, 1));
    assertThat(store.get("/a/b").children())
        .containsExactly(new Event(Action.GET, "/a/b/c", false, null, "v", false, null, 1));
  }

  @Test
  void listingIsOneLevelDeepSortedByKeyWithDirsAsDirTrue() throws StoreException {
    store.apply(set("/foo/zeta", "z"), T0);
    store.apply(set("/foo/foo_dir/deep", "d"), T0);
    store.apply(set("/foo/foo", "barbar"), T0);
    store.apply(set("/foo/alpha", "a"), T0);
    store.apply(set("/foo/b-c", "bc"), T0);
    store.apply(set("/foo/b", "b"), T0);
    List<Event> children = store.get("/foo").children();
    assertThat(children).extracting(Event::key)
        .containsExactly("/foo/alpha", "/foo/b", "/foo/b-c", "/foo/foo", "/foo/foo_dir", "/foo/zeta");
    assertThat(children).allSatisfy(c -> {
      assertThat(c.action()).isEqualTo(Action.GET);
      assertThat(c.index()).isEqualTo(6);
    });
    assertThat(children.get(4)).isEqualTo(new Event(Action.GET, "/foo/foo_dir", true, null, null, false, null, 6));
    assertThat(children.get(3)).isEqualTo(new Event(Action.GET, "/foo/foo", false, null, "barbar", false, null, 6));
  }

  @Test
  void aDirectoryWithOneChildIsStillAListing() throws StoreException {
    store.apply(set("/dir/only", "v"), T0);
    assertThat(store.get("/dir").isDirectory()).isTrue();
    assertThat(store.get("/dir").children()).hasSize(1);
  }

  @Test
  void emptyDirectoriesStayAndListAsEmpty() throws StoreException {
    store.apply(set("/dir/only", "v"), T0);
    store.apply(delete("/dir/only"), T0);
    assertThat(store.get("/dir").children()).isEmpty();
    assertThat(store.get("/").children())
        .containsExactly(new Event(Action.GET, "/dir", true, null, null, false, null, 2));
  }

  @Test
  void gettingAMissingKeyIsKeyNotFound() {
    assertEtcdError(() -> store.get("/foo"), EtcdError.KEY_NOT_FOUND, "get: /foo");
  }

  @Test
  void gettingAPathThroughAFileIsKeyNotFound() throws StoreException {
    store.apply(set("/foo", "bar"), T0);
    assertEtcdError(() -> store.get("/foo/bar"), EtcdError.KEY_NOT_FOUND, "get: /foo/bar");
  }

  @Test
  void rootListingShowsTheInternalDirectoryOnceItExists() throws StoreException {
    store.apply(new SetOp("/_etcd/machines/node1", "raft=http://127.0.0.1:7001", null, null, true), T0);
    store.apply(set("/message", "hi"), T0);
    assertThat(store.get("/").children()).containsExactly(
        new Event(Action.GET, "/_etcd", true, null, null, false, null, 2),
        new Event(Action.GET, "/message", false, null, "hi", false, null, 2));
  }

  // ---------------------------------------------------------------- set errors

  @Test
  void settingThroughAFileIsNotAFile() throws StoreException {
    store.apply(set("/foo", "bar"), T0);
    assertEtcdError(() -> store.apply(set("/foo/bar", "x"), T0), EtcdError.NOT_A_FILE, "set: /foo/bar");
    assertEtcdError(() -> store.apply(set("/foo/bar/baz", "x"), T0), EtcdError.NOT_A_FILE, "set: /foo/bar/baz");
    assertThat(store.index()).isEqualTo(1);
    assertThat(store.get("/foo").node().value()).isEqualTo("bar");
  }

  @Test
  void settingOntoADirectoryIsNotAFile() throws StoreException {
    store.apply(set("/foo/bar", "x"), T0);
    assertEtcdError(() -> store.apply(set("/foo", "y"), T0), EtcdError.NOT_A_FILE, "set: /foo");
    assertThat(store.get("/foo").isDirectory()).isTrue();
  }

  @Test
  void settingTheRootIsNotAFile() {
    assertEtcdError(() -> store.apply(set("/", "y"), T0), EtcdError.NOT_A_FILE, "set: /");
    assertEtcdError(() -> store.apply(set("", "y"), T0), EtcdError.NOT_A_FILE, "set: /");
  }

  @Test
  void anEmptyOrMissingValueIsRequired() {
    assertEtcdError(() -> store.apply(set("/foo", ""), T0), EtcdError.VALUE_REQUIRED, "Set");
    assertEtcdError(() -> store.apply(set("/foo", null), T0), EtcdError.VALUE_REQUIRED, "Set");
    assertThat(store.index()).isZero();
  }

  @Test
  void aValueLargerThanTheLimitIsInvalid() throws StoreException {
    EtcdStore small = new EtcdStore(new StoreLimits(1024, 10, 1000, 10));
    assertThat(small.apply(set("/ok", "0123456789"), T0).value()).hasSize(10);
    assertEtcdError(() -> small.apply(set("/big", "01234567890"), T0), EtcdError.INVALID_FIELD,
        "value: larger than 10 bytes");
    // counted in UTF-8 bytes: 4 x 3 bytes = 12
    assertEtcdError(() -> small.apply(set("/big", "\u65e5\u65e5\u65e5\u65e5"), T0), EtcdError.INVALID_FIELD,
        "value: larger than 10 bytes");
    assertEtcdError(() -> store.apply(set("/big", "x".repeat(1_048_577)), T0), EtcdError.INVALID_FIELD,
        "value: larger than 1048576 bytes");
    assertThat(store.apply(set("/big", "x".repeat(1_048_576)), T0).newKey()).isTrue();
  }

  @Test
  void badKeysAreRejectedByApplyWithoutChangingState() {
    assertEtcdError(() -> store.apply(set("/../etc", "v"), T0), EtcdError.INVALID_FIELD, "key: '..' climbs above the root");
    assertEtcdError(() -> store.apply(set("/a\u0000b", "v"), T0), EtcdError.INVALID_FIELD, "key: contains a control character");
    assertEtcdError(() -> store.apply(set("/" + "k".repeat(1024), "v"), T0), EtcdError.INVALID_FIELD, "key: longer than 1024 bytes");
    assertEtcdError(() -> store.apply(delete("/.."), T0), EtcdError.INVALID_FIELD, "key: '..' climbs above the root");
    assertThat(store.index()).isZero();
  }

  @Test
  void aFailedSetThroughAFileCreatesNoDirectories() throws StoreException {
    store.apply(set("/a/file", "v"), T0);
    assertEtcdError(() -> store.apply(set("/a/file/x/y", "v"), T0), EtcdError.NOT_A_FILE, "set: /a/file/x/y");
    assertThat(store.get("/a").children()).extracting(Event::key).containsExactly("/a/file");
  }

  // ---------------------------------------------------------------- reserved prefixes

  @Test
  void clientsCannotSetUnderReservedPrefixes() {
    assertEtcdError(() -> store.apply(set("/_etcd/machines/x", "v"), T0), EtcdError.KEYWORD, "Set");
    assertEtcdError(() -> store.apply(set("_etcd", "v"), T0), EtcdError.KEYWORD, "Set");
    assertEtcdError(() -> store.apply(set("/ephemeralNodes/a", "v"), T0), EtcdError.KEYWORD, "Set");
    assertEtcdError(() -> store.apply(testAndSet("/_etcd/x", "", "v"), T0), EtcdError.KEYWORD, "Set");
  }

  @Test
  void theReservedCheckComesBeforeTheValueCheck() {
    assertEtcdError(() -> store.apply(set("/_etcd/x", ""), T0), EtcdError.KEYWORD, "Set");
  }

  @Test
  void clientsCannotDeleteUnderReservedPrefixes() throws StoreException {
    store.apply(new SetOp("/_etcd/machines/node1", "raft", null, null, true), T0);
    assertEtcdError(() -> store.apply(delete("/_etcd/machines/node1"), T0), EtcdError.KEYWORD, "Delete");
    assertEtcdError(() -> store.apply(delete("/ephemeralNodes/missing"), T0), EtcdError.KEYWORD, "Delete");
    assertThat(store.get("/_etcd/machines/node1").node().value()).isEqualTo("raft");
  }

  @Test
  void keysThatOnlyStartLikeAReservedPrefixAreOrdinary() throws StoreException {
    assertThat(store.apply(set("/_etcdfoo", "v"), T0).newKey()).isTrue();
    assertThat(store.apply(set("/foo/_etcd", "v"), T0).newKey()).isTrue();
    assertThat(store.apply(delete("/_etcdfoo"), T0).action()).isEqualTo(Action.DELETE);
  }

  @Test
  void theNodeItselfMayWriteAndDeleteReservedKeysAndClientsMayReadThem() throws StoreException {
    Event e = store.apply(new SetOp("/_etcd/machines/node1", "raft=x", null, null, true), T0);
    assertThat(e.newKey()).isTrue();
    assertThat(store.get("/_etcd/machines").children()).extracting(Event::key).containsExactly("/_etcd/machines/node1");
    assertThat(store.apply(new DeleteOp("/_etcd/machines/node1", true), T0).prevValue()).isEqualTo("raft=x");
  }

  // ---------------------------------------------------------------- test-and-set

  @Test
  void testAndSetWithTheCurrentValueSets() throws StoreException {
    store.apply(set("/foo", "one"), T0);
    Event e = store.apply(testAndSet("/foo", "one", "two"), T0);
    assertThat(e).isEqualTo(new Event(Action.SET, "/foo", false, "one", "two", false, null, 2));
  }

  @Test
  void testAndSetWithAnotherValueFailsWithTheComparison() throws StoreException {
    store.apply(set("/foo", "one"), T0);
    assertEtcdError(() -> store.apply(testAndSet("/foo", "two", "three"), T0), EtcdError.TEST_FAILED,
        "TestAndSet: one!=two");
    assertThat(store.index()).isEqualTo(1);
    assertThat(store.get("/foo").node().value()).isEqualTo("one");
  }

  @Test
  void testAndSetWithEmptyPrevValueCreatesAMissingKey() throws StoreException {
    Event e = store.apply(testAndSet("/bar", "", "four"), T0);
    assertThat(e).isEqualTo(new Event(Action.SET, "/bar", false, null, "four", true, null, 1));
  }

  @Test
  void testAndSetWithEmptyPrevValueOnAnExistingKeyFails() throws StoreException {
    store.apply(testAndSet("/bar", "", "four"), T0);
    assertEtcdError(() -> store.apply(testAndSet("/bar", "", "five"), T0), EtcdError.TEST_FAILED,
        "TestAndSet: four!=");
  }

  @Test
  void testAndSetOnAMissingKeyWithAPrevValueIsKeyNotFound() {
    assertEtcdError(() -> store.apply(testAndSet("foo", "one", "two"), T0), EtcdError.KEY_NOT_FOUND,
        "TestAndSet: key not found and previousValue is not empty foo:one ");
    assertEtcdError(() -> store.apply(testAndSet("/a/b", "one", "two"), T0), EtcdError.KEY_NOT_FOUND,
        "TestAndSet: key not found and previousValue is not empty a/b:one ");
    assertThat(store.index()).isZero();
  }

  @Test
  void testAndSetOnADirectoryIsNotAFile() throws StoreException {
    store.apply(set("/dir/x", "v"), T0);
    assertEtcdError(() -> store.apply(testAndSet("/dir", "v", "w"), T0), EtcdError.NOT_A_FILE, "set: /dir");
    assertEtcdError(() -> store.apply(testAndSet("/dir", "", "w"), T0), EtcdError.NOT_A_FILE, "set: /dir");
  }

  @Test
  void createIfAbsentThroughAFileIsNotAFile() throws StoreException {
    store.apply(set("/file", "v"), T0);
    assertEtcdError(() -> store.apply(testAndSet("/file/x", "", "w"), T0), EtcdError.NOT_A_FILE, "set: /file/x");
    assertEtcdError(() -> store.apply(testAndSet("/file/x", "old", "w"), T0), EtcdError.KEY_NOT_FOUND,
        "TestAndSet: key not found and previousValue is not empty file/x:old ");
  }

  // ---------------------------------------------------------------- delete

  @Test
  void deleteReturnsThePreviousValue() throws StoreException {
    store.apply(set("/message", "Hello etcd"), T0);
    Event e = store.apply(delete("message"), T0);
    assertThat(e).isEqualTo(new Event(Action.DELETE, "/message", false, "Hello etcd", null, false, null, 2));
    assertEtcdError(() -> store.get("/message"), EtcdError.KEY_NOT_FOUND, "get: /message");
  }

  @Test
  void deletingAMissingKeyIsKeyNotFound() {
    assertEtcdError(() -> store.apply(delete("/foo"), T0), EtcdError.KEY_NOT_FOUND, "delete: /foo");
    assertThat(store.index()).isZero();
  }

  @Test
  void deletingADirectoryIsKeyNotFound() throws StoreException {
    store.apply(set("/dir/x", "v"), T0);
    assertEtcdError(() -> store.apply(delete("/dir"), T0), EtcdError.KEY_NOT_FOUND, "delete: /dir");
    assertEtcdError(() -> store.apply(delete("/"), T0), EtcdError.KEY_NOT_FOUND, "delete: /");
    assertThat(store.get("/dir/x").node().value()).isEqualTo("v");
  }

  @Test
  void aKeyCanBeRecreatedAfterDeleteAsNew() throws StoreException {
    store.apply(set("/k", "1"), T0);
    store.apply(delete("/k"), T0);
    assertThat(store.apply(set("/k", "2"), T0).newKey()).isTrue();
  }

  // ---------------------------------------------------------------- index

  @Test
  void everySuccessfulWriteTakesTheNextIndexAndFailuresTakeNone() throws StoreException {
    assertThat(store.apply(set("/a", "1"), T0).index()).isEqualTo(1);
    assertEtcdError(() -> store.apply(delete("/missing"), T0), EtcdError.KEY_NOT_FOUND, "delete: /missing");
    assertThat(store.apply(testAndSet("/a", "1", "2"), T0).index()).isEqualTo(2);
    assertEtcdError(() -> store.apply(testAndSet("/a", "1", "3"), T0), EtcdError.TEST_FAILED, "TestAndSet: 2!=1");
    assertEtcdError(() -> store.apply(set("/a/b", "x"), T0), EtcdError.NOT_A_FILE, "set: /a/b");
    assertThat(store.apply(delete("/a"), T0).index()).isEqualTo(3);
    assertThat(store.index()).isEqualTo(3);
  }

  @Test
  void readsDoNotAdvanceTheIndex() throws StoreException {
    store.apply(set("/a", "1"), T0);
    store.get("/a");
    store.get("/");
    assertThat(store.index()).isEqualTo(1);
  }
}
