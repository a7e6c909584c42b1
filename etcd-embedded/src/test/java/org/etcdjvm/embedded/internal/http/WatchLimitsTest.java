package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.RawHttp;
import org.junit.jupiter.api.Test;

/** Watches over real connections to a server in front of a {@link FakeReplica}: fan-out and per-address slots. */
class WatchLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ABUSER = "127.0.0.2";

  private static RawHttp watch(String url, String from, String target) {
    RawHttp c = new RawHttp(url, from);
    c.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return c;
  }

  @Test
  void fiveHundredWatchersOfA500KbWriteAllGetItAndTheWriteIsAnswered() throws Exception {
    HttpConfig config = TestServer.config().maxWatchersPerAddress(1_000).build();
    List<RawHttp> watchers = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      for (int i = 0; i < 500; i++) {
        watchers.add(watch(node.url, null, "/v1/watch/fan"));
      }
      Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 500,
          () -> node.replica.store().watches().activeWatchers() + " of 500 registered");
      String value = "f".repeat(500_000);
      RawHttp.Response written;
      try (RawHttp writer = new RawHttp(node.url)) {
        writer.setReadTimeout(20_000);
        String body = "value=" + value;
        writer.send("PUT /v1/keys/fan/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: " + body.length() + "\r\n\r\n" + body);
        written = writer.read();
      }
      assertThat(written.status()).isEqualTo(200);
      for (RawHttp w : watchers) {
        w.setReadTimeout(20_000);
        assertThat(w.read().bytes()).isEqualTo(written.bytes());
      }
      assertThat(node.replica.store().watches().activeWatchers()).isZero();
      NormalClient.isServed(node.url);
    } finally {
      watchers.forEach(RawHttp::close);
    }
  }

  @Test
  void aWatchFromTheLargestIndexHoldsItsSlotOnlyWhileItsConnectionLives() throws Exception {
    HttpConfig config = TestServer.config().maxWatchersPerAddress(1).build();
    try (TestServer node = new TestServer(config)) {
      String form = "index=18446744073709551615"; // 2^64-1: no store will get there
      RawHttp forever = new RawHttp(node.url, ABUSER);
      forever.send("POST /v1/watch/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          + "Content-Length: " + form.length() + "\r\n\r\n" + form);
      Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 1, () -> "the watch registered");
      try (RawHttp second = watch(node.url, ABUSER, "/v1/watch/y")) {
        assertThat(second.read().status()).isEqualTo(503);
      }
      forever.close();
      Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 0, () -> "slot still held");
      try (RawHttp third = watch(node.url, ABUSER, "/v1/watch/y")) {
        Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 1, () -> "a new watch registered");
      }
    }
  }

  @Test
  void oneAddressCannotTakeEveryWatcherSlot() throws Exception {
    HttpConfig config = TestServer.config().maxWatchersPerAddress(5).build();
    List<RawHttp> abuser = new ArrayList<>();
    try (TestServer node = new TestServer(config)) {
      for (int i = 0; i < 5; i++) {
        abuser.add(watch(node.url, ABUSER, "/v1/watch/a" + i));
      }
      Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 5, () -> "5 watches registered");
      try (RawHttp sixth = watch(node.url, ABUSER, "/v1/watch/a")) {
        RawHttp.Response refused = sixth.read();
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.body()).isEqualTo("{\"errorCode\":300,\"message\":\"Raft Internal Error\","
            + "\"cause\":\"too many watchers from this address\"}\n");
        // A watch answered from history needs no slot.
        node.replica.submit(ConnectionLimitsTest.set("/history", "1")).get();
        sixth.send("POST /v1/watch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Content-Length: 7\r\n\r\nindex=1");
        assertThat(sixth.read().body()).contains("\"key\":\"/history\"");
      }
      assertThat(node.warnings()).anySatisfy(w -> assertThat(w).startsWith("client 127.0.0.2:")
          .contains("(maxWatchersPerAddress)"));
      // Another address still watches, and a normal client is served.
      try (RawHttp other = watch(node.url, "127.0.0.1", "/v1/watch/normal")) {
        Await.until(WAIT, () -> node.replica.store().watches().activeWatchers() == 6, () -> "6 watches registered");
        NormalClient.isServed(node.url);
        assertThat(other.read().body()).contains("\"key\":\"/normal\"");
      }
      // A hang-up gives the slot back.
      abuser.remove(0).close();
      Await.until(WAIT, () -> {
        RawHttp again = watch(node.url, ABUSER, "/v1/watch/again");
        RawHttp.Response r = again.tryRead(300);
        if (r == null) {
          abuser.add(again); // registered: waiting
          return true;
        }
        again.close();
        return false;
      }, () -> "the slot of a closed watch was not freed");
    } finally {
      abuser.forEach(RawHttp::close);
    }
  }
}
