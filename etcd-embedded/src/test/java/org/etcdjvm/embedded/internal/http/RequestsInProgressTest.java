package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.RawHttp;
import org.junit.jupiter.api.Test;

/**
 * {@code maxRequestsInProgressPerAddress}: beyond it, an address's requests wait unread, nothing
 * is refused, other addresses are served, watches do not count, and turns are never lost. A real
 * server in front of a {@link FakeReplica}.
 */
class RequestsInProgressTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String ABUSER = "127.0.0.2";
  private static final String OTHER = "127.0.0.3";

  private static String put(String key) {
    return BoundedWorkTest.put(key, "v");
  }

  private static final String GET = "GET /v1/keys/ HTTP/1.1\r\nHost: x\r\n\r\n";

  @Test
  void pastItsTurnsAnAddressWaitsWhileOthersAreServedAndNothingIsRefused() throws Exception {
    HttpConfig config = TestServer.config().maxRequestsInProgressPerAddress(2).build();
    List<RawHttp> conns = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      node.replica.holdWrites(true);
      for (int i = 0; i < 2; i++) {
        RawHttp c = new RawHttp(node.url, ABUSER);
        conns.add(c);
        c.send(put("/a" + i));
      }
      Await.until(WAIT, () -> node.replica.submitted() == 2, () -> node.replica.submitted() + " of 2 submitted");
      // The address's two turns are taken: its third write and a read wait, unread.
      RawHttp third = new RawHttp(node.url, ABUSER);
      conns.add(third);
      third.send(put("/a2"));
      RawHttp read = new RawHttp(node.url, ABUSER);
      conns.add(read);
      read.send(GET);
      // Another address is served at once, its write submitted (sent after the waiting ones).
      try (RawHttp other = new RawHttp(node.url, OTHER)) {
        other.send(GET);
        assertThat(other.read().status()).isEqualTo(200);
        other.send(put("/b"));
        Await.until(WAIT, () -> node.replica.submitted() == 3, () -> "the other address's write was not submitted");
        assertThat(read.tryRead(200)).as("a read beyond the address's turns waits").isNull();
        assertThat(node.replica.submitted()).as("the third write waits, unsubmitted").isEqualTo(3);

        node.replica.holdWrites(false);
        node.replica.releaseHeldWrites();
        assertThat(other.read().status()).isEqualTo(200);
      }
      for (RawHttp c : conns) {
        assertThat(c.read().status()).isEqualTo(200);
      }
      assertThat(node.replica.submitted()).isEqualTo(4);
      assertThat(node.replica.store().get("/a2").node().value()).isEqualTo("v");
      assertThat(node.warnings()).singleElement().satisfies(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .endsWith("request waits unread: 2 requests from this address in progress (maxRequestsInProgressPerAddress)"));
    } finally {
      conns.forEach(RawHttp::close);
    }
  }

  @Test
  void aLongPollWatchHoldsNoTurn() throws Exception {
    HttpConfig config = TestServer.config().maxRequestsInProgressPerAddress(1).build();
    try (TestServer node = new TestServer(config);
        RawHttp watch = new RawHttp(node.url, ABUSER);
        RawHttp writer = new RawHttp(node.url, ABUSER)) {
      watch.send("GET /v1/watch/w HTTP/1.1\r\nHost: x\r\n\r\n");
      Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 1, () -> "the watch registered");
      writer.send(put("/w"));
      assertThat(writer.read().status()).isEqualTo(200);
      assertThat(watch.read().body()).contains("\"key\":\"/w\"");
      // The watch's connection takes a turn again for its next request.
      watch.send(GET);
      assertThat(watch.read().status()).isEqualTo(200);
    }
  }

  @Test
  void turnsOfConnectionsThatHangUpAreGivenBack() throws Exception {
    HttpConfig config = TestServer.config().maxRequestsInProgressPerAddress(1).build();
    try (TestServer node = new TestServer(config)) {
      node.replica.holdWrites(true);
      RawHttp holder = new RawHttp(node.url, ABUSER);
      holder.send(put("/h"));
      Await.until(WAIT, () -> node.replica.submitted() == 1, () -> "the first write was not submitted");
      // One waits for the turn and hangs up; the holder hangs up with its write still in Raft.
      RawHttp waiter = new RawHttp(node.url, ABUSER);
      waiter.send(put("/gone"));
      assertThat(waiter.tryRead(200)).isNull();
      waiter.reset();
      holder.reset();
      node.replica.holdWrites(false);
      node.replica.releaseHeldWrites();
      // Neither turn is lost: the address is served again, for reads and writes.
      try (RawHttp again = new RawHttp(node.url, ABUSER)) {
        again.send(put("/again"));
        assertThat(again.read().status()).isEqualTo(200);
        again.send(GET);
        assertThat(again.read().status()).isEqualTo(200);
      }
      try (RawHttp a = new RawHttp(node.url, ABUSER); RawHttp b = new RawHttp(node.url, ABUSER)) {
        a.send(GET);
        b.send(GET);
        assertThat(a.read().status()).isEqualTo(200);
        assertThat(b.read().status()).isEqualTo(200);
      }
    }
  }

  @Test
  void pipelinedRequestsOnOneConnectionUseOneTurn() throws Exception {
    HttpConfig config = TestServer.config().maxRequestsInProgressPerAddress(1).build();
    try (TestServer node = new TestServer(config); RawHttp c = new RawHttp(node.url, ABUSER)) {
      c.send(put("/p1") + GET + put("/p2") + GET);
      for (int i = 0; i < 4; i++) {
        assertThat(c.read().status()).isEqualTo(200);
      }
      assertThat(node.replica.store().get("/p2").node().value()).isEqualTo("v");
    }
  }
}
