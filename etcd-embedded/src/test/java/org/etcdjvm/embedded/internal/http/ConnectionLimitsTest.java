package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.RawHttp;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.junit.jupiter.api.Test;

/**
 * One client cannot take the HTTP server away from the others: connection caps per address,
 * deadlines for idle, slow and silent connections, the budget of buffered request bytes, and
 * backpressure on a client that does not read. A real server on 127.0.0.1 in front of a
 * {@link FakeReplica}; the abusers connect from other loopback addresses (127.0.0.2, ...), and a
 * {@link NormalClient} from 127.0.0.1 is served alongside every abuse.
 */
class ConnectionLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String ABUSER = "127.0.0.2";

  @Test
  void oneAddressCannotTakeEveryConnection() throws Exception {
    HttpConfig config = TestServer.config().maxConnections(60).maxConnectionsPerAddress(20).build();
    List<RawHttp> abuser = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      for (int i = 0; i < 20; i++) {
        RawHttp c = new RawHttp(node.url, ABUSER);
        abuser.add(c);
        c.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(200);
      }
      for (int i = 0; i < 5; i++) {
        try (RawHttp refused = new RawHttp(node.url, ABUSER)) {
          assertThat(refused.closedByServer()).as("connection 21 from the same address").isTrue();
        }
      }
      NormalClient.isServed(node.url);
      assertThat(node.warnings()).hasSize(1);
      assertThat(node.warnings().get(0)).startsWith("client 127.0.0.2:")
          .contains("2" + "0 connections open from this address (maxConnectionsPerAddress)");

      abuser.remove(0).close();
      Await.until(WAIT, () -> {
        try (RawHttp again = new RawHttp(node.url, ABUSER)) {
          again.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
          return again.tryRead(1_000) != null;
        } catch (UncheckedIOException closed) {
          return false;
        }
      }, () -> "a slot freed by the abuser is not given back to it");
    } finally {
      abuser.forEach(RawHttp::close);
    }
  }

  @Test
  void idleAndSilentConnectionsAreClosedButALongPollIsNot() throws Exception {
    HttpConfig config = TestServer.config().idleTimeout(Duration.ofMillis(300))
        .readHeaderTimeout(Duration.ofMillis(300)).build();
    try (TestServer node = new TestServer(config);
        RawHttp watch = new RawHttp(node.url)) {
      watch.send("GET /v1/watch/w HTTP/1.1\r\nHost: x\r\n\r\n");
      // Three idle connections in a row, each opened after the previous one was closed: the watch has
      // then waited through at least three idle timeouts.
      for (int i = 0; i < 3; i++) {
        try (RawHttp idle = new RawHttp(node.url)) {
          idle.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
          assertThat(idle.read().status()).isEqualTo(200);
          assertThat(idle.closedByServer()).as("idle keep-alive connection closed").isTrue();
        }
      }
      try (RawHttp silent = new RawHttp(node.url, ABUSER)) {
        assertThat(silent.closedByServer()).as("connection that never sent a request closed").isTrue();
      }
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("no request within 300 ms of connecting (readHeaderTimeout)"));

      NormalClient.isServed(node.url); // writes /normal, which the watch on /w does not see
      node.replica.submit(new SetOp("/w/k", "1", null, null, false)).get();
      RawHttp.Response woken = watch.read();
      assertThat(woken.status()).isEqualTo(200);
      assertThat(woken.body()).contains("\"key\":\"/w/k\"");
    }
  }

  @Test
  void aTricklingRequestGets408AndIsClosed() throws Exception {
    HttpConfig config = TestServer.config().readHeaderTimeout(Duration.ofMillis(500)).build();
    try (TestServer node = new TestServer(config);
        RawHttp slow = new RawHttp(node.url, ABUSER)) {
      slow.send("GET /version HTTP/1.1\r\n");
      Thread trickle = new Thread(() -> {
        try {
          for (int i = 0; i < 200; i++) {
            slow.send("X-" + i + ": y\r\n");
            Thread.sleep(50);
          }
        } catch (UncheckedIOException | InterruptedException closedOrDone) {
          // the server hung up: that is the point
        }
      });
      trickle.start();
      NormalClient.isServed(node.url);
      RawHttp.Response r = slow.read();
      assertThat(r.status()).isEqualTo(408);
      assertThat(r.header("connection")).isEqualTo("close");
      assertThat(r.body()).isEqualTo("{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
          + "\"request headers did not arrive within 500 ms (readHeaderTimeout)\"}\n");
      assertThat(slow.closedByServer()).isTrue();
      trickle.interrupt();
      trickle.join();
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("readHeaderTimeout"));
    }
  }

  @Test
  void theHeaderDeadlineRunsFromTheFirstByteEvenWhenItCameWithThePreviousRequest() throws Exception {
    HttpConfig config = TestServer.config().readHeaderTimeout(Duration.ofMillis(300)).build(); // idle: 60 s
    // The next request's start in the same packet as the previous request's end: cut mid-line, or
    // right after a complete header line (which the decoder consumes without a sign outside it).
    for (String partial : new String[] {"GET /vers", "GET /version HTTP/1.1\r\nHost: x\r\n"}) {
      try (TestServer node = new TestServer(config);
          RawHttp c = new RawHttp(node.url, ABUSER)) {
        c.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n" + partial);
        assertThat(c.read().status()).isEqualTo(200);
        RawHttp.Response timedOut = c.read(); // well before the 60 s idle timeout and RawHttp's 15 s
        assertThat(timedOut.status()).as(partial).isEqualTo(408);
        assertThat(timedOut.body()).contains("(readHeaderTimeout)");
      }
    }
  }

  @Test
  void aBodyThatStopsHalfWayGets408AndItsReservationIsReleased() throws Exception {
    HttpConfig config = TestServer.config().readBodyTimeout(Duration.ofMillis(500)).build();
    try (TestServer node = new TestServer(config);
        RawHttp slow = new RawHttp(node.url, ABUSER)) {
      slow.send("PUT /v1/keys/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          + "Content-Length: 100000\r\n\r\nvalue=" + "x".repeat(1000));
      Await.until(WAIT, () -> node.server.bufferedRequestBytes() == 100_000,
          () -> "declared body not reserved: " + node.server.bufferedRequestBytes());
      NormalClient.isServed(node.url);
      RawHttp.Response r = slow.read();
      assertThat(r.status()).isEqualTo(408);
      assertThat(r.body()).contains("request body did not arrive within 500 ms of its headers (readBodyTimeout)");
      assertThat(slow.closedByServer()).isTrue();
      Await.until(WAIT, () -> node.server.bufferedRequestBytes() == 0,
          () -> "still reserved: " + node.server.bufferedRequestBytes());
      assertThat(node.replica.store().get("/").children()).noneMatch(e -> e.key().equals("/slow"));
    }
  }

  @Test
  void oneAddressGetsAQuarterOfTheRequestBytesAndTheNodeNoMoreThanItsBudget() throws Exception {
    int body = 256 * 1024;
    HttpConfig config = TestServer.config().maxBodyBytes(body).maxBufferedRequestBytes(4L * body)
        .maxBufferedRequestBytesPerAddress(body).build();
    List<RawHttp> holders = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      // Four addresses each hold one unfinished body at the limit: the node's budget is full.
      for (String address : new String[] {ABUSER, "127.0.0.3", "127.0.0.4", "127.0.0.5"}) {
        RawHttp c = new RawHttp(node.url, address);
        holders.add(c);
        c.send(putHeaders(body) + "value=");
        long expected = (long) holders.size() * body;
        Await.until(WAIT, () -> node.server.bufferedRequestBytes() == expected,
            () -> "reserved " + node.server.bufferedRequestBytes() + ", expected " + expected);
      }
      // A second body from the same address: 503 before its body is read; sent anyway, it is dropped
      // and the connection goes on.
      try (RawHttp c = new RawHttp(node.url, ABUSER)) {
        c.send(putHeaders(body));
        RawHttp.Response refused = c.read();
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.body()).isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"cause\":"
            + "\"too many request bytes buffered from this address\"}\n");
        c.send("value=" + "x".repeat(body - 6) + "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().body()).isEqualTo("etcd v0.1.2");
      }
      // Another address: the node is full.
      try (RawHttp c = new RawHttp(node.url, "127.0.0.6")) {
        c.send(putHeaders(body));
        assertThat(c.read().body()).contains("\"cause\":\"too many request bytes buffered on this node\"");
      }
      // A chunked body that grows past the share: 503 and the connection is closed.
      try (RawHttp c = new RawHttp(node.url, ABUSER)) {
        c.send("PUT /v1/keys/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n6\r\nvalue=\r\n");
        RawHttp.Response refused = c.read();
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("connection")).isEqualTo("close");
        assertThat(c.closedByServer()).isTrue();
      }
      // Requests without a body need no budget: a GET is served even now. (The normal client's PUT
      // needs a few bytes, and the node has none left.)
      try (RawHttp c = new RawHttp(node.url, "127.0.0.1")) {
        c.send("GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(200);
      }
      holders.remove(holders.size() - 1).close();
      // the node gives the bytes back once it sees the connection close (on its event loop, later)
      Await.until(WAIT, () -> node.server.bufferedRequestBytes() == 3L * body,
          () -> "after one holder left: reserved " + node.server.bufferedRequestBytes());
      NormalClient.isServed(node.url);
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("maxBufferedRequestBytesPerAddress"));
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.6:")
          .contains("(maxBufferedRequestBytes " + 4 * body + ")"));
      holders.forEach(RawHttp::close);
      Await.until(WAIT, () -> node.server.bufferedRequestBytes() == 0,
          () -> "still reserved after every client left: " + node.server.bufferedRequestBytes());
    } finally {
      holders.forEach(RawHttp::close);
    }
  }

  @Test
  void aClientThatDoesNotReadIsNotAnsweredAheadAndIsClosedAfterTheWriteTimeout() throws Exception {
    HttpConfig config = TestServer.config().writeTimeout(Duration.ofSeconds(1)).build();
    try (TestServer node = new TestServer(config);
        RawHttp abuser = new RawHttp(node.url, ABUSER)) {
      node.replica.submit(set("/big", "b".repeat(256 * 1024))).get();
      // 600 pipelined GETs of a 256 KiB value, never read: 150 MiB of answers if all were rendered.
      abuser.send("GET /v1/keys/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(600));
      for (int i = 0; i < 4; i++) {
        NormalClient.isServed(node.url); // on fresh connections, so some share the abuser's event loop
      }
      Await.until(WAIT, () -> node.server.openConnections() == 0,
          () -> node.server.openConnections() + " connections still open");
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("none of its responses for 1000 ms (writeTimeout)"));
      // Only what fit in the socket buffers (and one answer beyond the high-water mark) was rendered.
      long answered = drain(abuser) / (256 * 1024);
      assertThat(answered).isLessThan(150);
      try (RawHttp c = new RawHttp(node.url)) {
        c.send("GET /v1/stats/store HTTP/1.1\r\nHost: x\r\n\r\n");
        String stats = c.read().body();
        long gets = Long.parseLong(stats.replaceAll(".*\"gets\":(\\d+).*", "$1"));
        assertThat(gets).as(stats).isLessThan(150 + 4);
      }
    }
  }

  private static String putHeaders(int contentLength) {
    return "PUT /v1/keys/held HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        + "Content-Length: " + contentLength + "\r\n\r\n";
  }

  /** Reads until the server closes the connection; returns how many bytes came. */
  static long drain(RawHttp c) {
    InputStream in = c.input();
    byte[] buffer = new byte[64 * 1024];
    long total = 0;
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        total += n;
      }
    } catch (IOException reset) {
      // closed as well
    }
    return total;
  }

  static SetOp set(String key, String value) {
    return new SetOp(key, value, null, null, false);
  }
}
