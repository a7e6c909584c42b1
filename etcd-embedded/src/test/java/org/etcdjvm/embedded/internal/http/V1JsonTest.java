package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.junit.jupiter.api.Test;

/** Bodies from the etcd README, the seed guide and clients of the time (v1-api.md), byte for byte. */
class V1JsonTest {
  private static final ZoneOffset PDT = ZoneOffset.ofHours(-7);
  private static final ZoneOffset CEST = ZoneOffset.ofHours(2);
  /** The README's expiration, "2013-07-11T20:31:12.156146039-07:00". */
  private static final Instant README_EXP = Instant.parse("2013-07-12T03:31:12.156146039Z");
  private static final Instant NOW = README_EXP.minusMillis(4500);

  private static String json(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String event(Event e) {
    return json(V1Json.event(e, NOW, PDT));
  }

  private static String quoted(String s) {
    StringBuilder sb = new StringBuilder();
    V1Json.writeString(sb, s);
    return sb.toString();
  }

  // ---------------------------------------------------------------- README and seed bodies

  @Test
  void getOfAKey() {
    assertThat(event(new Event(Action.GET, "/message", false, null, "Hello world", false, null, 3)))
        .isEqualTo("{\"action\":\"GET\",\"key\":\"/message\",\"value\":\"Hello world\",\"index\":3}");
  }

  @Test
  void setOfANewKey() {
    assertThat(event(new Event(Action.SET, "/message", false, null, "Hello world", true, null, 3)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/message\",\"value\":\"Hello world\",\"newKey\":true,\"index\":3}");
  }

  @Test
  void setOfAnExistingKey() {
    assertThat(event(new Event(Action.SET, "/message", false, "Hello world", "Hello etcd", false, null, 4)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/message\",\"prevValue\":\"Hello world\",\"value\":\"Hello etcd\",\"index\":4}");
  }

  @Test
  void setWithTtlFromTheSeed() {
    assertThat(event(new Event(Action.SET, "/foo", false, null, "bar", true, README_EXP, 6)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/foo\",\"value\":\"bar\",\"newKey\":true,"
            + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"ttl\":4,\"index\":6}");
  }

  @Test
  void getOfATtlKey() {
    assertThat(json(V1Json.event(new Event(Action.GET, "/foo", false, null, "bar", false, README_EXP, 6),
        README_EXP.minusMillis(3200), PDT)))
        .isEqualTo("{\"action\":\"GET\",\"key\":\"/foo\",\"value\":\"bar\","
            + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"ttl\":3,\"index\":6}");
  }

  @Test
  void ttlIsOmittedWhenUnderOneSecondOrPast() {
    Event e = new Event(Action.GET, "/foo", false, null, "bar", false, README_EXP, 6);
    String noTtl = "{\"action\":\"GET\",\"key\":\"/foo\",\"value\":\"bar\","
        + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"index\":6}";
    assertThat(json(V1Json.event(e, README_EXP.minusMillis(999), PDT))).isEqualTo(noTtl);
    assertThat(json(V1Json.event(e, README_EXP, PDT))).isEqualTo(noTtl);
    assertThat(json(V1Json.event(e, README_EXP.plusSeconds(10), PDT))).isEqualTo(noTtl);
    assertThat(json(V1Json.event(e, README_EXP.minusSeconds(1), PDT))).contains("\"ttl\":1,");
  }

  @Test
  void directoryListing() {
    List<Event> listing = List.of(
        new Event(Action.GET, "/foo/foo", false, null, "barbar", false, null, 10),
        new Event(Action.GET, "/foo/foo_dir", true, null, null, false, null, 10));
    assertThat(json(V1Json.events(listing, NOW, PDT)))
        .isEqualTo("[{\"action\":\"GET\",\"key\":\"/foo/foo\",\"value\":\"barbar\",\"index\":10},"
            + "{\"action\":\"GET\",\"key\":\"/foo/foo_dir\",\"dir\":true,\"index\":10}]");
  }

  @Test
  void anEmptyListingIsAnEmptyArray() {
    assertThat(json(V1Json.events(List.of(), NOW, PDT))).isEqualTo("[]");
  }

  @Test
  void rootListingWithTheInternalDirectory() {
    assertThat(json(V1Json.events(List.of(new Event(Action.GET, "/_etcd", true, null, null, false, null, 2)), NOW, PDT)))
        .isEqualTo("[{\"action\":\"GET\",\"key\":\"/_etcd\",\"dir\":true,\"index\":2}]");
  }

  @Test
  void testAndSetSuccess() {
    assertThat(event(new Event(Action.SET, "/foo", false, "one", "two", false, null, 10)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/foo\",\"prevValue\":\"one\",\"value\":\"two\",\"index\":10}");
  }

  @Test
  void createIfAbsentSuccess() {
    assertThat(event(new Event(Action.SET, "/bar", false, null, "four", true, null, 11)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/bar\",\"value\":\"four\",\"newKey\":true,\"index\":11}");
  }

  @Test
  void delete() {
    assertThat(event(new Event(Action.DELETE, "/message", false, "Hello etcd", null, false, null, 5)))
        .isEqualTo("{\"action\":\"DELETE\",\"key\":\"/message\",\"prevValue\":\"Hello etcd\",\"index\":5}");
  }

  @Test
  void deleteOfATtlKeyHasExpirationButNoTtl() {
    Instant exp = Instant.parse("2013-09-13T23:06:35.5242587Z");
    assertThat(json(V1Json.event(new Event(Action.DELETE, "/testkey", false, "test", null, false, exp, 189),
        exp.minusSeconds(60), CEST)))
        .isEqualTo("{\"action\":\"DELETE\",\"key\":\"/testkey\",\"prevValue\":\"test\","
            + "\"expiration\":\"2013-09-14T01:06:35.5242587+02:00\",\"index\":189}");
  }

  @Test
  void expiryNotification() {
    assertThat(json(V1Json.event(new Event(Action.DELETE, "/foo", false, "bar", null, false, README_EXP, 6),
        README_EXP, PDT)))
        .isEqualTo("{\"action\":\"DELETE\",\"key\":\"/foo\",\"prevValue\":\"bar\","
            + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"index\":6}");
  }

  @Test
  void watchNotification() {
    assertThat(event(new Event(Action.SET, "/foo/foo", false, null, "barbar", true, null, 7)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/foo/foo\",\"value\":\"barbar\",\"newKey\":true,\"index\":7}");
  }

  // ---------------------------------------------------------------- errors

  @Test
  void errorBodiesEndWithANewline() {
    assertThat(json(V1Json.error(EtcdError.KEY_NOT_FOUND, "get: /foo")))
        .isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /foo\"}\n");
    assertThat(json(V1Json.error(EtcdError.KEY_NOT_FOUND, "/foo")))
        .isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"/foo\"}\n");
  }

  @Test
  void testAndSetErrors() {
    assertThat(json(V1Json.error(EtcdError.TEST_FAILED, "TestAndSet: one!=two")))
        .isEqualTo("{\"errorCode\":101,\"message\":\"The given PrevValue is not equal to the value of the key\","
            + "\"cause\":\"TestAndSet: one!=two\"}\n");
    assertThat(json(V1Json.error(EtcdError.TEST_FAILED, "TestAndSet: four!=")))
        .isEqualTo("{\"errorCode\":101,\"message\":\"The given PrevValue is not equal to the value of the key\","
            + "\"cause\":\"TestAndSet: four!=\"}\n");
    assertThat(json(V1Json.error(EtcdError.KEY_NOT_FOUND, "TestAndSet: key not found and previousValue is not empty foo:one ")))
        .isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\","
            + "\"cause\":\"TestAndSet: key not found and previousValue is not empty foo:one \"}\n");
  }

  @Test
  void formAndKeywordErrors() {
    assertThat(json(V1Json.error(EtcdError.NOT_A_FILE, "set: /foo/bar")))
        .isEqualTo("{\"errorCode\":102,\"message\":\"Not A File\",\"cause\":\"set: /foo/bar\"}\n");
    assertThat(json(V1Json.error(EtcdError.VALUE_REQUIRED, "Set")))
        .isEqualTo("{\"errorCode\":200,\"message\":\"Value is Required in POST form\",\"cause\":\"Set\"}\n");
    assertThat(json(V1Json.error(EtcdError.TTL_NAN, "Set")))
        .isEqualTo("{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a number\",\"cause\":\"Set\"}\n");
    assertThat(json(V1Json.error(EtcdError.INDEX_NAN, "Watch From Index")))
        .isEqualTo("{\"errorCode\":203,\"message\":\"The given index in POST form is not a number\","
            + "\"cause\":\"Watch From Index\"}\n");
    assertThat(json(V1Json.error(EtcdError.KEYWORD, "Set")))
        .isEqualTo("{\"errorCode\":400,\"message\":\"The prefix of the given key is a keyword in etcd\",\"cause\":\"Set\"}\n");
    assertThat(json(V1Json.error(EtcdError.EVENT_INDEX_CLEARED, "17")))
        .isEqualTo("{\"errorCode\":401,\"message\":\"The event in requested index is outdated and cleared\",\"cause\":\"17\"}\n");
  }

  @Test
  void aMissingOrEmptyCauseIsOmitted() {
    assertThat(json(V1Json.error(EtcdError.RAFT_INTERNAL, null)))
        .isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\"}\n");
    assertThat(json(V1Json.error(EtcdError.LEADER_ELECTION, "")))
        .isEqualTo("{\"errorCode\":301,\"message\":\"During Leader Election\"}\n");
    assertThat(json(V1Json.error(EtcdError.RAFT_INTERNAL, "too many watchers")))
        .isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"cause\":\"too many watchers\"}\n");
  }

  // ---------------------------------------------------------------- expiration format

  @Test
  void expirationTrimsTrailingZerosOfTheFraction() {
    assertThat(V1Json.expiration(README_EXP, PDT)).isEqualTo("2013-07-11T20:31:12.156146039-07:00");
    assertThat(V1Json.expiration(Instant.parse("2013-09-14T00:09:44.243909760Z"), CEST))
        .isEqualTo("2013-09-14T02:09:44.24390976+02:00");
    assertThat(V1Json.expiration(Instant.parse("2013-09-13T23:06:35.524258700Z"), CEST))
        .isEqualTo("2013-09-14T01:06:35.5242587+02:00");
    assertThat(V1Json.expiration(Instant.parse("2013-07-12T03:31:12.500Z"), PDT))
        .isEqualTo("2013-07-11T20:31:12.5-07:00");
    assertThat(V1Json.expiration(Instant.parse("2013-07-12T03:31:12.000000001Z"), PDT))
        .isEqualTo("2013-07-11T20:31:12.000000001-07:00");
  }

  @Test
  void aWholeSecondHasNoFraction() {
    assertThat(V1Json.expiration(Instant.parse("2013-07-12T03:31:12Z"), PDT)).isEqualTo("2013-07-11T20:31:12-07:00");
  }

  @Test
  void utcIsZ() {
    assertThat(V1Json.expiration(Instant.parse("2013-01-02T03:04:05.06Z"), ZoneOffset.UTC))
        .isEqualTo("2013-01-02T03:04:05.06Z");
    assertThat(V1Json.expiration(Instant.parse("2013-01-02T03:04:05Z"), ZoneId.of("UTC")))
        .isEqualTo("2013-01-02T03:04:05Z");
  }

  @Test
  void aRegionZoneUsesItsOffsetAtThatInstant() {
    ZoneId la = ZoneId.of("America/Los_Angeles");
    assertThat(V1Json.expiration(README_EXP, la)).isEqualTo("2013-07-11T20:31:12.156146039-07:00");
    assertThat(V1Json.expiration(Instant.parse("2013-12-01T12:00:00Z"), la)).isEqualTo("2013-12-01T04:00:00-08:00");
    assertThat(V1Json.expiration(Instant.parse("2013-12-01T12:00:00Z"), ZoneId.of("Asia/Kolkata")))
        .isEqualTo("2013-12-01T17:30:00+05:30");
  }

  @Test
  void thePermanentTimeOfEtcdsLogFormatsLikeGo() {
    assertThat(V1Json.expiration(Instant.EPOCH, PDT)).isEqualTo("1969-12-31T17:00:00-07:00");
  }

  // ---------------------------------------------------------------- string escaping

  @Test
  void htmlCharactersAreEscaped() {
    assertThat(quoted("<a href=\"x\">&amp;</a>"))
        .isEqualTo("\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"");
  }

  @Test
  void quoteBackslashAndCommonControlsUseShortEscapes() {
    assertThat(quoted("a\"b\\c\nd\re\tf")).isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\"");
  }

  @Test
  void otherControlCharactersUseHexEscapes() {
    assertThat(quoted("\u0000\u0001\u0008\u000b\u000c\u001f ")).isEqualTo("\"\\u0000\\u0001\\u0008\\u000b\\u000c\\u001f \"");
  }

  @Test
  void delAndNonAsciiAreCopiedAsIs() {
    assertThat(quoted("\u007f caf\u00e9 \u65e5\u672c \uD83D\uDE00 /")).isEqualTo("\"\u007f caf\u00e9 \u65e5\u672c \uD83D\uDE00 /\"");
    assertThat(V1Json.event(new Event(Action.GET, "/\u00e9", false, null, "\uD83D\uDE00", false, null, 1), NOW, PDT))
        .isEqualTo("{\"action\":\"GET\",\"key\":\"/\u00e9\",\"value\":\"\uD83D\uDE00\",\"index\":1}"
            .getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void lineAndParagraphSeparatorsAreEscaped() {
    assertThat(quoted("a\u2028b\u2029c\u2027\u202a")).isEqualTo("\"a\\u2028b\\u2029c\u2027\u202a\"");
  }

  @Test
  void loneSurrogatesBecomeTheReplacementEscape() {
    assertThat(quoted("a\uD800b")).isEqualTo("\"a\\ufffdb\"");
    assertThat(quoted("\uDC00")).isEqualTo("\"\\ufffd\"");
    assertThat(quoted("x\uD83D")).isEqualTo("\"x\\ufffd\"");
    assertThat(quoted("\uDE00\uD83D")).isEqualTo("\"\\ufffd\\ufffd\"");
    assertThat(quoted("\uD83D\uD83D\uDE00")).isEqualTo("\"\\ufffd\uD83D\uDE00\"");
  }

  @Test
  void emptyStringAndPlainTextAreQuoted() {
    assertThat(quoted("")).isEqualTo("\"\"");
    assertThat(quoted("Hello world")).isEqualTo("\"Hello world\"");
  }

  @Test
  void escapingAppliesToKeysValuesAndPrevValues() {
    assertThat(event(new Event(Action.SET, "/a<b", false, "x&y", "1>0\n", false, null, 2)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/a\\u003cb\",\"prevValue\":\"x\\u0026y\",\"value\":\"1\\u003e0\\n\",\"index\":2}");
  }

  // ---------------------------------------------------------------- with the store

  @Test
  void theReadmeSessionRendersByteForByte() throws StoreException {
    EtcdStore store = new EtcdStore(StoreLimits.defaults(), java.time.Clock.fixed(NOW, java.time.ZoneOffset.UTC));
    store.apply(new SetOp("/_etcd/machines/node1", "raft=http://127.0.0.1:7001", null, null, true), NOW);
    store.apply(new SetOp("/_etcd/machines/node2", "raft=http://127.0.0.1:7002", null, null, true), NOW);
    assertThat(event(store.apply(new SetOp("message", "Hello world", null, null, false), NOW)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/message\",\"value\":\"Hello world\",\"newKey\":true,\"index\":3}");
    assertThat(event(store.get("/message").node()))
        .isEqualTo("{\"action\":\"GET\",\"key\":\"/message\",\"value\":\"Hello world\",\"index\":3}");
    assertThat(event(store.apply(new SetOp("message", "Hello etcd", null, null, false), NOW)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/message\",\"prevValue\":\"Hello world\",\"value\":\"Hello etcd\",\"index\":4}");
    assertThat(event(store.apply(new org.etcdjvm.embedded.internal.store.DeleteOp("message", false), NOW)))
        .isEqualTo("{\"action\":\"DELETE\",\"key\":\"/message\",\"prevValue\":\"Hello etcd\",\"index\":5}");
    assertThat(event(store.apply(new SetOp("foo", "bar", null, README_EXP, false), NOW)))
        .isEqualTo("{\"action\":\"SET\",\"key\":\"/foo\",\"value\":\"bar\",\"newKey\":true,"
            + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"ttl\":4,\"index\":6}");
    assertThat(json(V1Json.events(store.get("/").children(), NOW, PDT)))
        .isEqualTo("[{\"action\":\"GET\",\"key\":\"/_etcd\",\"dir\":true,\"index\":6},"
            + "{\"action\":\"GET\",\"key\":\"/foo\",\"value\":\"bar\","
            + "\"expiration\":\"2013-07-11T20:31:12.156146039-07:00\",\"ttl\":4,\"index\":6}]");
    try {
      store.get("/missing");
    } catch (StoreException e) {
      assertThat(json(V1Json.error(e.error(), e.cause())))
          .isEqualTo("{\"errorCode\":100,\"message\":\"Key Not Found\",\"cause\":\"get: /missing\"}\n");
      return;
    }
    throw new AssertionError("expected key not found");
  }
}
