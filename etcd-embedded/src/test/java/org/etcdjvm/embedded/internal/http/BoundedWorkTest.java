package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.RawHttp;
import org.etcdjvm.embedded.internal.store.GetResult;
import org.junit.jupiter.api.Test;

/**
 * Work per request is bounded: the write queue ({@code maxPendingWrites}) and directory listings
 * ({@code maxListingEntries}, written in chunks as the client reads). A real server in front of a
 * {@link FakeReplica}.
 */
class BoundedWorkTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String FORM = "application/x-www-form-urlencoded";

  /** A form PUT of {@code value} to {@code /v1/keys + key}. */
  static String put(String key, String value) {
    String body = "value=" + value;
    return "PUT /v1/keys" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM + "\r\nContent-Length: "
        + body.length() + "\r\n\r\n" + body;
  }

  @Test
  void pastTheWriteQueueBoundAWriteIs503AndNeverSubmitted() throws Exception {
    HttpConfig config = TestServer.config().maxPendingWrites(3).build();
    List<RawHttp> waiting = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      node.replica.holdWrites(true);
      for (int i = 0; i < 3; i++) {
        RawHttp c = new RawHttp(node.url);
        waiting.add(c);
        c.send(put("/q" + i, "v" + i));
      }
      Await.until(WAIT, () -> node.replica.submitted() == 3, () -> node.replica.submitted() + " of 3 submitted");
      try (RawHttp c = new RawHttp(node.url, "127.0.0.2")) {
        c.send(put("/refused", "x"));
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\","
            + "\"cause\":\"too many pending writes\"}\n");
        // Reads are not writes: still served.
        c.send("GET /v1/keys/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(200);
      }
      assertThat(node.replica.submitted()).isEqualTo(3);
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("3 writes waiting for Raft on this node (maxPendingWrites)"));

      node.replica.holdWrites(false);
      node.replica.releaseHeldWrites();
      for (RawHttp c : waiting) {
        assertThat(c.read().status()).isEqualTo(200);
      }
      NormalClient.isServed(node.url);
      assertThat(node.replica.store().index()).isEqualTo(4); // q0, q1, q2 and the normal client's write
      assertThat(node.replica.store().get("/").children()).noneMatch(e -> e.key().equals("/refused"));
    } finally {
      waiting.forEach(RawHttp::close);
    }
  }

  @Test
  void oneAddressGetsAQuarterOfTheWriteQueue() throws Exception {
    HttpConfig config = TestServer.config().maxPendingWrites(10).maxPendingWritesPerAddress(2).build();
    List<RawHttp> waiting = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      node.replica.holdWrites(true);
      for (int i = 0; i < 2; i++) {
        RawHttp c = new RawHttp(node.url, "127.0.0.2");
        waiting.add(c);
        c.send(put("/a" + i, "v"));
      }
      Await.until(WAIT, () -> node.replica.submitted() == 2, () -> node.replica.submitted() + " of 2 submitted");
      try (RawHttp c = new RawHttp(node.url, "127.0.0.2")) {
        c.send(put("/a2", "v"));
        assertThat(c.read().body()).isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\","
            + "\"cause\":\"too many pending writes from this address\"}\n");
      }
      RawHttp other = new RawHttp(node.url, "127.0.0.3");
      waiting.add(other);
      other.send(put("/b", "v"));
      Await.until(WAIT, () -> node.replica.submitted() == 3, () -> "the other address's write was not submitted");
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("(maxPendingWritesPerAddress)"));
      node.replica.holdWrites(false);
      node.replica.releaseHeldWrites();
      for (RawHttp c : waiting) {
        assertThat(c.read().status()).isEqualTo(200);
      }
      // The slots are given back: the address writes again.
      try (RawHttp c = new RawHttp(node.url, "127.0.0.2")) {
        c.send(put("/a3", "v"));
        assertThat(c.read().status()).isEqualTo(200);
      }
    } finally {
      waiting.forEach(RawHttp::close);
    }
  }

  @Test
  void aDirectoryLargerThanTheListingLimitIs400() throws Exception {
    HttpConfig config = TestServer.config().maxListingEntries(10).build();
    try (TestServer node = new TestServer(config)) {
      for (int i = 0; i < 10; i++) {
        node.replica.submit(ConnectionLimitsTest.set("/dir/k" + i, "v")).get();
      }
      try (RawHttp c = new RawHttp(node.url)) {
        c.send("GET /v1/keys/dir HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(200);
        node.replica.submit(ConnectionLimitsTest.set("/dir/k10", "v")).get();
        c.send("GET /v1/keys/dir HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("{\"errorCode\":209,\"message\":\"Invalid field\","
            + "\"cause\":\"get: /dir has more than 10 entries\"}\n");
        // A key in it is still read as usual.
        c.send("GET /v1/keys/dir/k10 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().body()).contains("\"value\":\"v\"");
      }
    }
  }

  @Test
  void aLargeListingIsStreamedWithItsExactLengthAndByteForByteTheSame() throws Exception {
    try (TestServer node = new TestServer(TestServer.config().build())) {
      String value = "é<&>\"\u2028".repeat(100); // escapes, and more bytes than chars
      for (int i = 0; i < 2_000; i++) {
        node.replica.submit(ConnectionLimitsTest.set("/many/k" + i, value + i)).get();
      }
      GetResult listing = node.replica.store().get("/many");
      byte[] expected = V1Json.events(listing.children(), Instant.now(), ZoneId.systemDefault());
      assertThat(expected.length).isGreaterThan(20 * ListingBody.CHUNK_BYTES);
      try (RawHttp c = new RawHttp(node.url)) {
        // Pipelined: the request after the listing is answered after it, in order.
        c.send("GET /v1/keys/many HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nHost: x\r\n\r\n");
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).isEqualTo("application/json");
        assertThat(r.header("content-length")).isEqualTo(Integer.toString(expected.length));
        assertThat(r.bytes()).isEqualTo(expected);
        assertThat(c.read().body()).isEqualTo("etcd v0.1.2");
      }
      // HTTP/1.0 without keep-alive: the whole listing, then the connection closes.
      try (RawHttp c = new RawHttp(node.url)) {
        c.send("GET /v1/keys/many HTTP/1.0\r\n\r\n");
        RawHttp.Response r = c.read();
        assertThat(r.header("connection")).isEqualTo("close");
        assertThat(r.bytes()).isEqualTo(expected);
        assertThat(c.closedByServer()).isTrue();
      }
    }
  }

  @Test
  void aClientThatDoesNotReadALargeListingHoldsOneChunkAndIsClosed() throws Exception {
    HttpConfig config = TestServer.config().writeTimeout(Duration.ofSeconds(1)).build();
    try (TestServer node = new TestServer(config);
        RawHttp abuser = new RawHttp(node.url, "127.0.0.2")) {
      String value = "L".repeat(100_000);
      for (int i = 0; i < 500; i++) {
        node.replica.submit(ConnectionLimitsTest.set("/huge/k" + i, value)).get();
      }
      // 10 pipelined listings of 50 MB each, never read.
      abuser.send("GET /v1/keys/huge HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10));
      NormalClient.isServed(node.url);
      Await.until(WAIT, () -> node.server.openConnections() == 0,
          () -> node.server.openConnections() + " connections still open");
      long received = ConnectionLimitsTest.drain(abuser);
      assertThat(received).isLessThan(50_000_000L);
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("(writeTimeout)"));
    }
  }
}
