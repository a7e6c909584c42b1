package org.etcdjvm.embedded.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class KeyPathTest {
  private static final int MAX = 1024;

  @ParameterizedTest(name = "clean({0}) = {1}")
  @CsvSource({
    "foo, /foo",
    "/foo, /foo",
    "foo/, /foo",
    "foo//, /foo",
    "//foo///bar//, /foo/bar",
    "/a/./b/../c, /a/c",
    "a/b/.., /a",
    "a/.., /",
    "./, /",
    "'', /",
    "/, /",
    "///, /",
    "/foo/.bar, /foo/.bar",
    "/foo/..bar, /foo/..bar",
    "/foo/bar., /foo/bar.",
    "/_etcd/machines/node1, /_etcd/machines/node1",
    "message, /message",
  })
  void cleanFollowsGoPathClean(String raw, String expected) throws StoreException {
    assertThat(KeyPath.clean(raw, MAX)).isEqualTo(expected);
  }

  @Test
  void cleanKeepsUnicode() throws StoreException {
    assertThat(KeyPath.clean("caf\u00e9/\u65e5\u672c/\uD83D\uDE00", MAX)).isEqualTo("/caf\u00e9/\u65e5\u672c/\uD83D\uDE00");
  }

  @ParameterizedTest
  @ValueSource(strings = {"..", "/..", "../foo", "/a/../..", "a/b/../../../c", "/./.."})
  void dotDotAboveTheRootIsInvalid(String raw) {
    assertThatThrownBy(() -> KeyPath.clean(raw, MAX))
        .isInstanceOfSatisfying(StoreException.class, e -> {
          assertThat(e.error()).isEqualTo(EtcdError.INVALID_FIELD);
          assertThat(e.cause()).startsWith("key: ").contains("above the root");
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\u0000b", "a\nb", "\tfoo", "foo\u007f", "foo\u0085", "/foo/\u001b"})
  void controlCharactersAreInvalid(String raw) {
    assertThatThrownBy(() -> KeyPath.clean(raw, MAX))
        .isInstanceOfSatisfying(StoreException.class, e -> {
          assertThat(e.error()).isEqualTo(EtcdError.INVALID_FIELD);
          assertThat(e.cause()).isEqualTo("key: contains a control character");
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\uD800b", "a\uDC00", "\uD83D"})
  void loneSurrogatesAreNotUtf8(String raw) {
    assertThatThrownBy(() -> KeyPath.clean(raw, MAX))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.cause()).isEqualTo("key: not valid UTF-8"));
  }

  @Test
  void aKeyOfExactlyMaxBytesIsAccepted() throws StoreException {
    String key = "/" + "a".repeat(1023);
    assertThat(KeyPath.clean(key, MAX)).isEqualTo(key);
  }

  @Test
  void a1025ByteKeyIsRejected() {
    assertThatThrownBy(() -> KeyPath.clean("/" + "a".repeat(1024), MAX))
        .isInstanceOfSatisfying(StoreException.class, e -> {
          assertThat(e.error()).isEqualTo(EtcdError.INVALID_FIELD);
          assertThat(e.cause()).isEqualTo("key: longer than 1024 bytes");
        });
  }

  @Test
  void keyLengthIsCountedInUtf8BytesOfTheCleanKey() throws StoreException {
    String threeBytes = "\u65e5"; // 3 UTF-8 bytes
    assertThat(KeyPath.clean("/" + threeBytes.repeat(341), MAX)).hasSize(342); // 1 + 1023 bytes
    assertThatThrownBy(() -> KeyPath.clean("/" + threeBytes.repeat(341) + "a", MAX)).isInstanceOf(StoreException.class);
    // slashes that cleaning removes do not count
    assertThat(KeyPath.clean("//" + "a".repeat(1023) + "//", MAX)).hasSize(1024);
  }

  @ParameterizedTest
  @CsvSource({
    "/_etcd, true",
    "/_etcd/machines/node1, true",
    "/ephemeralNodes, true",
    "/ephemeralNodes/x, true",
    "/_etcdfoo, false",
    "/ephemeralNodesX/y, false",
    "/foo/_etcd, false",
    "/, false",
    "/_etc, false",
  })
  void reservedIsAnExactFirstSegment(String key, boolean reserved) {
    assertThat(KeyPath.isReserved(key)).isEqualTo(reserved);
  }

  @ParameterizedTest
  @CsvSource({
    "/foo, /foo, true",
    "/foo, /foo/bar, true",
    "/foo, /foo/bar/baz, true",
    "/foo, /foobar, false",
    "/foo, /fo, false",
    "/foo/bar, /foo, false",
    "/, /anything, true",
    "/, /a/b/c, true",
    "/, /, true",
  })
  void coversBySegment(String prefix, String key, boolean covered) {
    assertThat(KeyPath.covers(prefix, key)).isEqualTo(covered);
  }
}
