package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every malformed request against one real node gets a clear answer — the etcd error JSON with the
 * right code and status, or 404/405/413/414 where HTTP says so — never a stack trace, never a 500
 * for a client mistake, and never a changed store: the whole tree and the index are read over HTTP
 * before and after each rejected request.
 *
 * <p>The node keeps only 5 events of history and allows 2 watchers, so the 401 and 503 paths are
 * cheap to reach; no other test here leaves a watcher behind.
 */
class BadInputTest {
  private static final int MiB = 1024 * 1024;
  private static final String NOT_FOUND = "Key Not Found";
  private static final String NOT_A_FILE = "Not A File";
  private static final String VALUE_REQUIRED = "Value is Required in POST form";
  private static final String TTL_NAN = "The given TTL in POST form is not a number";
  private static final String INDEX_NAN = "The given index in POST form is not a number";
  private static final String INVALID = "Invalid field";
  private static final String KEYWORD = "The prefix of the given key is a keyword in etcd";
  private static final String CLEARED = "The event in requested index is outdated and cleared";
  private static final String FORM = "application/x-www-form-urlencoded";

  @TempDir static Path dir;
  static EtcdNode node;
  static V1Http curl;
  static String url;

  @BeforeAll
  static void start() throws Exception {
    node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0")
        .historySize(5).maxWatchers(2).build();
    node.start().get(30, TimeUnit.SECONDS);
    url = node.clientUrl();
    curl = new V1Http(url);
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
      node = null; // a closed node still holds Atomix's log buffers; later classes share this JVM
    }
    curl = null;
  }

  // ---------------------------------------------------------------- keys

  @Test
  void theRootIsNotAFile() {
    expectError(() -> Reply.of(curl.post("/v1/keys/", "value=x")), 400, 102, NOT_A_FILE, "set: /");
    expectError(() -> Reply.of(curl.post("/v1/keys", "value=x")), 400, 102, NOT_A_FILE, "set: /");
    expectError(() -> raw(post("/v1/keys//", FORM, "value=x")), 400, 102, NOT_A_FILE, "set: /");
    expectError(() -> raw(post("/v1/keys/./", FORM, "value=x")), 400, 102, NOT_A_FILE, "set: /");
    expectError(() -> raw(post("/v1/keys/a/..", FORM, "value=x")), 400, 102, NOT_A_FILE, "set: /");
    expectError(() -> Reply.of(curl.delete("/v1/keys/")), 400, 100, NOT_FOUND, "delete: /");
  }

  @Test
  void aKeyOfExactly1024BytesIsAcceptedAndOneOf1025IsError209() {
    String max = "/len" + "k".repeat(1024 - 4);          // the clean key, leading slash included
    assertThat(max.length()).isEqualTo(1024);
    HttpResponse<String> ok = curl.post("/v1/keys" + max, "value=v");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).contains("\"key\":\"" + max + "\"");
    assertThat(curl.get("/v1/keys" + max).body()).contains("\"value\":\"v\"");

    String tooLong = max + "k";
    String cause = "key: longer than 1024 bytes";
    expectError(() -> Reply.of(curl.post("/v1/keys" + tooLong, "value=v")), 400, 209, INVALID, cause);
    expectError(() -> Reply.of(curl.get("/v1/keys" + tooLong)), 400, 209, INVALID, cause);
    expectError(() -> Reply.of(curl.delete("/v1/keys" + tooLong)), 400, 209, INVALID, cause);
    expectError(() -> Reply.of(curl.get("/v1/watch" + tooLong)), 400, 209, INVALID, cause);
    // The limit counts UTF-8 bytes, not chars: 1 + 2 × 512 = 1025 bytes in 513 chars.
    String wide = "/" + "é".repeat(512);
    expectError(() -> Reply.of(curl.post("/v1/keys" + encodePath(wide), "value=v")), 400, 209, INVALID, cause);
    String wideMax = "/" + "é".repeat(511) + "k";
    HttpResponse<String> wideOk = curl.post("/v1/keys" + encodePath(wideMax), "value=v");
    assertThat(wideOk.statusCode()).isEqualTo(200);
    assertThat(wideOk.body()).contains("\"key\":\"" + wideMax + "\"");
  }

  @Test
  void aHundredKilobyteKeyIsAClearErrorNotAHang() {
    String huge = "/" + "h".repeat(100 * 1024);
    Reply viaJdk = unchanged(() -> Reply.of(curl.post("/v1/keys" + huge, "value=v")));
    assertThat(viaJdk.status()).isEqualTo(414);
    assertThat(viaJdk.body()).isEqualTo(error(209, INVALID, "request line is longer than 65536 bytes"));
    Reply viaSocket = unchanged(() -> raw(post("/v1/keys" + huge, FORM, "value=v")));
    assertThat(viaSocket.status()).isEqualTo(414);
    // Within the request-line limit but far over the key limit: the store's own 209.
    String big = "/" + "h".repeat(60 * 1024);
    expectError(() -> Reply.of(curl.post("/v1/keys" + big, "value=v")), 400, 209, INVALID, "key: longer than 1024 bytes");
  }

  @Test
  void dotDotIsResolvedAndMayNotClimbAboveTheRoot() {
    Reply set = raw(post("/v1/keys/dd/x/../y", FORM, "value=1"));
    assertThat(set.status()).isEqualTo(200);
    assertThat(set.body()).startsWith("{\"action\":\"SET\",\"key\":\"/dd/y\",\"value\":\"1\",\"newKey\":true,");
    assertThat(raw(get("/v1/keys/dd/./x/../y")).body()).contains("\"key\":\"/dd/y\",\"value\":\"1\"");
    assertThat(curl.get("/v1/keys/dd").body()).doesNotContain("/dd/x");

    String cause = "key: '..' climbs above the root";
    expectError(() -> raw(post("/v1/keys/../x", FORM, "value=1")), 400, 209, INVALID, cause);
    expectError(() -> raw(post("/v1/keys/dd/../../x", FORM, "value=1")), 400, 209, INVALID, cause);
    expectError(() -> raw(post("/v1/keys/%2E%2E/x", FORM, "value=1")), 400, 209, INVALID, cause);
    expectError(() -> raw(post("/v1/keys/..%2Fx", FORM, "value=1")), 400, 209, INVALID, cause);
    expectError(() -> raw(get("/v1/keys/..")), 400, 209, INVALID, cause);
    expectError(() -> raw(request("DELETE", "/v1/keys/../dd/y")), 400, 209, INVALID, cause);
    expectError(() -> raw(get("/v1/watch/../dd")), 400, 209, INVALID, cause);
  }

  @Test
  void aPercentEncodedSlashIsAPathSeparator() {
    HttpResponse<String> set = curl.post("/v1/keys/pct%2Fb", "value=v");
    assertThat(set.statusCode()).isEqualTo(200);
    assertThat(set.body()).startsWith("{\"action\":\"SET\",\"key\":\"/pct/b\",\"value\":\"v\",\"newKey\":true,");
    long index = V1Http.index(set.body());
    assertThat(curl.get("/v1/keys/pct/b").body())
        .isEqualTo("{\"action\":\"GET\",\"key\":\"/pct/b\",\"value\":\"v\",\"index\":" + index + "}");
    assertThat(curl.get("/v1/keys/pct").body())
        .isEqualTo("[{\"action\":\"GET\",\"key\":\"/pct/b\",\"value\":\"v\",\"index\":" + index + "}]");
    // ... so "pct" is now a directory, and the encoded form cannot sneak a value onto it.
    expectError(() -> Reply.of(curl.post("/v1/keys/pct%2F", "value=v")), 400, 102, NOT_A_FILE, "set: /pct");
  }

  @Test
  void keysThatAreNotUtf8OrHoldControlCharsAreError209() {
    String notUtf8 = "key: not valid percent-encoded UTF-8";
    expectError(() -> raw(post("/v1/keys/bad%FF", FORM, "value=x")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(post("/v1/keys/bad%C0%AF", FORM, "value=x")), 400, 209, INVALID, notUtf8); // overlong '/'
    expectError(() -> raw(post("/v1/keys/bad%ED%A0%80", FORM, "value=x")), 400, 209, INVALID, notUtf8); // surrogate
    expectError(() -> raw(post("/v1/keys/bad%F", FORM, "value=x")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(post("/v1/keys/bad%zz", FORM, "value=x")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(get("/v1/keys/bad%FF")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(request("DELETE", "/v1/keys/bad%FF")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(get("/v1/watch/bad%FF")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(post("/v1/keys/bad%00", FORM, "value=x")), 400, 209, INVALID,
        "key: contains a control character");
    // A raw 0xFF byte on the request line (no escape): still a JSON error, whatever the layer.
    Reply rawByte = unchanged(() -> raw(post("/v1/keys/bad\u00ff", FORM, "value=x")));
    assertThat(rawByte.status()).isEqualTo(400);
    assertThat(Json.object(rawByte.body()).get("errorCode")).isEqualTo(209L);
  }

  @Test
  void valuesThatAreNotUtf8AreError209() {
    assertThat(curl.post("/v1/keys/utf", "value=ok").statusCode()).isEqualTo(200);
    String notUtf8 = "value: not valid percent-encoded UTF-8";
    expectError(() -> raw(post("/v1/keys/utf", FORM, "value=%FF")), 400, 209, INVALID, notUtf8);
    expectError(() -> raw(post("/v1/keys/utf", FORM, "value=a\u00ffb")), 400, 209, INVALID, notUtf8); // raw byte
    expectError(() -> raw(post("/v1/keys/utf", FORM, "value=%C3")), 400, 209, INVALID, notUtf8);     // truncated
    expectError(() -> raw(post("/v1/keys/utf?value=%FF", FORM, "")), 400, 209, INVALID, notUtf8);   // query
    expectError(() -> raw(post("/v1/keys/utf", FORM, "prevValue=%FF&value=x")), 400, 209, INVALID,
        "prevValue: not valid percent-encoded UTF-8");
    // Raw UTF-8 bytes in the body are fine.
    Reply ok = raw(post("/v1/keys/utf", FORM, latin1("value=é€😀")));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(curl.get("/v1/keys/utf").body()).contains("\"value\":\"é€😀\"");
  }

  // ---------------------------------------------------------------- sizes

  @Test
  void aBodyOver2MiBGets413WithTheEtcdJson() throws Exception {
    String cause = "request body is larger than 2097152 bytes";
    byte[] threeMiB = formOfSize(3 * MiB);
    expectError(() -> Reply.of(curl.postBody("/v1/keys/big", FORM, threeMiB)), 413, 209, INVALID, cause);
    byte[] justOver = formOfSize(2 * MiB + 1);
    expectError(() -> Reply.of(curl.postBody("/v1/keys/big", FORM, justOver)), 413, 209, INVALID, cause);
    // Chunked (no Content-Length): the limit applies as the body grows.
    expectError(() -> Reply.of(curl.send(HttpRequest.newBuilder(URI.create(url + "/v1/keys/big"))
        .header("Content-Type", FORM)
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(justOver))))),
        413, 209, INVALID, cause);
    // Exactly 2 MiB passes the HTTP layer; its 2 MiB value then fails the store's value limit.
    expectError(() -> Reply.of(curl.postBody("/v1/keys/big", FORM, formOfSize(2 * MiB))), 400, 209, INVALID,
        "value: larger than 1048576 bytes");
    // The connection survives a 413: the same socket serves the next request.
    try (RawHttp c = new RawHttp(url)) {
      c.send(post("/v1/keys/big", FORM, new String(justOver, StandardCharsets.ISO_8859_1)));
      assertThat(c.read().status()).isEqualTo(413);
      c.send(get("/version"));
      assertThat(c.read().body()).isEqualTo("etcd v0.1.2");
    }
  }

  @Test
  void anOversizedExpectContinueRequestGets413AndDoesNotWedgeTheConnection() {
    State before = state();
    try (RawHttp c = new RawHttp(url)) {
      c.send("POST /v1/keys/big HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nExpect: 100-continue\r\n"
          + "Content-Length: " + 3 * MiB + "\r\n\r\n");
      RawHttp.Response r = c.read();
      assertThat(r.status()).isEqualTo(413);
      assertThat(r.body()).isEqualTo(error(209, INVALID, "request body is larger than 2097152 bytes"));
      // The client took the 413 and never sends the body. Its next request must be answered, or
      // the connection closed; it must not be swallowed as the body of the rejected one.
      c.send(get("/version"));
      RawHttp.Response next = null;
      try {
        next = c.tryRead(3_000);
      } catch (java.io.UncheckedIOException closed) {
        // closed by the server: fine
      }
      if (next != null) {
        assertThat(next.body()).isEqualTo("etcd v0.1.2");
      } else {
        assertThat(c.closedByServer()).as("neither answered nor closed").isTrue();
      }
    }
    assertThat(state()).isEqualTo(before);
  }

  @Test
  void aValueOfExactly1MiBIsAcceptedAndOneByteMoreIsError209() {
    String max = "v".repeat(MiB);
    HttpResponse<String> ok = curl.post("/v1/keys/mib", "value=" + max);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(Json.object(curl.get("/v1/keys/mib").body()).get("value")).isEqualTo(max);
    String cause = "value: larger than 1048576 bytes";
    expectError(() -> Reply.of(curl.post("/v1/keys/mib", "value=" + max + "v")), 400, 209, INVALID, cause);
    // Bytes, not chars: 524 288 two-byte chars are exactly 1 MiB; one more is over.
    String wide = "é".repeat(MiB / 2);
    assertThat(raw(post("/v1/keys/mib", FORM, latin1("value=" + wide))).status()).isEqualTo(200);
    expectError(() -> raw(post("/v1/keys/mib", FORM, latin1("value=" + wide + "é"))), 400, 209, INVALID, cause);
    assertThat(curl.delete("/v1/keys/mib").statusCode()).isEqualTo(200); // keep the tree small for state()
  }

  @Test
  void aPrevValueLargerThanTheValueLimitIsError209() {
    String max = "v".repeat(MiB);
    assertThat(curl.post("/v1/keys/cas", "value=" + max).statusCode()).isEqualTo(200);
    // a prevValue at the limit is compared as usual
    HttpResponse<String> swapped = curl.post("/v1/keys/cas", "value=small", "prevValue=" + max);
    assertThat(swapped.statusCode()).as(swapped.body()).isEqualTo(200);
    expectError(() -> Reply.of(curl.post("/v1/keys/cas", "value=x", "prevValue=" + max + "v")), 400, 209, INVALID,
        "prevValue: larger than 1048576 bytes");
    assertThat(Json.object(curl.get("/v1/keys/cas").body()).get("value")).isEqualTo("small");
    assertThat(curl.delete("/v1/keys/cas").statusCode()).isEqualTo(200); // keep the tree small for state()
  }

  // ---------------------------------------------------------------- form fields

  @Test
  void aBodyThatIsNotAFormIsIgnoredSoTheValueIsMissing() {
    expectError(() -> Reply.of(curl.postBody("/v1/keys/nf", "application/json", "{\"value\":\"x\"}".getBytes())),
        400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.postBody("/v1/keys/nf", null, "value=x".getBytes())), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.postBody("/v1/keys/nf", "text/plain", "value=x".getBytes())),
        400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.postBody("/v1/keys/nf", "multipart/form-data; boundary=b",
        "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nx\r\n--b--\r\n".getBytes())),
        400, 200, VALUE_REQUIRED, "Set");
  }

  @Test
  void aFormWithMoreThan1000FieldsIsError209AndNothingIsWritten() {
    String cause = "form: more than 1000 fields";
    String fields = "a&".repeat(1000);
    expectError(() -> Reply.of(curl.postEncoded("/v1/keys/ff", "value=x&" + fields)), 400, 209, INVALID, cause);
    expectError(() -> Reply.of(curl.postEncoded("/v1/keys/ff?" + fields, "value=x")), 400, 209, INVALID, cause);
    expectError(() -> Reply.of(curl.postEncoded("/v1/watch/ff", "index=1&" + fields)), 400, 209, INVALID, cause);
    // 2 MiB of empty-named pairs: answered at once, not after a quadratic parse.
    byte[] flood = "a&".repeat(MiB).getBytes(StandardCharsets.US_ASCII);
    expectError(() -> Reply.of(curl.postBody("/v1/keys/ff", FORM, flood)), 400, 209, INVALID, cause);
    // At the limit the form is read as usual.
    HttpResponse<String> ok = curl.postEncoded("/v1/keys/ff", "value=x&" + "a&".repeat(999));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(curl.delete("/v1/keys/ff").statusCode()).isEqualTo(200);
  }

  @Test
  void aMissingOrEmptyValueIsError200() {
    expectError(() -> Reply.of(curl.post("/v1/keys/mv")), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.post("/v1/keys/mv", "value=")), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.post("/v1/keys/mv", "ttl=5")), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.postEncoded("/v1/keys/mv", "value")), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.postEncoded("/v1/keys/mv", "Value=x&values=y")), 400, 200, VALUE_REQUIRED, "Set");
    expectError(() -> Reply.of(curl.method("PUT", "/v1/keys/mv")), 400, 200, VALUE_REQUIRED, "Set");
  }

  @Test
  void aTtlThatIsNotAPositiveIntegerIsError202() {
    for (String ttl : new String[] {"abc", "-1", "0", "1.5", " 5", "5 ", "5s", "0x10", "-0", "+",
        "99999999999999999999", "%FF"}) {
      String body = "value=x&ttl=" + (ttl.equals("%FF") ? ttl : URLEncoder.encode(ttl, StandardCharsets.UTF_8));
      expectError(() -> Reply.of(curl.postEncoded("/v1/keys/ttl", body)), 400, 202, TTL_NAN, "Set");
    }
    HttpResponse<String> noTtl = curl.post("/v1/keys/ttl", "value=x", "ttl=");
    assertThat(noTtl.statusCode()).isEqualTo(200);
    assertThat(noTtl.body()).isEqualTo(
        "{\"action\":\"SET\",\"key\":\"/ttl\",\"value\":\"x\",\"newKey\":true,\"index\":" + V1Http.index(noTtl.body()) + "}");
    assertThat(curl.get("/v1/keys/ttl").body()).doesNotContain("expiration");
  }

  @Test
  void aWatchPostWithABadOrMissingIndexIsError203() {
    for (String body : new String[] {"index=x", "", "index=", "index=-1", "index=1.0", "index=%20",
        "index=99999999999999999999999", "value=3"}) {
      expectError(() -> Reply.of(curl.postEncoded("/v1/watch/w", body)), 400, 203, INDEX_NAN, "Watch From Index");
    }
  }

  @Test
  void aWatchFromAnIndexOlderThanTheHistoryIsError401NamingTheOldestIndex() {
    List<String> sets = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      HttpResponse<String> r = curl.post("/v1/keys/hist/k", "value=" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      sets.add(r.body());
    }
    long last = V1Http.index(sets.get(6));
    long oldest = last - 4;   // history keeps 5 events: these are the last five sets
    assertThat(V1Http.index(sets.get(2))).isEqualTo(oldest);
    for (long from : new long[] {1, oldest - 2, oldest - 1}) {
      expectError(() -> Reply.of(curl.post("/v1/watch/hist", "index=" + from)), 400, 401, CLEARED,
          Long.toString(oldest));
    }
    // The oldest retained event is still replayed, at once.
    HttpResponse<String> replay = curl.post("/v1/watch/hist", "index=" + oldest);
    assertThat(replay.statusCode()).isEqualTo(200);
    assertThat(replay.body()).isEqualTo(sets.get(2));
  }

  // ---------------------------------------------------------------- semantics

  @Test
  void reservedPrefixesAreReadOnlyForSetAndDelete() {
    for (String key : new String[] {"/_etcd/x", "/_etcd", "/_etcd/machines/default", "/ephemeralNodes",
        "/ephemeralNodes/x/y", "/x/../_etcd/y"}) {
      expectError(() -> raw(post("/v1/keys" + key, FORM, "value=x")), 400, 400, KEYWORD, "Set");
      expectError(() -> raw(request("PUT", "/v1/keys" + key, FORM, "value=x")), 400, 400, KEYWORD, "Set");
      expectError(() -> raw(request("DELETE", "/v1/keys" + key)), 400, 400, KEYWORD, "Delete");
    }
    assertThat(curl.get("/v1/keys/_etcd/machines/default").statusCode()).isEqualTo(200);
    // The check is by whole segment: a key merely starting with the same letters is fine.
    assertThat(curl.post("/v1/keys/_etcdfoo", "value=x").statusCode()).isEqualTo(200);
    assertThat(curl.delete("/v1/keys/_etcdfoo").statusCode()).isEqualTo(200);
  }

  @Test
  void filesAndDirectoriesDoNotTurnIntoEachOther() {
    assertThat(curl.post("/v1/keys/file", "value=1").statusCode()).isEqualTo(200);
    assertThat(curl.post("/v1/keys/tree/leaf", "value=1").statusCode()).isEqualTo(200);
    expectError(() -> Reply.of(curl.post("/v1/keys/file/sub", "value=2")), 400, 102, NOT_A_FILE, "set: /file/sub");
    expectError(() -> Reply.of(curl.post("/v1/keys/file/a/b", "value=2")), 400, 102, NOT_A_FILE, "set: /file/a/b");
    expectError(() -> Reply.of(curl.post("/v1/keys/tree", "value=2")), 400, 102, NOT_A_FILE, "set: /tree");
    expectError(() -> Reply.of(curl.post("/v1/keys/tree", "value=2", "prevValue=")), 400, 102, NOT_A_FILE, "set: /tree");
    expectError(() -> Reply.of(curl.post("/v1/keys/tree", "value=2", "ttl=5")), 400, 102, NOT_A_FILE, "set: /tree");
    expectError(() -> Reply.of(curl.delete("/v1/keys/tree")), 400, 100, NOT_FOUND, "delete: /tree");
    expectError(() -> Reply.of(curl.delete("/v1/keys/file/sub")), 400, 100, NOT_FOUND, "delete: /file/sub");
    expectError(() -> Reply.of(curl.get("/v1/keys/file/sub")), 400, 100, NOT_FOUND, "get: /file/sub");
  }

  @Test
  void otherMethodsAre405AndUnknownPaths404() {
    for (String method : new String[] {"PATCH", "OPTIONS", "TRACE", "FOO"}) {
      Reply r = unchanged(() -> raw(request(method, "/v1/keys/m")));
      assertThat(r.status()).as(method).isEqualTo(405);
      assertThat(r.header("allow")).isEqualTo("GET, POST, PUT, DELETE");
      assertThat(r.body()).isEmpty();
    }
    Reply patch = unchanged(() -> Reply.of(curl.method("PATCH", "/v1/keys")));
    assertThat(patch.status()).isEqualTo(405);
    Reply watchPut = unchanged(() -> raw(request("PUT", "/v1/watch/m", FORM, "index=1")));
    assertThat(watchPut.status()).isEqualTo(405);
    assertThat(watchPut.header("allow")).isEqualTo("GET, POST");

    // HEAD, with and without a body: 405, no body, and the connection stays in step.
    try (RawHttp c = new RawHttp(url)) {
      c.send("HEAD /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n"
          + "HEAD /v1/keys/m HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nvalue=hello"
          + "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
      for (int i = 0; i < 2; i++) {
        RawHttp.Response head = c.read(true);
        assertThat(head.status()).isEqualTo(405);
        assertThat(head.header("content-length")).isEqualTo("0");
        assertThat(head.header("allow")).isEqualTo("GET, POST, PUT, DELETE");
      }
      assertThat(c.read().body()).isEqualTo("etcd v0.1.2");
    }

    assertThat(unchanged(() -> raw(post("/", FORM, "value=x"))).body()).as("/ is the version, as in etcd 0.1.0")
        .isEqualTo("etcd v0.1.2");
    for (String path : new String[] {"/x", "/v2/keys/foo", "/v1/keysfoo", "/v1/key/foo", "/v1", "/V1/keys/foo"}) {
      Reply r = unchanged(() -> raw(post(path, FORM, "value=x")));
      assertThat(r.status()).as(path).isEqualTo(404);
      assertThat(r.body()).isEqualTo("404 page not found\n");
    }
  }

  @Test
  void requestsThatAreNotHttpGet400WithTheJsonAndAClosedConnection() {
    for (String garbage : new String[] {
        "HELLO\r\n\r\n",
        "POST /v1/keys/mal HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        "POST /v1/keys/mal HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nvalue=x",
        "POST /v1/keys/mal HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\nvalue=x",
        "POST /v1/keys/mal HTTP/1.1\r\nHost: x\r\nContent-Length: -7\r\n\r\nvalue=x"}) {
      State before = state();
      try (RawHttp c = new RawHttp(url)) {
        c.send(garbage);
        Reply r = Reply.of(c.read());
        assertSane(r);
        assertThat(r.status()).as(garbage).isEqualTo(400);
        assertThat(r.body()).as(garbage).isEqualTo(error(209, INVALID, "malformed HTTP request"));
        assertThat(c.closedByServer()).isTrue();
      }
      assertThat(state()).isEqualTo(before);
    }
  }

  @Test
  void keysWithoutTheTrailingSlashListsTheRoot() {
    String withSlash = curl.get("/v1/keys/").body();
    Reply without = Reply.of(curl.get("/v1/keys"));
    assertThat(without.status()).isEqualTo(200);
    assertThat(without.body()).isEqualTo(withSlash).startsWith("[").contains("{\"action\":\"GET\",\"key\":\"/_etcd\",\"dir\":true,");
  }

  @Test
  void theValueMayComeInTheQueryStringAndTheBodyWins() {
    HttpResponse<String> q = curl.post("/v1/keys/q?value=x");
    assertThat(q.statusCode()).isEqualTo(200);
    assertThat(q.body()).startsWith("{\"action\":\"SET\",\"key\":\"/q\",\"value\":\"x\",\"newKey\":true,");
    HttpResponse<String> both = curl.post("/v1/keys/q?value=fromQuery", "value=fromBody");
    assertThat(both.body()).contains("\"prevValue\":\"x\",\"value\":\"fromBody\"");
    // A body that is not a form is ignored, so the query value is used.
    HttpResponse<String> json = curl.postBody("/v1/keys/q?value=y", "application/json", "{\"value\":\"z\"}".getBytes());
    assertThat(json.body()).contains("\"value\":\"y\"");
    // Escapes in the query: '+' is a space there, as in a form.
    HttpResponse<String> spaced = curl.post("/v1/keys/q?value=a+b%26c");
    assertThat(spaced.body()).contains("\"value\":\"a b&c\"".replace("&", "\\u0026"));
    assertThat(curl.get("/v1/keys/q").body()).contains("\"value\":\"a b\\u0026c\"");
    // And a bad TTL in the query is still 202.
    expectError(() -> Reply.of(curl.post("/v1/keys/q?ttl=abc", "value=w")), 400, 202, TTL_NAN, "Set");
  }

  // ---------------------------------------------------------------- watchers

  @Test
  void pastTheWatcherLimitAWatchGets503WithTheJson() throws Exception {
    try (RawHttp a = watch("/v1/watch/many"); RawHttp b = watch("/v1/watch/many/x")) {
      Thread.sleep(300); // let both register
      expectError(() -> raw(get("/v1/watch/many")), 503, 300, "Raft Internal Error", "too many watchers");
      expectError(() -> Reply.of(curl.post("/v1/watch/other", "index=999999")), 503, 300, "Raft Internal Error",
          "too many watchers");
      // A watch answered from history needs no slot.
      long index = V1Http.index(curl.get("/v1/keys/").body());
      HttpResponse<String> set = curl.post("/v1/keys/many/x", "value=1");
      assertThat(a.read().body()).isEqualTo(set.body());
      assertThat(b.read().body()).isEqualTo(set.body());
      assertThat(curl.post("/v1/watch/many", "index=" + (index + 1)).body()).isEqualTo(set.body());
    }
    // Both slots are free again.
    try (RawHttp a = awaitSlot("/v1/watch/many2"); RawHttp b = awaitSlot("/v1/watch/many2")) {
      HttpResponse<String> set = curl.post("/v1/keys/many2", "value=1");
      assertThat(a.read().body()).isEqualTo(set.body());
      assertThat(b.read().body()).isEqualTo(set.body());
    }
  }

  @Test
  void aClientHangingUpOnALongPollFreesItsSlotQuietly() throws Exception {
    LogCapture logs = LogCapture.start();
    try {
      RawHttp a = watch("/v1/watch/hang");
      RawHttp b = watch("/v1/watch/hang");
      Thread.sleep(300);
      expectError(() -> raw(get("/v1/watch/hang")), 503, 300, "Raft Internal Error", "too many watchers");
      a.close();                                   // orderly hang-up (FIN)
      try (RawHttp c = awaitSlot("/v1/watch/hang")) {
        b.reset();                                 // abrupt hang-up (RST)
        try (RawHttp d = awaitSlot("/v1/watch/hang")) {
          HttpResponse<String> set = curl.post("/v1/keys/hang/k", "value=1");
          assertThat(c.read().body()).isEqualTo(set.body());
          assertThat(d.read().body()).isEqualTo(set.body());
        }
      }
      // A client hanging up mid-body is quiet too.
      try (RawHttp e = new RawHttp(url)) {
        e.send("POST /v1/keys/hang/k HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nContent-Length: 100\r\n\r\nvalue=");
      }
      Thread.sleep(300);
      assertThat(curl.get("/v1/keys/hang/k").body()).contains("\"value\":\"1\"");
    } finally {
      logs.stop();
    }
    // The 503 above writes the node's one-a-minute line about its watcher limit; nothing else may
    // show up, least of all anything about the hang-ups.
    assertThat(logs.text().lines().filter(line -> !line.contains("(maxWatchers)")))
        .as("logged while clients hung up").isEmpty();
  }

  // ---------------------------------------------------------------- helpers

  /** Status, content type and body of a response, from either client. */
  record Reply(int status, String contentType, String body, Map<String, String> headers) {
    static Reply of(HttpResponse<String> r) {
      Map<String, String> h = new TreeMap<>();
      r.headers().map().forEach((k, v) -> h.put(k.toLowerCase(), v.get(0)));
      return new Reply(r.statusCode(), h.get("content-type"), r.body(), h);
    }

    static Reply of(RawHttp.Response r) {
      return new Reply(r.status(), r.header("content-type"), r.body(), r.headers());
    }

    String header(String name) {
      return headers.get(name);
    }
  }

  /** The whole tree (key → value and expiration, directories marked) and the store index. */
  record State(long index, Map<String, String> tree) {}

  static State state() {
    HttpResponse<String> root = curl.get("/v1/keys/");
    assertThat(root.statusCode()).isEqualTo(200);
    List<Map<String, Object>> entries = Json.array(root.body());
    Map<String, String> tree = new TreeMap<>();
    walk(entries, tree);
    return new State((Long) entries.get(0).get("index"), tree);
  }

  private static void walk(List<Map<String, Object>> entries, Map<String, String> tree) {
    for (Map<String, Object> e : entries) {
      String key = (String) e.get("key");
      if (Boolean.TRUE.equals(e.get("dir"))) {
        tree.put(key + "/", "<dir>");
        HttpResponse<String> list = curl.get("/v1/keys" + encodePath(key));
        assertThat(list.statusCode()).isEqualTo(200);
        walk(Json.array(list.body()), tree);
      } else {
        tree.put(key, e.get("value") + " exp=" + e.get("expiration"));
      }
    }
  }

  /** Runs {@code request} and checks the store did not change and the answer is sane. */
  static Reply unchanged(Supplier<Reply> request) {
    State before = state();
    Reply r = request.get();
    assertThat(state()).as("store after %s", r).isEqualTo(before);
    assertSane(r);
    return r;
  }

  static void assertSane(Reply r) {
    assertThat(r.status()).as("a client mistake is never a 500: %s", r).isNotEqualTo(500);
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("java.");
    if (r.status() >= 400 && r.status() != 404 && r.status() != 405) {
      assertThat(r.contentType()).isEqualTo("application/json");
      assertThat(r.body()).startsWith("{\"errorCode\":").endsWith("}\n");
      Json.object(r.body());
    }
  }

  static void expectError(Supplier<Reply> request, int status, int code, String message, String cause) {
    Reply r = unchanged(request);
    assertThat(r.body()).isEqualTo(error(code, message, cause));
    assertThat(r.status()).isEqualTo(status);
  }

  static String error(int code, String message, String cause) {
    return "{\"errorCode\":" + code + ",\"message\":\"" + message + "\",\"cause\":\"" + cause + "\"}\n";
  }

  static Reply raw(String request) {
    return Reply.of(RawHttp.exchange(url, request));
  }

  static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  static String post(String target, String contentType, String body) {
    return request("POST", target, contentType, body);
  }

  static String request(String method, String target) {
    return method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  /** {@code body} is sent as ISO-8859-1: one char, one byte. */
  static String request(String method, String target, String contentType, String body) {
    return method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType
        + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  /** The UTF-8 bytes of {@code s}, one char per byte, for {@link #request}. */
  static String latin1(String s) {
    return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  static String encodePath(String key) {
    StringBuilder sb = new StringBuilder();
    for (String segment : key.substring(1).split("/", -1)) {
      sb.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return sb.toString();
  }

  /** A form body {@code value=vvv...} of exactly {@code size} bytes. */
  static byte[] formOfSize(int size) {
    byte[] body = new byte[size];
    java.util.Arrays.fill(body, (byte) 'v');
    System.arraycopy("value=".getBytes(StandardCharsets.US_ASCII), 0, body, 0, 6);
    return body;
  }

  /** A GET watch sent on its own connection; read its answer with {@link RawHttp#read()}. */
  static RawHttp watch(String target) {
    RawHttp c = new RawHttp(url);
    c.send(get(target));
    return c;
  }

  /** Retries a GET watch until it is registered (not refused with 503) and pending. */
  static RawHttp awaitSlot(String target) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      RawHttp c = watch(target);
      RawHttp.Response r = c.tryRead(300);
      if (r == null) {
        return c;
      }
      c.close();
      assertThat(r.status()).as("watch answered early: %s", r.body()).isEqualTo(503);
      assertThat(System.nanoTime()).as("no watcher slot freed within 5 s").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /** Collects what the node logs (slf4j-simple writes to System.err; java.util.logging records). */
  static final class LogCapture {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final List<String> records = Collections.synchronizedList(new ArrayList<>());
    private final Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
          records.add(record.getLevel() + " " + record.getLoggerName() + ": " + record.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };

    static LogCapture start() {
      LogCapture c = new LogCapture();
      System.setErr(new PrintStream(new OutputStream() {
        @Override
        public void write(int b) {
          c.original.write(b);
          synchronized (c.err) {
            c.err.write(b);
          }
        }

        @Override
        public void write(byte[] b, int off, int len) {
          c.original.write(b, off, len);
          synchronized (c.err) {
            c.err.write(b, off, len);
          }
        }
      }, true));
      Logger.getLogger("").addHandler(c.handler);
      return c;
    }

    void stop() {
      System.setErr(original);
      Logger.getLogger("").removeHandler(handler);
    }

    String text() {
      synchronized (err) {
        return err.toString(StandardCharsets.UTF_8) + String.join("\n", records);
      }
    }
  }
}
